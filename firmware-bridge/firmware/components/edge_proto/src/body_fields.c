/* The keyed-field readers every body decoder builds on (body_fields.h). */
#include "body_fields.h"

/*
 * Every decoder works in two steps, like the gateway: edge_cbor_check_body() proves the body well-formed
 * (so later failures can only be field errors), then edge_fields_find() records where the value of each
 * wanted top-level key starts (the last occurrence wins, as in a JS Map) and skips everything else, whatever
 * its type. Values are then read from their recorded offsets in the order the checks need.
 */
int edge_fields_find(const uint8_t *body, size_t len, const char *const *keys, size_t n_keys, size_t *at)
{
    edge_cbor_reader_t r;
    size_t pairs, i, k;
    int rc = edge_cbor_check_body(body, len);
    if (rc != EDGE_OK) {
        return rc;
    }
    for (k = 0; k < n_keys; k++) {
        at[k] = ABSENT;
    }
    edge_cbor_reader_init(&r, body, len);
    rc = edge_cbor_read_map(&r, &pairs);
    for (i = 0; rc == EDGE_OK && i < pairs; i++) {
        const char *key;
        size_t key_len;
        rc = edge_cbor_read_text(&r, &key, &key_len);
        if (rc != EDGE_OK) {
            break;
        }
        for (k = 0; k < n_keys; k++) {
            if (edge_cbor_text_eq(key, key_len, keys[k])) {
                at[k] = r.pos;
            }
        }
        rc = edge_cbor_skip(&r);
    }
    return rc;
}

void edge_field_reader_at(edge_cbor_reader_t *r, const uint8_t *body, size_t len, size_t pos)
{
    edge_cbor_reader_init(r, body, len);
    r->pos = pos;
}

/* A reader at a wanted key's value; a missing key is a field error. */
static int value_at(edge_cbor_reader_t *r, const uint8_t *body, size_t len, size_t pos)
{
    if (pos == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    edge_field_reader_at(r, body, len, pos);
    return EDGE_OK;
}

static bool is_finite(double v)
{
    return v == v && v - v == 0.0; /* false for NaN and for +/-inf (inf - inf is NaN) */
}

/* A "uint" as the gateway defines it: any integral number >= 0, here also at most max. */
static int number_as_uint(double v, double max, uint64_t *out)
{
    if (!(v >= 0.0 && v <= max) || (double)(uint64_t)v != v) {
        return EDGE_ERR_FIELD;
    }
    *out = (uint64_t)v;
    return EDGE_OK;
}

int edge_field_read_uint(edge_cbor_reader_t *r, double max, uint64_t *out)
{
    double v;
    int rc = edge_cbor_read_number(r, &v);
    return rc != EDGE_OK ? rc : number_as_uint(v, max, out);
}

int edge_field_uint_at(const uint8_t *body, size_t len, size_t pos, double max, uint64_t *out)
{
    edge_cbor_reader_t r;
    int rc = value_at(&r, body, len, pos);
    return rc != EDGE_OK ? rc : edge_field_read_uint(&r, max, out);
}

int edge_field_finite_number(edge_cbor_reader_t *r, double *out)
{
    int rc = edge_cbor_read_number(r, out);
    if (rc == EDGE_OK && !is_finite(*out)) {
        rc = EDGE_ERR_FIELD;
    }
    return rc;
}

int edge_field_number_at(const uint8_t *body, size_t len, size_t pos, double *out)
{
    edge_cbor_reader_t r;
    int rc = value_at(&r, body, len, pos);
    return rc != EDGE_OK ? rc : edge_field_finite_number(&r, out);
}

int edge_field_text_at(const uint8_t *body, size_t len, size_t pos, bool non_empty, edge_text_t *out)
{
    edge_cbor_reader_t r;
    int rc = value_at(&r, body, len, pos);
    if (rc == EDGE_OK) {
        rc = edge_cbor_read_text(&r, &out->s, &out->len);
    }
    if (rc == EDGE_OK && non_empty && out->len == 0) {
        rc = EDGE_ERR_FIELD;
    }
    return rc;
}

int edge_field_bool_at(const uint8_t *body, size_t len, size_t pos, bool *out)
{
    edge_cbor_reader_t r;
    int rc = value_at(&r, body, len, pos);
    return rc != EDGE_OK ? rc : edge_cbor_read_bool(&r, out);
}
