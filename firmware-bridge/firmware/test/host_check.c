/* Pass/fail reporting and small helpers every host test file shares (see host_check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"

int g_pass, g_fail;
char g_why[512];

bool failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_why, sizeof g_why, fmt, ap);
    va_end(ap);
    return false;
}

void report(bool ok, const char *what)
{
    if (ok) {
        g_pass++;
        printf("ok %s\n", what);
    } else {
        g_fail++;
        printf("FAIL %s: %s\n", what, g_why);
    }
    g_why[0] = '\0';
}

/* ------------------------------------------------------------------ helpers */

size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (h[0] && h[1] && n < cap) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

void print_hex(const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) printf("%02x", b[i]);
}

bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const char *what)
{
    size_t i;
    if (an == bn && memcmp(a, b, an) == 0) return true;
    for (i = 0; i < an && i < bn && a[i] == b[i]; i++) {
    }
    return failf("%s differ at byte %zu (lengths %zu vs %zu)", what, i, an, bn);
}

char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    long n;
    char *s;
    if (fp == NULL) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, fp) != (size_t)n) {
        fclose(fp);
        free(s);
        return NULL;
    }
    s[n] = '\0';
    fclose(fp);
    return s;
}

void sink_write(void *ctx, const uint8_t *data, size_t len)
{
    sink_t *s = ctx;
    if (s->len + len <= sizeof s->buf) memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->calls++;
}
