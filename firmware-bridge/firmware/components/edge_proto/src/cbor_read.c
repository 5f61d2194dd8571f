#include <string.h>

#include "edge_proto/cbor.h"
#include "edge_proto/config.h"
#include "edge_proto/errors.h"

#define MAX_SAFE_UINT 9007199254740991ull /* 2^53 - 1, Number.MAX_SAFE_INTEGER on the gateway */

typedef struct {
    unsigned major;
    unsigned info;
    uint64_t arg; /* value, length, count, or float bits */
    size_t size;  /* bytes of the head */
} head_t;

void edge_cbor_reader_init(edge_cbor_reader_t *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = buf == NULL ? 0 : len;
    r->pos = 0;
}

/*
 * Parses the head at r->pos without consuming it. Every read is checked against r->len first. Indefinite
 * lengths (info 31) and reserved infos 28..30 are EDGE_ERR_CBOR: PROTOCOL.md rejects indefinite items.
 */
static int peek_head(const edge_cbor_reader_t *r, head_t *h)
{
    size_t n, i;
    uint8_t ib;
    if (r->pos >= r->len) {
        return EDGE_ERR_CBOR;
    }
    ib = r->buf[r->pos];
    h->major = ib >> 5;
    h->info = ib & 0x1Fu;
    if (h->info < 24u) {
        h->arg = h->info;
        h->size = 1;
        return EDGE_OK;
    }
    if (h->info > 27u) {
        return EDGE_ERR_CBOR;
    }
    n = (size_t)1 << (h->info - 24u);
    if (n > r->len - r->pos - 1u) {
        return EDGE_ERR_CBOR;
    }
    h->arg = 0;
    for (i = 0; i < n; i++) {
        h->arg = (h->arg << 8) | r->buf[r->pos + 1u + i];
    }
    h->size = 1u + n;
    return EDGE_OK;
}

static size_t remaining(const edge_cbor_reader_t *r, const head_t *h)
{
    return r->len - r->pos - h->size;
}

static double half_to_double(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1Fu;
    unsigned mant = h & 0x3FFu;
    double v;
    if (exp == 0) {
        v = (double)mant / 16777216.0; /* subnormal: mant * 2^-24, exact */
    } else {
        uint64_t b = exp == 31u ? (0x7FFull << 52) | ((uint64_t)mant << 42)
                                : ((uint64_t)(exp - 15u + 1023u) << 52) | ((uint64_t)mant << 42);
        memcpy(&v, &b, sizeof v);
    }
    return (h & 0x8000u) ? -v : v;
}

/* Number value of an int or float head; EDGE_ERR_FIELD if it is not a number or out of the exact range. */
static int head_number(const head_t *h, double *out)
{
    switch (h->major) {
    case 0:
        if (h->arg > MAX_SAFE_UINT) {
            return EDGE_ERR_FIELD;
        }
        *out = (double)h->arg;
        return EDGE_OK;
    case 1:
        if (h->arg > MAX_SAFE_UINT - 1u) {
            return EDGE_ERR_FIELD;
        }
        *out = -1.0 - (double)h->arg;
        return EDGE_OK;
    case 7:
        if (h->info == 25u) {
            *out = half_to_double((uint16_t)h->arg);
            return EDGE_OK;
        }
        if (h->info == 26u) {
            uint32_t b = (uint32_t)h->arg;
            float f;
            memcpy(&f, &b, sizeof f);
            *out = (double)f;
            return EDGE_OK;
        }
        if (h->info == 27u) {
            memcpy(out, &h->arg, sizeof *out);
            return EDGE_OK;
        }
        return EDGE_ERR_FIELD;
    default:
        return EDGE_ERR_FIELD;
    }
}

int edge_cbor_peek_major(const edge_cbor_reader_t *r)
{
    head_t h;
    int rc = peek_head(r, &h);
    return rc != EDGE_OK ? rc : (int)h.major;
}

int edge_cbor_read_map(edge_cbor_reader_t *r, size_t *pairs)
{
    head_t h;
    int rc = peek_head(r, &h);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (h.major != EDGE_CBOR_MAP) {
        return EDGE_ERR_FIELD;
    }
    if (h.arg > remaining(r, &h) / 2u) {
        return EDGE_ERR_CBOR; /* claims more pairs than bytes left */
    }
    r->pos += h.size;
    *pairs = (size_t)h.arg;
    return EDGE_OK;
}

int edge_cbor_read_array(edge_cbor_reader_t *r, size_t *count)
{
    head_t h;
    int rc = peek_head(r, &h);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (h.major != EDGE_CBOR_ARRAY) {
        return EDGE_ERR_FIELD;
    }
    if (h.arg > remaining(r, &h)) {
        return EDGE_ERR_CBOR;
    }
    r->pos += h.size;
    *count = (size_t)h.arg;
    return EDGE_OK;
}

int edge_cbor_read_text(edge_cbor_reader_t *r, const char **s, size_t *len)
{
    head_t h;
    int rc = peek_head(r, &h);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (h.major != EDGE_CBOR_TEXT) {
        return EDGE_ERR_FIELD;
    }
    if (h.arg > remaining(r, &h)) {
        return EDGE_ERR_CBOR;
    }
    *s = (const char *)(r->buf + r->pos + h.size);
    *len = (size_t)h.arg;
    r->pos += h.size + (size_t)h.arg;
    return EDGE_OK;
}

int edge_cbor_read_bool(edge_cbor_reader_t *r, bool *v)
{
    head_t h;
    int rc = peek_head(r, &h);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (h.major != EDGE_CBOR_SIMPLE || (h.info != 20u && h.info != 21u)) {
        return EDGE_ERR_FIELD;
    }
    *v = h.info == 21u;
    r->pos += h.size;
    return EDGE_OK;
}

int edge_cbor_read_number(edge_cbor_reader_t *r, double *v)
{
    head_t h;
    int rc = peek_head(r, &h);
    if (rc != EDGE_OK) {
        return rc;
    }
    rc = head_number(&h, v);
    if (rc != EDGE_OK) {
        return rc;
    }
    r->pos += h.size;
    return EDGE_OK;
}

/*
 * Walks one item and everything inside it with an explicit stack of "items left" per open container
 * (no recursion, bounded by EDGE_CBOR_MAX_DEPTH). Enforces the body rules at every level: text map keys,
 * no byte strings, tags, undefined or other simple values. An integer out of the exact range is
 * remembered and reported as EDGE_ERR_FIELD only if the rest is well-formed, since the gateway also finds
 * malformed CBOR before it looks at values.
 */
static int walk(edge_cbor_reader_t *r, unsigned base_depth)
{
    size_t left[EDGE_CBOR_MAX_DEPTH];
    bool is_map[EDGE_CBOR_MAX_DEPTH];
    unsigned open = 0;
    int range_err = EDGE_OK;
    do {
        head_t h;
        unsigned depth = base_depth + open;
        int rc = peek_head(r, &h);
        if (rc != EDGE_OK) {
            return rc;
        }
        if (open > 0) {
            bool key_turn = is_map[open - 1u] && (left[open - 1u] % 2u) == 0;
            left[open - 1u]--;
            if (key_turn && h.major != EDGE_CBOR_TEXT) {
                return EDGE_ERR_CBOR;
            }
        }
        switch (h.major) {
        case EDGE_CBOR_UINT:
        case EDGE_CBOR_NEGINT: {
            double ignored;
            if (head_number(&h, &ignored) != EDGE_OK && range_err == EDGE_OK) {
                range_err = EDGE_ERR_FIELD;
            }
            r->pos += h.size;
            break;
        }
        case EDGE_CBOR_TEXT:
            if (h.arg > remaining(r, &h)) {
                return EDGE_ERR_CBOR;
            }
            r->pos += h.size + (size_t)h.arg;
            break;
        case EDGE_CBOR_ARRAY:
        case EDGE_CBOR_MAP: {
            bool map = h.major == EDGE_CBOR_MAP;
            /* each element takes at least one byte: a count beyond the input is malformed, not a long loop */
            if (h.arg > (map ? remaining(r, &h) / 2u : remaining(r, &h))) {
                return EDGE_ERR_CBOR;
            }
            r->pos += h.size;
            if (h.arg > 0) {
                if (depth + 1u > EDGE_CBOR_MAX_DEPTH || open >= EDGE_CBOR_MAX_DEPTH) {
                    return EDGE_ERR_CBOR;
                }
                left[open] = map ? (size_t)h.arg * 2u : (size_t)h.arg;
                is_map[open] = map;
                open++;
            }
            break;
        }
        case EDGE_CBOR_SIMPLE:
            /* false, true, null and the three float widths; undefined (23), other simple values and break are not body items */
            if (h.info != 20u && h.info != 21u && h.info != 22u && h.info != 25u && h.info != 26u && h.info != 27u) {
                return EDGE_ERR_CBOR;
            }
            r->pos += h.size;
            break;
        default: /* byte strings and tags */
            return EDGE_ERR_CBOR;
        }
        while (open > 0 && left[open - 1u] == 0) {
            open--;
        }
    } while (open > 0);
    return range_err;
}

int edge_cbor_skip(edge_cbor_reader_t *r)
{
    return walk(r, 0);
}

int edge_cbor_check_body(const uint8_t *body, size_t len)
{
    edge_cbor_reader_t r;
    int rc;
    edge_cbor_reader_init(&r, body, len);
    rc = edge_cbor_peek_major(&r);
    if (rc < 0) {
        return rc;
    }
    if (rc != EDGE_CBOR_MAP) {
        return EDGE_ERR_CBOR;
    }
    rc = walk(&r, 0);
    if (rc == EDGE_ERR_CBOR) {
        return rc;
    }
    if (r.pos != r.len) {
        return EDGE_ERR_CBOR; /* trailing bytes after the map */
    }
    return rc;
}

bool edge_cbor_text_eq(const char *s, size_t len, const char *key)
{
    size_t n = strlen(key);
    return n == len && memcmp(s, key, n) == 0;
}
