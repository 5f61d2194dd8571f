/* A tiny JSON reader for the host tests only (reads vectors.json); not part of the firmware library. */
#ifndef JSON_MINI_H
#define JSON_MINI_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype_t;

typedef struct jnode {
    jtype_t type;
    bool b;
    double num;
    char *str; /* J_STR: decoded, NUL-terminated UTF-8 */
    size_t len;
    char *key; /* set when the node is an object member */
    struct jnode *child, *next;
} jnode_t;

/* Parses text; returns NULL on a syntax error (with *err set to the offset). */
jnode_t *json_parse(const char *text, size_t *err);
void json_free(jnode_t *n);
const jnode_t *json_get(const jnode_t *obj, const char *key);
size_t json_count(const jnode_t *n);
const jnode_t *json_at(const jnode_t *arr, size_t i);
/* Order-insensitive for objects, exact for numbers; writes a path to the first difference into why. */
bool json_equal(const jnode_t *a, const jnode_t *b, char *why, size_t why_len);

#endif
