#include "json_mini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t pos;
    bool bad;
} parser_t;

static void ws(parser_t *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r' || p->s[p->pos] == '\t') {
        p->pos++;
    }
}

static jnode_t *node(jtype_t t)
{
    jnode_t *n = calloc(1, sizeof *n);
    if (n == NULL) {
        abort();
    }
    n->type = t;
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *parse_string(parser_t *p, size_t *out_len)
{
    size_t cap = 16, len = 0;
    char *out = malloc(cap);
    if (out == NULL) abort();
    if (p->s[p->pos] != '"') {
        p->bad = true;
        free(out);
        return NULL;
    }
    p->pos++;
    for (;;) {
        char c = p->s[p->pos++];
        unsigned cp;
        if (len + 5 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            if (out == NULL) abort();
        }
        if (c == '\0') {
            p->bad = true;
            free(out);
            return NULL;
        }
        if (c == '"') break;
        if (c != '\\') {
            out[len++] = c;
            continue;
        }
        c = p->s[p->pos++];
        switch (c) {
        case 'n': out[len++] = '\n'; break;
        case 't': out[len++] = '\t'; break;
        case 'r': out[len++] = '\r'; break;
        case 'b': out[len++] = '\b'; break;
        case 'f': out[len++] = '\f'; break;
        case 'u': {
            int i;
            cp = 0;
            for (i = 0; i < 4; i++) {
                int h = hexval(p->s[p->pos++]);
                if (h < 0) {
                    p->bad = true;
                    free(out);
                    return NULL;
                }
                cp = cp * 16u + (unsigned)h;
            }
            /* BMP only: the vectors need no surrogate pairs */
            if (cp < 0x80u) {
                out[len++] = (char)cp;
            } else if (cp < 0x800u) {
                out[len++] = (char)(0xC0u | (cp >> 6));
                out[len++] = (char)(0x80u | (cp & 0x3Fu));
            } else {
                out[len++] = (char)(0xE0u | (cp >> 12));
                out[len++] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
                out[len++] = (char)(0x80u | (cp & 0x3Fu));
            }
            break;
        }
        default: out[len++] = c; break;
        }
    }
    out[len] = '\0';
    *out_len = len;
    return out;
}

static jnode_t *parse_value(parser_t *p, int depth)
{
    jnode_t *n;
    ws(p);
    if (depth > 64) {
        p->bad = true;
        return NULL;
    }
    switch (p->s[p->pos]) {
    case '{':
    case '[': {
        bool obj = p->s[p->pos] == '{';
        jnode_t **tail;
        n = node(obj ? J_OBJ : J_ARR);
        tail = &n->child;
        p->pos++;
        ws(p);
        if (p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            return n;
        }
        for (;;) {
            char *key = NULL;
            jnode_t *v;
            size_t kl;
            ws(p);
            if (obj) {
                key = parse_string(p, &kl);
                if (key == NULL) return n;
                ws(p);
                if (p->s[p->pos++] != ':') {
                    p->bad = true;
                    free(key);
                    return n;
                }
            }
            v = parse_value(p, depth + 1);
            if (v == NULL) {
                free(key);
                return n;
            }
            v->key = key;
            *tail = v;
            tail = &v->next;
            ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == (obj ? '}' : ']')) {
                p->pos++;
                return n;
            }
            p->bad = true;
            return n;
        }
    }
    case '"':
        n = node(J_STR);
        n->str = parse_string(p, &n->len);
        return n;
    case 't':
    case 'f':
        n = node(J_BOOL);
        n->b = p->s[p->pos] == 't';
        if (strncmp(p->s + p->pos, n->b ? "true" : "false", n->b ? 4 : 5) != 0) p->bad = true;
        p->pos += n->b ? 4 : 5;
        return n;
    case 'n':
        n = node(J_NULL);
        if (strncmp(p->s + p->pos, "null", 4) != 0) p->bad = true;
        p->pos += 4;
        return n;
    default: {
        char *end;
        n = node(J_NUM);
        n->num = strtod(p->s + p->pos, &end);
        if (end == p->s + p->pos) p->bad = true;
        p->pos = (size_t)(end - p->s);
        return n;
    }
    }
}

jnode_t *json_parse(const char *text, size_t *err)
{
    parser_t p = {text, 0, false};
    jnode_t *root = parse_value(&p, 0);
    ws(&p);
    if (p.bad || root == NULL || p.s[p.pos] != '\0') {
        if (err) *err = p.pos;
        json_free(root);
        return NULL;
    }
    return root;
}

void json_free(jnode_t *n)
{
    while (n != NULL) {
        jnode_t *next = n->next;
        json_free(n->child);
        free(n->str);
        free(n->key);
        free(n);
        n = next;
    }
}

const jnode_t *json_get(const jnode_t *obj, const char *key)
{
    const jnode_t *c;
    if (obj == NULL || obj->type != J_OBJ) return NULL;
    for (c = obj->child; c != NULL; c = c->next) {
        if (strcmp(c->key, key) == 0) return c;
    }
    return NULL;
}

size_t json_count(const jnode_t *n)
{
    size_t k = 0;
    const jnode_t *c;
    for (c = n ? n->child : NULL; c != NULL; c = c->next) k++;
    return k;
}

const jnode_t *json_at(const jnode_t *arr, size_t i)
{
    const jnode_t *c = arr ? arr->child : NULL;
    while (c != NULL && i-- > 0) c = c->next;
    return c;
}

bool json_equal(const jnode_t *a, const jnode_t *b, char *why, size_t why_len)
{
    const jnode_t *c;
    size_t i;
    if (a->type != b->type) {
        snprintf(why, why_len, "type %d vs %d", (int)a->type, (int)b->type);
        return false;
    }
    switch (a->type) {
    case J_NULL: return true;
    case J_BOOL:
        if (a->b != b->b) snprintf(why, why_len, "bool %d vs %d", a->b, b->b);
        return a->b == b->b;
    case J_NUM:
        if (a->num != b->num) snprintf(why, why_len, "number %.17g vs %.17g", a->num, b->num);
        return a->num == b->num;
    case J_STR:
        if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0) {
            snprintf(why, why_len, "text \"%s\" vs \"%s\"", a->str, b->str);
            return false;
        }
        return true;
    case J_ARR:
        if (json_count(a) != json_count(b)) {
            snprintf(why, why_len, "array length %zu vs %zu", json_count(a), json_count(b));
            return false;
        }
        for (i = 0; i < json_count(a); i++) {
            if (!json_equal(json_at(a, i), json_at(b, i), why, why_len)) return false;
        }
        return true;
    case J_OBJ:
        if (json_count(a) != json_count(b)) {
            snprintf(why, why_len, "object with %zu vs %zu keys", json_count(a), json_count(b));
            return false;
        }
        for (c = a->child; c != NULL; c = c->next) {
            const jnode_t *o = json_get(b, c->key);
            if (o == NULL) {
                snprintf(why, why_len, "key \"%s\" missing", c->key);
                return false;
            }
            if (!json_equal(c, o, why, why_len)) return false;
        }
        return true;
    }
    return false;
}
