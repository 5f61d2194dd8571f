#include <string.h>

#include "edge_proto/cbor.h"
#include "edge_proto/errors.h"

/* The float code below reinterprets IEEE 754 bit patterns; refuse to build where that would be wrong. */
typedef char edge_double_is_binary64[(sizeof(double) == 8 && sizeof(float) == 4) ? 1 : -1];

#define SAFE_INT_LIMIT 9007199254740992.0 /* 2^53: integers below it in magnitude are exact doubles */
#define FLOAT_MAX 3.4028234663852886e38   /* FLT_MAX, spelled out: <float.h> is outside our header budget */

void edge_cbor_writer_init(edge_cbor_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf == NULL ? 0 : cap;
    w->len = 0;
    w->err = EDGE_OK;
    w->float_mode = EDGE_FLOAT_DOUBLE;
}

int edge_cbor_writer_finish(const edge_cbor_writer_t *w)
{
    return w->err != EDGE_OK ? w->err : (int)w->len;
}

static void put_bytes(edge_cbor_writer_t *w, const uint8_t *p, size_t n)
{
    if (w->err != EDGE_OK) {
        return;
    }
    if (n > w->cap - w->len) {
        w->err = EDGE_ERR_NOSPACE;
        return;
    }
    if (n > 0) {
        memcpy(w->buf + w->len, p, n);
    }
    w->len += n;
}

/* Initial byte plus a big-endian argument of `size` bytes. */
static void put_be(edge_cbor_writer_t *w, uint8_t initial, uint64_t arg, unsigned size)
{
    uint8_t tmp[9];
    unsigned i;
    tmp[0] = initial;
    for (i = 0; i < size; i++) {
        tmp[1u + i] = (uint8_t)(arg >> (8u * (size - 1u - i)));
    }
    put_bytes(w, tmp, 1u + size);
}

/* Shortest head for a major type and argument (RFC 8949 §4.2.1 preferred serialisation). */
static void put_head(edge_cbor_writer_t *w, unsigned major, uint64_t arg)
{
    uint8_t mt = (uint8_t)(major << 5);
    if (arg < 24u) {
        put_be(w, (uint8_t)(mt | arg), 0, 0);
    } else if (arg <= 0xFFu) {
        put_be(w, (uint8_t)(mt | 24u), arg, 1);
    } else if (arg <= 0xFFFFu) {
        put_be(w, (uint8_t)(mt | 25u), arg, 2);
    } else if (arg <= 0xFFFFFFFFu) {
        put_be(w, (uint8_t)(mt | 26u), arg, 4);
    } else {
        put_be(w, (uint8_t)(mt | 27u), arg, 8);
    }
}

void edge_cbor_put_uint(edge_cbor_writer_t *w, uint64_t v)
{
    put_head(w, 0, v);
}

void edge_cbor_put_int(edge_cbor_writer_t *w, int64_t v)
{
    if (v >= 0) {
        put_head(w, 0, (uint64_t)v);
    } else {
        /* -1 - v without overflowing at INT64_MIN */
        put_head(w, 1, (uint64_t)(-(v + 1)));
    }
}

static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static bool is_finite(double v)
{
    return ((double_bits(v) >> 52) & 0x7FFu) != 0x7FFu;
}

static bool is_nan(double v)
{
    uint64_t b = double_bits(v);
    return ((b >> 52) & 0x7FFu) == 0x7FFu && (b & 0xFFFFFFFFFFFFFull) != 0;
}

/* Half-float bits of v, assuming edge_cbor_fits_half(v). */
static uint16_t half_bits(double v)
{
    uint64_t b = double_bits(v);
    uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
    int exp = (int)((b >> 52) & 0x7FFu);
    uint64_t mant = b & 0xFFFFFFFFFFFFFull;
    int e = exp - 1023;
    if (exp == 0x7FF) {
        return (uint16_t)(sign | (mant != 0 ? 0x7E00u : 0x7C00u));
    }
    if (exp == 0 && mant == 0) {
        return sign;
    }
    if (e >= -14) {
        return (uint16_t)(sign | (uint16_t)((unsigned)(e + 15) << 10) | (uint16_t)(mant >> 42));
    }
    /* subnormal half: v = m * 2^-24 */
    return (uint16_t)(sign | (uint16_t)(((mant | (1ull << 52)) >> (28 - e))));
}

bool edge_cbor_fits_half(double v)
{
    uint64_t b = double_bits(v);
    int exp = (int)((b >> 52) & 0x7FFu);
    uint64_t mant = b & 0xFFFFFFFFFFFFFull;
    int e = exp - 1023;
    if (exp == 0x7FF) {
        return true; /* infinities exactly; every NaN is "a NaN" */
    }
    if (exp == 0) {
        return mant == 0; /* zero fits, double subnormals are far below the half range */
    }
    if (e >= -14 && e <= 15) {
        return (mant & ((1ull << 42) - 1u)) == 0;
    }
    if (e >= -24 && e < -14) {
        unsigned shift = (unsigned)(28 - e); /* 43..52 */
        return ((mant | (1ull << 52)) & ((1ull << shift) - 1u)) == 0;
    }
    return false;
}

bool edge_cbor_fits_single(double v)
{
    if (is_nan(v)) {
        return true;
    }
    if (is_finite(v) && (v > FLOAT_MAX || v < -FLOAT_MAX)) {
        return false; /* converting would be undefined behaviour */
    }
    return (double)(float)v == v;
}

void edge_cbor_put_double(edge_cbor_writer_t *w, double v)
{
    put_be(w, 0xFBu, double_bits(v), 8);
}

void edge_cbor_put_single(edge_cbor_writer_t *w, float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    put_be(w, 0xFAu, b, 4);
}

void edge_cbor_put_half(edge_cbor_writer_t *w, double v)
{
    if (!edge_cbor_fits_half(v)) {
        if (w->err == EDGE_OK) {
            w->err = EDGE_ERR_ARG;
        }
        return;
    }
    put_be(w, 0xF9u, half_bits(v), 2);
}

void edge_cbor_put_number(edge_cbor_writer_t *w, double v)
{
    if (!is_finite(v)) {
        /* The gateway rejects non-finite numbers as field errors; fail here, on the device, instead. */
        if (w->err == EDGE_OK) {
            w->err = EDGE_ERR_ARG;
        }
        return;
    }
    if (v > -SAFE_INT_LIMIT && v < SAFE_INT_LIMIT && (double)(int64_t)v == v) {
        edge_cbor_put_int(w, (int64_t)v);
        return;
    }
    if (w->float_mode == EDGE_FLOAT_SHORTEST && edge_cbor_fits_half(v)) {
        put_be(w, 0xF9u, half_bits(v), 2);
    } else if (w->float_mode == EDGE_FLOAT_SHORTEST && edge_cbor_fits_single(v)) {
        edge_cbor_put_single(w, (float)v);
    } else {
        edge_cbor_put_double(w, v);
    }
}

void edge_cbor_put_text(edge_cbor_writer_t *w, const char *s, size_t len)
{
    if (s == NULL && len > 0) {
        if (w->err == EDGE_OK) {
            w->err = EDGE_ERR_ARG;
        }
        return;
    }
    put_head(w, 3, len);
    put_bytes(w, (const uint8_t *)s, len);
}

void edge_cbor_put_cstr(edge_cbor_writer_t *w, const char *s)
{
    if (s == NULL) {
        if (w->err == EDGE_OK) {
            w->err = EDGE_ERR_ARG;
        }
        return;
    }
    edge_cbor_put_text(w, s, strlen(s));
}

void edge_cbor_put_bool(edge_cbor_writer_t *w, bool v)
{
    put_be(w, v ? 0xF5u : 0xF4u, 0, 0);
}

void edge_cbor_put_null(edge_cbor_writer_t *w)
{
    put_be(w, 0xF6u, 0, 0);
}

void edge_cbor_put_array(edge_cbor_writer_t *w, size_t count)
{
    put_head(w, 4, count);
}

void edge_cbor_put_map(edge_cbor_writer_t *w, size_t pairs)
{
    put_head(w, 5, pairs);
}
