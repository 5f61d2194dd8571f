#include <string.h>

#include "edge_proto/body.h"
#include "edge_proto/errors.h"

static const char *const k_categories[EDGE_CAT_COUNT] = {
    "environment", "presence", "usage", "location", "health", "biometric",
};

const char *edge_category_name(int cat)
{
    return cat >= 0 && cat < (int)EDGE_CAT_COUNT ? k_categories[cat] : NULL;
}

int edge_category_parse(const char *s, size_t len)
{
    int i;
    for (i = 0; i < (int)EDGE_CAT_COUNT; i++) {
        if (edge_cbor_text_eq(s, len, k_categories[i])) {
            return i;
        }
    }
    return -1;
}

static int fail(edge_cbor_writer_t *w, int err)
{
    if (w->err == EDGE_OK) {
        w->err = err;
    }
    return w->err;
}

static bool non_empty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Key order everywhere follows DESIGN §3 and vectors.json, so canonical vectors match byte for byte. */

int edge_body_hello(edge_cbor_writer_t *w, const char *id, const char *fw, const char *model,
                    const edge_channel_t *ch, size_t n_ch)
{
    return edge_body_hello_caps(w, id, fw, model, ch, n_ch, NULL, 0);
}

int edge_body_hello_caps(edge_cbor_writer_t *w, const char *id, const char *fw, const char *model,
                         const edge_channel_t *ch, size_t n_ch, const char *const *caps, size_t n_caps)
{
    size_t i;
    if (!non_empty(id) || fw == NULL || model == NULL || (ch == NULL && n_ch > 0) || (caps == NULL && n_caps > 0)) {
        return fail(w, EDGE_ERR_ARG);
    }
    edge_cbor_put_map(w, n_caps > 0 ? 5u : 4u);
    edge_cbor_put_cstr(w, "id");
    edge_cbor_put_cstr(w, id);
    edge_cbor_put_cstr(w, "fw");
    edge_cbor_put_cstr(w, fw);
    edge_cbor_put_cstr(w, "model");
    edge_cbor_put_cstr(w, model);
    edge_cbor_put_cstr(w, "ch");
    edge_cbor_put_array(w, n_ch);
    for (i = 0; i < n_ch; i++) {
        const char *cat = edge_category_name((int)ch[i].category);
        if (cat == NULL || !non_empty(ch[i].kind)) {
            return fail(w, EDGE_ERR_ARG);
        }
        edge_cbor_put_map(w, 3);
        edge_cbor_put_cstr(w, "n");
        edge_cbor_put_uint(w, ch[i].n);
        edge_cbor_put_cstr(w, "k");
        edge_cbor_put_cstr(w, ch[i].kind);
        edge_cbor_put_cstr(w, "c");
        edge_cbor_put_cstr(w, cat);
    }
    if (n_caps > 0) {
        edge_cbor_put_cstr(w, "cap");
        edge_cbor_put_array(w, n_caps);
        for (i = 0; i < n_caps; i++) {
            if (!non_empty(caps[i])) {
                return fail(w, EDGE_ERR_ARG);
            }
            edge_cbor_put_cstr(w, caps[i]);
        }
    }
    return edge_cbor_writer_finish(w);
}

int edge_body_readings(edge_cbor_writer_t *w, const edge_reading_t *r, size_t n)
{
    size_t i;
    if (r == NULL || n == 0) {
        return fail(w, EDGE_ERR_ARG);
    }
    if (n == 1) {
        edge_cbor_put_map(w, r[0].has_t ? 3u : 2u);
        edge_cbor_put_cstr(w, "ch");
        edge_cbor_put_uint(w, r[0].ch);
        edge_cbor_put_cstr(w, "v");
        edge_cbor_put_number(w, r[0].v);
        if (r[0].has_t) {
            edge_cbor_put_cstr(w, "t");
            edge_cbor_put_uint(w, r[0].t);
        }
        return edge_cbor_writer_finish(w);
    }
    edge_cbor_put_map(w, 1);
    edge_cbor_put_cstr(w, "r");
    edge_cbor_put_array(w, n);
    for (i = 0; i < n; i++) {
        edge_cbor_put_array(w, r[i].has_t ? 3u : 2u);
        edge_cbor_put_uint(w, r[i].ch);
        edge_cbor_put_number(w, r[i].v);
        if (r[i].has_t) {
            edge_cbor_put_uint(w, r[i].t);
        }
    }
    return edge_cbor_writer_finish(w);
}

int edge_body_event(edge_cbor_writer_t *w, const edge_event_t *e)
{
    if (e == NULL || !non_empty(e->e)) {
        return fail(w, EDGE_ERR_ARG);
    }
    edge_cbor_put_map(w, 1u + (e->has_ch ? 1u : 0u) + (e->has_v ? 1u : 0u) + (e->has_t ? 1u : 0u));
    edge_cbor_put_cstr(w, "e");
    edge_cbor_put_cstr(w, e->e);
    if (e->has_ch) {
        edge_cbor_put_cstr(w, "ch");
        edge_cbor_put_uint(w, e->ch);
    }
    if (e->has_v) {
        edge_cbor_put_cstr(w, "v");
        edge_cbor_put_number(w, e->v);
    }
    if (e->has_t) {
        edge_cbor_put_cstr(w, "t");
        edge_cbor_put_uint(w, e->t);
    }
    return edge_cbor_writer_finish(w);
}

int edge_body_consent(edge_cbor_writer_t *w, const char *scope, bool granted)
{
    if (scope == NULL || (strcmp(scope, "device") != 0 && edge_category_parse(scope, strlen(scope)) < 0)) {
        return fail(w, EDGE_ERR_ARG);
    }
    edge_cbor_put_map(w, 2);
    edge_cbor_put_cstr(w, "s");
    edge_cbor_put_cstr(w, scope);
    edge_cbor_put_cstr(w, "g");
    edge_cbor_put_bool(w, granted);
    return edge_cbor_writer_finish(w);
}

int edge_body_heartbeat(edge_cbor_writer_t *w, uint32_t up_s, bool has_rssi, int32_t rssi)
{
    edge_cbor_put_map(w, has_rssi ? 2u : 1u);
    edge_cbor_put_cstr(w, "up");
    edge_cbor_put_uint(w, up_s);
    if (has_rssi) {
        edge_cbor_put_cstr(w, "rssi");
        edge_cbor_put_int(w, rssi);
    }
    return edge_cbor_writer_finish(w);
}

int edge_body_ack(edge_cbor_writer_t *w, uint16_t acked_seq)
{
    edge_cbor_put_map(w, 1);
    edge_cbor_put_cstr(w, "a");
    edge_cbor_put_uint(w, acked_seq);
    return edge_cbor_writer_finish(w);
}

int edge_body_firmware_choice(edge_cbor_writer_t *w, edge_firmware_choice_t d, uint32_t hours)
{
    static const char *const names[] = {"defer", "never", "allow"};
    if ((unsigned)d > (unsigned)EDGE_FW_ALLOW || hours > EDGE_FW_DEFER_MAX_HOURS || (hours > 0 && d != EDGE_FW_DEFER)) {
        return fail(w, EDGE_ERR_ARG);
    }
    edge_cbor_put_map(w, hours > 0 ? 2u : 1u);
    edge_cbor_put_cstr(w, "d");
    edge_cbor_put_cstr(w, names[d]);
    if (hours > 0) {
        edge_cbor_put_cstr(w, "h");
        edge_cbor_put_uint(w, hours);
    }
    return edge_cbor_writer_finish(w);
}
