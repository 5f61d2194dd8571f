/*
 * Minimal CBOR (RFC 8949) for frame bodies.
 *
 * Writer: always the shortest form (preferred serialisation): lengths and integers in the smallest head,
 * so the bytes match what the gateway emits. It never fails half-way silently: the first overflow sets a
 * sticky error that edge_cbor_writer_finish() reports.
 *
 * Reader: a bounds-checked pull reader. edge_cbor_check_body() validates a whole body first (one map, text
 * keys at every level, nothing after it, depth limit, supported items only), so the typed decoders in body.h
 * can report missing or mistyped fields separately from malformed CBOR, as the gateway does.
 * Accepted: integers of every width (1/2/4/8-byte arguments), half/single/double floats, text, true/false/
 * null, arrays and maps with any length encoding. Rejected as EDGE_ERR_CBOR, as PROTOCOL.md §4 states:
 * byte strings, tags, undefined and other simple values, indefinite-length items, reserved encodings.
 * Integers outside +/-(2^53-1) are EDGE_ERR_FIELD (the gateway's numbers are doubles).
 */
#ifndef EDGE_PROTO_CBOR_H
#define EDGE_PROTO_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- writer */

/* How edge_cbor_put_number() writes a non-integral value. */
typedef enum {
    /* As the gateway does and the canonical vectors expect: float64 (fb). Default. */
    EDGE_FLOAT_DOUBLE = 0,
    /* The narrowest of half (f9) / single (fa) / double (fb) that holds the value exactly; saves up to
       6 bytes per value. Valid for every reader of protocol v1, but not byte-identical to the gateway. */
    EDGE_FLOAT_SHORTEST = 1
} edge_float_mode_t;

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
    edge_float_mode_t float_mode;
} edge_cbor_writer_t;

void edge_cbor_writer_init(edge_cbor_writer_t *w, uint8_t *buf, size_t cap);
/* Returns the encoded length, or the first error (EDGE_ERR_NOSPACE, EDGE_ERR_ARG). */
int edge_cbor_writer_finish(const edge_cbor_writer_t *w);

void edge_cbor_put_uint(edge_cbor_writer_t *w, uint64_t v);
void edge_cbor_put_int(edge_cbor_writer_t *w, int64_t v);
/* Integral values within +/-(2^53-1) as integers (like the gateway), others per float_mode. NaN/inf: EDGE_ERR_ARG. */
void edge_cbor_put_number(edge_cbor_writer_t *w, double v);
void edge_cbor_put_double(edge_cbor_writer_t *w, double v);
void edge_cbor_put_single(edge_cbor_writer_t *w, float v);
/* Half float; EDGE_ERR_ARG unless v is exactly representable as a half (or is +/-inf/NaN). */
void edge_cbor_put_half(edge_cbor_writer_t *w, double v);
void edge_cbor_put_text(edge_cbor_writer_t *w, const char *s, size_t len);
void edge_cbor_put_cstr(edge_cbor_writer_t *w, const char *s);
void edge_cbor_put_bool(edge_cbor_writer_t *w, bool v);
void edge_cbor_put_null(edge_cbor_writer_t *w);
void edge_cbor_put_array(edge_cbor_writer_t *w, size_t count);
void edge_cbor_put_map(edge_cbor_writer_t *w, size_t pairs);

/* true if v is exactly representable as an IEEE 754 half / single. */
bool edge_cbor_fits_half(double v);
bool edge_cbor_fits_single(double v);

/* ---------------------------------------------------------------- reader */

typedef enum {
    EDGE_CBOR_UINT = 0,
    EDGE_CBOR_NEGINT = 1,
    EDGE_CBOR_BYTES = 2,
    EDGE_CBOR_TEXT = 3,
    EDGE_CBOR_ARRAY = 4,
    EDGE_CBOR_MAP = 5,
    EDGE_CBOR_TAG = 6,
    EDGE_CBOR_SIMPLE = 7 /* floats, true, false, null */
} edge_cbor_major_t;

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
} edge_cbor_reader_t;

void edge_cbor_reader_init(edge_cbor_reader_t *r, const uint8_t *buf, size_t len);

/* Validates a complete body (see the top of this file). EDGE_OK, EDGE_ERR_CBOR or EDGE_ERR_FIELD. */
int edge_cbor_check_body(const uint8_t *body, size_t len);

/* Major type of the next item without consuming it; EDGE_ERR_CBOR at the end of input. */
int edge_cbor_peek_major(const edge_cbor_reader_t *r);

/*
 * Typed reads. On a well-formed item of another kind they return EDGE_ERR_FIELD and consume nothing, so a
 * caller can report "mistyped field"; on malformed input EDGE_ERR_CBOR. Containers return their count
 * (pairs for maps) and leave the reader at the first element.
 */
int edge_cbor_read_map(edge_cbor_reader_t *r, size_t *pairs);
int edge_cbor_read_array(edge_cbor_reader_t *r, size_t *count);
/* Zero-copy: *s points into the input; not NUL-terminated. */
int edge_cbor_read_text(edge_cbor_reader_t *r, const char **s, size_t *len);
int edge_cbor_read_bool(edge_cbor_reader_t *r, bool *v);
/* Any integer (within +/-(2^53-1)) or float of any width; NaN and infinities are returned as they are. */
int edge_cbor_read_number(edge_cbor_reader_t *r, double *v);
/* Skips one complete item of any kind, nested up to EDGE_CBOR_MAX_DEPTH, without recursion. */
int edge_cbor_skip(edge_cbor_reader_t *r);

/* true if the text item just read equals the NUL-terminated key. */
bool edge_cbor_text_eq(const char *s, size_t len, const char *key);

#endif
