#include <string.h>

#include "edge_proto/body.h"
#include "edge_proto/errors.h"

#define ABSENT ((size_t)-1)
#define MAX_SAFE 9007199254740991.0 /* 2^53 - 1 */

/*
 * Every decoder works in two steps, like the gateway: edge_cbor_check_body() proves the body well-formed
 * (so later failures can only be field errors), then find_keys() records where the value of each wanted
 * top-level key starts (the last occurrence wins, as in a JS Map) and skips everything else, whatever its
 * type. Values are then read from their recorded offsets in the order the checks need.
 */
static int find_keys(const uint8_t *body, size_t len, const char *const *keys, size_t n_keys, size_t *at)
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

static void reader_at(edge_cbor_reader_t *r, const uint8_t *body, size_t len, size_t pos)
{
    edge_cbor_reader_init(r, body, len);
    r->pos = pos;
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

static int read_uint(edge_cbor_reader_t *r, double max, uint64_t *out)
{
    double v;
    int rc = edge_cbor_read_number(r, &v);
    return rc != EDGE_OK ? rc : number_as_uint(v, max, out);
}

static int uint_at(const uint8_t *body, size_t len, size_t pos, double max, uint64_t *out)
{
    edge_cbor_reader_t r;
    if (pos == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, pos);
    return read_uint(&r, max, out);
}

static int finite_number(edge_cbor_reader_t *r, double *out)
{
    int rc = edge_cbor_read_number(r, out);
    if (rc == EDGE_OK && !is_finite(*out)) {
        rc = EDGE_ERR_FIELD;
    }
    return rc;
}

static int number_at(const uint8_t *body, size_t len, size_t pos, double *out)
{
    edge_cbor_reader_t r;
    if (pos == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, pos);
    return finite_number(&r, out);
}

static int text_at(const uint8_t *body, size_t len, size_t pos, bool non_empty, edge_text_t *out)
{
    edge_cbor_reader_t r;
    int rc;
    if (pos == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, pos);
    rc = edge_cbor_read_text(&r, &out->s, &out->len);
    if (rc == EDGE_OK && non_empty && out->len == 0) {
        rc = EDGE_ERR_FIELD;
    }
    return rc;
}

static int bool_at(const uint8_t *body, size_t len, size_t pos, bool *out)
{
    edge_cbor_reader_t r;
    if (pos == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, pos);
    return edge_cbor_read_bool(&r, out);
}

/* ---------------------------------------------------------------- gateway -> device */

int edge_decode_ack(const uint8_t *body, size_t len, uint16_t *acked_seq)
{
    static const char *const keys[] = {"a"};
    size_t at[1];
    uint64_t a;
    int rc = find_keys(body, len, keys, 1, at);
    if (rc == EDGE_OK) {
        rc = uint_at(body, len, at[0], 65535.0, &a); /* an acked seq is a u16 */
    }
    if (rc == EDGE_OK) {
        *acked_seq = (uint16_t)a;
    }
    return rc;
}

int edge_decode_command(const uint8_t *body, size_t len, edge_command_t *out)
{
    static const char *const names[] = {"pause", "resume", "identify", "notify", "reboot"};
    static const char *const keys[] = {"c", "text", "led", "buzz", "campaign", "signal"};
    size_t at[6];
    edge_text_t c;
    size_t i;
    int rc = find_keys(body, len, keys, 6, at);
    if (rc == EDGE_OK) {
        rc = text_at(body, len, at[0], true, &c);
    }
    if (rc != EDGE_OK) {
        return rc;
    }
    memset(out, 0, sizeof *out);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (edge_cbor_text_eq(c.s, c.len, names[i])) {
            break;
        }
    }
    if (i == sizeof names / sizeof names[0]) {
        return EDGE_ERR_FIELD;
    }
    out->c = (edge_command_name_t)i;
    /* Optional arguments: absent is fine, present with the wrong type is a field error. */
    if (at[1] != ABSENT && (rc = text_at(body, len, at[1], false, &out->text)) != EDGE_OK) {
        return rc;
    }
    out->has_text = at[1] != ABSENT;
    if (at[2] != ABSENT && (rc = text_at(body, len, at[2], false, &out->led)) != EDGE_OK) {
        return rc;
    }
    out->has_led = at[2] != ABSENT;
    if (at[3] != ABSENT && (rc = bool_at(body, len, at[3], &out->buzz)) != EDGE_OK) {
        return rc;
    }
    out->has_buzz = at[3] != ABSENT;
    if (at[4] != ABSENT && (rc = text_at(body, len, at[4], false, &out->campaign)) != EDGE_OK) {
        return rc;
    }
    out->has_campaign = at[4] != ABSENT;
    if (at[5] != ABSENT && (rc = text_at(body, len, at[5], false, &out->signal)) != EDGE_OK) {
        return rc;
    }
    out->has_signal = at[5] != ABSENT;
    return EDGE_OK;
}

int edge_decode_consent_state(const uint8_t *body, size_t len, edge_consent_state_t *out)
{
    static const char *const keys[] = {"cats"};
    size_t at[1], pairs, i;
    edge_cbor_reader_t r;
    int rc = find_keys(body, len, keys, 1, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[0] == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, at[0]);
    rc = edge_cbor_read_map(&r, &pairs);
    if (rc != EDGE_OK) {
        return rc;
    }
    out->present = 0;
    out->granted = 0;
    for (i = 0; i < pairs; i++) {
        const char *k;
        size_t k_len;
        bool g;
        int cat;
        if ((rc = edge_cbor_read_text(&r, &k, &k_len)) != EDGE_OK) {
            return rc;
        }
        cat = edge_category_parse(k, k_len);
        if (cat < 0) {
            return EDGE_ERR_FIELD; /* an unknown category: the gateway rejects it too */
        }
        if ((rc = edge_cbor_read_bool(&r, &g)) != EDGE_OK) {
            return rc;
        }
        out->present = (uint8_t)(out->present | (1u << cat));
        out->granted = (uint8_t)(g ? (out->granted | (1u << cat)) : (out->granted & ~(1u << cat)));
    }
    return EDGE_OK;
}

/* ---------------------------------------------------------------- device -> gateway */

int edge_decode_hello(const uint8_t *body, size_t len, edge_hello_t *out)
{
    static const char *const keys[] = {"id", "fw", "model", "ch"};
    static const char *const ch_keys[] = {"n", "k", "c"};
    size_t at[4], count, i;
    edge_cbor_reader_t r;
    int rc = find_keys(body, len, keys, 4, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[3] == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    reader_at(&r, body, len, at[3]);
    if ((rc = edge_cbor_read_array(&r, &count)) != EDGE_OK) {
        return rc;
    }
    if (count > EDGE_HELLO_MAX_CHANNELS) {
        return EDGE_ERR_NOSPACE;
    }
    out->n_ch = count;
    for (i = 0; i < count; i++) {
        /* Each channel map is decoded with the same key search, on the slice it occupies. */
        size_t start = r.pos, c_at[3];
        edge_text_t cat;
        uint64_t n;
        int c;
        if (edge_cbor_peek_major(&r) != EDGE_CBOR_MAP) {
            return EDGE_ERR_FIELD;
        }
        if ((rc = edge_cbor_skip(&r)) != EDGE_OK) {
            return rc;
        }
        if ((rc = find_keys(body + start, r.pos - start, ch_keys, 3, c_at)) != EDGE_OK) {
            return rc;
        }
        if ((rc = uint_at(body + start, r.pos - start, c_at[0], 4294967295.0, &n)) != EDGE_OK ||
            (rc = text_at(body + start, r.pos - start, c_at[1], true, &out->ch[i].kind)) != EDGE_OK ||
            (rc = text_at(body + start, r.pos - start, c_at[2], false, &cat)) != EDGE_OK) {
            return rc;
        }
        c = edge_category_parse(cat.s, cat.len);
        if (c < 0) {
            return EDGE_ERR_FIELD;
        }
        out->ch[i].n = (uint32_t)n;
        out->ch[i].category = (edge_category_t)c;
    }
    if ((rc = text_at(body, len, at[0], true, &out->id)) != EDGE_OK ||
        (rc = text_at(body, len, at[1], false, &out->fw)) != EDGE_OK ||
        (rc = text_at(body, len, at[2], false, &out->model)) != EDGE_OK) {
        return rc;
    }
    return EDGE_OK;
}

int edge_decode_reading(const uint8_t *body, size_t len, edge_readings_t *out)
{
    static const char *const keys[] = {"r", "ch", "v", "t"};
    size_t at[4], count, i;
    edge_cbor_reader_t r;
    uint64_t u;
    int rc = find_keys(body, len, keys, 4, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[0] == ABSENT) {
        /* single form {"ch", "v", "t"?}; ch/v/t are ignored when "r" is present, as on the gateway */
        edge_reading_t *one = &out->r[0];
        if ((rc = uint_at(body, len, at[1], 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        one->ch = (uint32_t)u;
        if ((rc = number_at(body, len, at[2], &one->v)) != EDGE_OK) {
            return rc;
        }
        one->has_t = at[3] != ABSENT;
        one->t = 0;
        if (one->has_t && (rc = uint_at(body, len, at[3], MAX_SAFE, &one->t)) != EDGE_OK) {
            return rc;
        }
        out->n = 1;
        return EDGE_OK;
    }
    reader_at(&r, body, len, at[0]);
    if ((rc = edge_cbor_read_array(&r, &count)) != EDGE_OK) {
        return rc;
    }
    if (count == 0) {
        return EDGE_ERR_FIELD;
    }
    if (count > EDGE_READING_MAX_BATCH) {
        return EDGE_ERR_NOSPACE;
    }
    for (i = 0; i < count; i++) {
        edge_reading_t *x = &out->r[i];
        size_t n;
        if ((rc = edge_cbor_read_array(&r, &n)) != EDGE_OK) {
            return rc;
        }
        if (n < 2 || n > 3) {
            return EDGE_ERR_FIELD;
        }
        if ((rc = read_uint(&r, 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        x->ch = (uint32_t)u;
        if ((rc = finite_number(&r, &x->v)) != EDGE_OK) {
            return rc;
        }
        x->has_t = n == 3;
        x->t = 0;
        if (x->has_t && (rc = read_uint(&r, MAX_SAFE, &x->t)) != EDGE_OK) {
            return rc;
        }
    }
    out->n = count;
    return EDGE_OK;
}

int edge_decode_event(const uint8_t *body, size_t len, edge_event_in_t *out)
{
    static const char *const keys[] = {"e", "ch", "v", "t"};
    size_t at[4];
    uint64_t u;
    int rc = find_keys(body, len, keys, 4, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = text_at(body, len, at[0], true, &out->e)) != EDGE_OK) {
        return rc;
    }
    out->has_ch = at[1] != ABSENT;
    out->has_v = at[2] != ABSENT;
    out->has_t = at[3] != ABSENT;
    out->ch = 0;
    out->v = 0.0;
    out->t = 0;
    if (out->has_ch) {
        if ((rc = uint_at(body, len, at[1], 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        out->ch = (uint32_t)u;
    }
    if (out->has_v && (rc = number_at(body, len, at[2], &out->v)) != EDGE_OK) {
        return rc;
    }
    if (out->has_t && (rc = uint_at(body, len, at[3], MAX_SAFE, &out->t)) != EDGE_OK) {
        return rc;
    }
    return EDGE_OK;
}

int edge_decode_consent(const uint8_t *body, size_t len, edge_consent_t *out)
{
    static const char *const keys[] = {"s", "g"};
    size_t at[2];
    int rc = find_keys(body, len, keys, 2, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = text_at(body, len, at[0], true, &out->s)) != EDGE_OK) {
        return rc;
    }
    out->is_device = edge_cbor_text_eq(out->s.s, out->s.len, "device");
    out->cat = EDGE_CAT_ENVIRONMENT;
    if (!out->is_device) {
        int c = edge_category_parse(out->s.s, out->s.len);
        if (c < 0) {
            return EDGE_ERR_FIELD;
        }
        out->cat = (edge_category_t)c;
    }
    return bool_at(body, len, at[1], &out->g);
}

int edge_decode_heartbeat(const uint8_t *body, size_t len, edge_heartbeat_t *out)
{
    static const char *const keys[] = {"up", "rssi"};
    size_t at[2];
    uint64_t u;
    int rc = find_keys(body, len, keys, 2, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = uint_at(body, len, at[0], 4294967295.0, &u)) != EDGE_OK) {
        return rc;
    }
    out->up = (uint32_t)u;
    out->has_rssi = at[1] != ABSENT;
    out->rssi = 0;
    if (out->has_rssi) {
        edge_cbor_reader_t r;
        double v;
        reader_at(&r, body, len, at[1]);
        if ((rc = edge_cbor_read_number(&r, &v)) != EDGE_OK) {
            return rc;
        }
        /* any integer, here within int32 */
        if (!(v >= -2147483648.0 && v <= 2147483647.0) || (double)(int32_t)v != v) {
            return EDGE_ERR_FIELD;
        }
        out->rssi = (int32_t)v;
    }
    return EDGE_OK;
}
