/* Decoders of the device -> gateway bodies: hello, reading, event, consent, heartbeat, firmware-choice. */
#include "body_fields.h"

int edge_decode_hello(const uint8_t *body, size_t len, edge_hello_t *out)
{
    static const char *const keys[] = {"id", "fw", "model", "ch", "cap"};
    static const char *const ch_keys[] = {"n", "k", "c"};
    size_t at[5], count, i;
    edge_cbor_reader_t r;
    int rc = edge_fields_find(body, len, keys, 5, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[3] == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    edge_field_reader_at(&r, body, len, at[3]);
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
        if ((rc = edge_fields_find(body + start, r.pos - start, ch_keys, 3, c_at)) != EDGE_OK) {
            return rc;
        }
        if ((rc = edge_field_uint_at(body + start, r.pos - start, c_at[0], 4294967295.0, &n)) != EDGE_OK ||
            (rc = edge_field_text_at(body + start, r.pos - start, c_at[1], true, &out->ch[i].kind)) != EDGE_OK ||
            (rc = edge_field_text_at(body + start, r.pos - start, c_at[2], false, &cat)) != EDGE_OK) {
            return rc;
        }
        c = edge_category_parse(cat.s, cat.len);
        if (c < 0) {
            return EDGE_ERR_FIELD;
        }
        out->ch[i].n = (uint32_t)n;
        out->ch[i].category = (edge_category_t)c;
    }
    if ((rc = edge_field_text_at(body, len, at[0], true, &out->id)) != EDGE_OK ||
        (rc = edge_field_text_at(body, len, at[1], false, &out->fw)) != EDGE_OK ||
        (rc = edge_field_text_at(body, len, at[2], false, &out->model)) != EDGE_OK) {
        return rc;
    }
    out->n_cap = 0;
    if (at[4] != ABSENT) {
        /* "cap": an array of non-empty texts; unknown capabilities are kept for the caller to ignore */
        edge_field_reader_at(&r, body, len, at[4]);
        if ((rc = edge_cbor_read_array(&r, &count)) != EDGE_OK) {
            return rc;
        }
        for (i = 0; i < count; i++) {
            edge_text_t cap;
            if ((rc = edge_cbor_read_text(&r, &cap.s, &cap.len)) != EDGE_OK) {
                return rc;
            }
            if (cap.len == 0) {
                return EDGE_ERR_FIELD;
            }
            if (i < EDGE_HELLO_MAX_CAPS) {
                out->cap[i] = cap;
            }
        }
        if (count > EDGE_HELLO_MAX_CAPS) {
            return EDGE_ERR_NOSPACE;
        }
        out->n_cap = count;
    }
    return EDGE_OK;
}

int edge_decode_reading(const uint8_t *body, size_t len, edge_readings_t *out)
{
    static const char *const keys[] = {"r", "ch", "v", "t"};
    size_t at[4], count, i;
    edge_cbor_reader_t r;
    uint64_t u;
    int rc = edge_fields_find(body, len, keys, 4, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[0] == ABSENT) {
        /* single form {"ch", "v", "t"?}; ch/v/t are ignored when "r" is present, as on the gateway */
        edge_reading_t *one = &out->r[0];
        if ((rc = edge_field_uint_at(body, len, at[1], 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        one->ch = (uint32_t)u;
        if ((rc = edge_field_number_at(body, len, at[2], &one->v)) != EDGE_OK) {
            return rc;
        }
        one->has_t = at[3] != ABSENT;
        one->t = 0;
        if (one->has_t && (rc = edge_field_uint_at(body, len, at[3], MAX_SAFE, &one->t)) != EDGE_OK) {
            return rc;
        }
        out->n = 1;
        return EDGE_OK;
    }
    edge_field_reader_at(&r, body, len, at[0]);
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
        if ((rc = edge_field_read_uint(&r, 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        x->ch = (uint32_t)u;
        if ((rc = edge_field_finite_number(&r, &x->v)) != EDGE_OK) {
            return rc;
        }
        x->has_t = n == 3;
        x->t = 0;
        if (x->has_t && (rc = edge_field_read_uint(&r, MAX_SAFE, &x->t)) != EDGE_OK) {
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
    int rc = edge_fields_find(body, len, keys, 4, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = edge_field_text_at(body, len, at[0], true, &out->e)) != EDGE_OK) {
        return rc;
    }
    out->has_ch = at[1] != ABSENT;
    out->has_v = at[2] != ABSENT;
    out->has_t = at[3] != ABSENT;
    out->ch = 0;
    out->v = 0.0;
    out->t = 0;
    if (out->has_ch) {
        if ((rc = edge_field_uint_at(body, len, at[1], 4294967295.0, &u)) != EDGE_OK) {
            return rc;
        }
        out->ch = (uint32_t)u;
    }
    if (out->has_v && (rc = edge_field_number_at(body, len, at[2], &out->v)) != EDGE_OK) {
        return rc;
    }
    if (out->has_t && (rc = edge_field_uint_at(body, len, at[3], MAX_SAFE, &out->t)) != EDGE_OK) {
        return rc;
    }
    return EDGE_OK;
}

int edge_decode_consent(const uint8_t *body, size_t len, edge_consent_t *out)
{
    static const char *const keys[] = {"s", "g"};
    size_t at[2];
    int rc = edge_fields_find(body, len, keys, 2, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = edge_field_text_at(body, len, at[0], true, &out->s)) != EDGE_OK) {
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
    return edge_field_bool_at(body, len, at[1], &out->g);
}

int edge_decode_heartbeat(const uint8_t *body, size_t len, edge_heartbeat_t *out)
{
    static const char *const keys[] = {"up", "rssi"};
    size_t at[2];
    uint64_t u;
    int rc = edge_fields_find(body, len, keys, 2, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if ((rc = edge_field_uint_at(body, len, at[0], 4294967295.0, &u)) != EDGE_OK) {
        return rc;
    }
    out->up = (uint32_t)u;
    out->has_rssi = at[1] != ABSENT;
    out->rssi = 0;
    if (out->has_rssi) {
        edge_cbor_reader_t r;
        double v;
        edge_field_reader_at(&r, body, len, at[1]);
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

int edge_decode_firmware_choice(const uint8_t *body, size_t len, edge_firmware_choice_in_t *out)
{
    static const char *const keys[] = {"d", "h"};
    static const char *const names[] = {"defer", "never", "allow"};
    size_t at[2], i;
    edge_text_t d;
    uint64_t h;
    int rc = edge_fields_find(body, len, keys, 2, at);
    if (rc != EDGE_OK || (rc = edge_field_text_at(body, len, at[0], true, &d)) != EDGE_OK) {
        return rc;
    }
    for (i = 0; i < sizeof names / sizeof names[0] && !edge_cbor_text_eq(d.s, d.len, names[i]); i++) {
    }
    if (i == sizeof names / sizeof names[0]) {
        return EDGE_ERR_FIELD;
    }
    out->d = (edge_firmware_choice_t)i;
    out->has_h = at[1] != ABSENT;
    out->h = 0;
    if (out->has_h) {
        /* hours go only with defer, 1 to a month, as on the gateway */
        if ((rc = edge_field_uint_at(body, len, at[1], MAX_SAFE, &h)) != EDGE_OK) {
            return rc;
        }
        if (out->d != EDGE_FW_DEFER || h < 1 || h > EDGE_FW_DEFER_MAX_HOURS) {
            return EDGE_ERR_FIELD;
        }
        out->h = (uint32_t)h;
    }
    return EDGE_OK;
}
