/* Decoders of the gateway -> device bodies: ack, command, consent-state. */
#include <string.h>

#include "body_fields.h"

int edge_decode_ack(const uint8_t *body, size_t len, uint16_t *acked_seq)
{
    static const char *const keys[] = {"a"};
    size_t at[1];
    uint64_t a;
    int rc = edge_fields_find(body, len, keys, 1, at);
    if (rc == EDGE_OK) {
        rc = edge_field_uint_at(body, len, at[0], 65535.0, &a); /* an acked seq is a u16 */
    }
    if (rc == EDGE_OK) {
        *acked_seq = (uint16_t)a;
    }
    return rc;
}

int edge_decode_command(const uint8_t *body, size_t len, edge_command_t *out)
{
    static const char *const names[] = {"pause", "resume", "identify", "notify", "reboot", "update"};
    static const char *const keys[] = {"c", "text", "led", "buzz", "campaign", "signal", "v"};
    size_t at[7];
    edge_text_t c;
    size_t i;
    int rc = edge_fields_find(body, len, keys, 7, at);
    if (rc == EDGE_OK) {
        rc = edge_field_text_at(body, len, at[0], true, &c);
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
    if (at[1] != ABSENT && (rc = edge_field_text_at(body, len, at[1], false, &out->text)) != EDGE_OK) {
        return rc;
    }
    out->has_text = at[1] != ABSENT;
    if (at[2] != ABSENT && (rc = edge_field_text_at(body, len, at[2], false, &out->led)) != EDGE_OK) {
        return rc;
    }
    out->has_led = at[2] != ABSENT;
    if (at[3] != ABSENT && (rc = edge_field_bool_at(body, len, at[3], &out->buzz)) != EDGE_OK) {
        return rc;
    }
    out->has_buzz = at[3] != ABSENT;
    if (at[4] != ABSENT && (rc = edge_field_text_at(body, len, at[4], false, &out->campaign)) != EDGE_OK) {
        return rc;
    }
    out->has_campaign = at[4] != ABSENT;
    if (at[5] != ABSENT && (rc = edge_field_text_at(body, len, at[5], false, &out->signal)) != EDGE_OK) {
        return rc;
    }
    out->has_signal = at[5] != ABSENT;
    /* update: the pending version is required; another command's "v" is an unknown key, skipped */
    if (out->c == EDGE_CMD_UPDATE) {
        if ((rc = edge_field_text_at(body, len, at[6], true, &out->v)) != EDGE_OK) {
            return rc;
        }
        out->has_v = true;
    }
    return EDGE_OK;
}

int edge_decode_consent_state(const uint8_t *body, size_t len, edge_consent_state_t *out)
{
    static const char *const keys[] = {"cats"};
    size_t at[1], pairs, i;
    edge_cbor_reader_t r;
    int rc = edge_fields_find(body, len, keys, 1, at);
    if (rc != EDGE_OK) {
        return rc;
    }
    if (at[0] == ABSENT) {
        return EDGE_ERR_FIELD;
    }
    edge_field_reader_at(&r, body, len, at[0]);
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
