/* Pass/fail reporting and small helpers every host test file shares. */
#ifndef HOST_CHECK_H
#define HOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tests passed and failed so far; why the last check failed */
extern int g_pass, g_fail;
extern char g_why[512];

/* Records why a check failed (printf format) and returns false. */
bool failf(const char *fmt, ...);

#define EXPECT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) return failf("line %d: %s", __LINE__, #cond);                    \
    } while (0)
#define EXPECT_EQ(a, b)                                                               \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) return failf("line %d: %s == %lld, expected %lld", __LINE__, #a, a_, b_); \
    } while (0)

/* One "ok WHAT" or "FAIL WHAT: why" line, counted. */
void report(bool ok, const char *what);

size_t unhex(const char *h, uint8_t *out, size_t cap);
void print_hex(const uint8_t *b, size_t n);
bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const char *what);
/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *read_file(const char *path);

/* Collects what a serial writer writes. */
typedef struct {
    uint8_t buf[4096];
    size_t len;
    int calls;
} sink_t;
void sink_write(void *ctx, const uint8_t *data, size_t len);

#endif
