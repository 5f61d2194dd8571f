/*
 * The shared vectors (../../protocol/vectors.json): every valid one decodes, reads from a serial stream and
 * re-encodes when canonical; every malformed one fails with its kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "json_mini.h"
#include "host_check.h"
#include "frame_json.h"
#include "host_tests.h"

/* Re-encodes a decoded device-side body with the C writers (for canonical vectors). */
static int reencode(const edge_frame_t *f, uint8_t *out, size_t cap)
{
    uint8_t body[EDGE_MAX_FRAME];
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, body, sizeof body);
    switch (f->type) {
    case EDGE_T_HELLO: {
        static edge_hello_t h;
        static char strs[3 + EDGE_HELLO_MAX_CHANNELS + EDGE_HELLO_MAX_CAPS][64];
        edge_channel_t ch[EDGE_HELLO_MAX_CHANNELS];
        const char *caps[EDGE_HELLO_MAX_CAPS];
        size_t i;
        if ((n = edge_decode_hello(f->body, f->body_len, &h)) != EDGE_OK) return n;
        snprintf(strs[0], 64, "%.*s", (int)h.id.len, h.id.s);
        snprintf(strs[1], 64, "%.*s", (int)h.fw.len, h.fw.s);
        snprintf(strs[2], 64, "%.*s", (int)h.model.len, h.model.s);
        for (i = 0; i < h.n_ch; i++) {
            snprintf(strs[3 + i], 64, "%.*s", (int)h.ch[i].kind.len, h.ch[i].kind.s);
            ch[i].n = h.ch[i].n;
            ch[i].kind = strs[3 + i];
            ch[i].category = h.ch[i].category;
        }
        for (i = 0; i < h.n_cap; i++) {
            snprintf(strs[3 + EDGE_HELLO_MAX_CHANNELS + i], 64, "%.*s", (int)h.cap[i].len, h.cap[i].s);
            caps[i] = strs[3 + EDGE_HELLO_MAX_CHANNELS + i];
        }
        n = h.n_cap > 0 ? edge_body_hello_caps(&w, strs[0], strs[1], strs[2], ch, h.n_ch, caps, h.n_cap)
                        : edge_body_hello(&w, strs[0], strs[1], strs[2], ch, h.n_ch);
        break;
    }
    case EDGE_T_READING: {
        static edge_readings_t r;
        if ((n = edge_decode_reading(f->body, f->body_len, &r)) != EDGE_OK) return n;
        n = edge_body_readings(&w, r.r, r.n);
        break;
    }
    case EDGE_T_EVENT: {
        edge_event_in_t in;
        edge_event_t e;
        char name[64];
        if ((n = edge_decode_event(f->body, f->body_len, &in)) != EDGE_OK) return n;
        snprintf(name, sizeof name, "%.*s", (int)in.e.len, in.e.s);
        e.e = name;
        e.has_ch = in.has_ch;
        e.has_v = in.has_v;
        e.has_t = in.has_t;
        e.ch = in.ch;
        e.v = in.v;
        e.t = in.t;
        n = edge_body_event(&w, &e);
        break;
    }
    case EDGE_T_CONSENT: {
        edge_consent_t c;
        char scope[32];
        if ((n = edge_decode_consent(f->body, f->body_len, &c)) != EDGE_OK) return n;
        snprintf(scope, sizeof scope, "%.*s", (int)c.s.len, c.s.s);
        n = edge_body_consent(&w, scope, c.g);
        break;
    }
    case EDGE_T_HEARTBEAT: {
        edge_heartbeat_t h;
        if ((n = edge_decode_heartbeat(f->body, f->body_len, &h)) != EDGE_OK) return n;
        n = edge_body_heartbeat(&w, h.up, h.has_rssi, h.rssi);
        break;
    }
    case EDGE_T_ACK: {
        uint16_t a;
        if ((n = edge_decode_ack(f->body, f->body_len, &a)) != EDGE_OK) return n;
        n = edge_body_ack(&w, a);
        break;
    }
    case EDGE_T_FIRMWARE_CHOICE: {
        edge_firmware_choice_in_t c;
        if ((n = edge_decode_firmware_choice(f->body, f->body_len, &c)) != EDGE_OK) return n;
        n = edge_body_firmware_choice(&w, c.d, c.h);
        break;
    }
    default:
        return EDGE_ERR_TYPE; /* gateway-only bodies: the device has no writer for them */
    }
    if (n < 0) return n;
    return edge_frame_encode(f->type, f->seq, body, (size_t)n, out, cap);
}

static bool check_valid_vector(const jnode_t *v, char *flags, size_t flags_len)
{
    static uint8_t frame[2048], wire[2048], enc[2048];
    size_t fn = unhex(json_get(v, "frame")->str, frame, sizeof frame);
    size_t wn = unhex(json_get(v, "wire")->str, wire, sizeof wire);
    const jnode_t *expect = json_get(v, "expect");
    bool canonical = json_get(v, "canonical")->b;
    edge_frame_t f;
    sb_t sb, sb2;
    jnode_t *got;
    size_t err;
    int rc, frames, n;

    flags[0] = '\0';
    /* 1. decode of the frame (BLE form) gives exactly the expected fields */
    rc = decode_all(frame, fn, &sb);
    if (rc != EDGE_OK) return failf("decode failed: %s", edge_err_name(rc));
    got = json_parse(sb.buf, &err);
    if (got == NULL) return failf("bad description JSON: %s", sb.buf);
    if (!json_equal(got, expect, g_why, sizeof g_why)) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%.200s; got %.300s", g_why, sb.buf);
        json_free(got);
        return failf("%s", tmp);
    }
    json_free(got);
    strncat(flags, "decode", flags_len - strlen(flags) - 1);

    /* 2. the serial stream yields one frame with the same description, and our COBS reproduces the wire */
    rc = feed_stream(wire, wn, &frames, &sb2);
    if (rc != EDGE_OK || frames != 1) return failf("serial: %s, %d frames", edge_err_name(rc), frames);
    if (strcmp(sb.buf, sb2.buf) != 0) return failf("serial decode differs: %s", sb2.buf);
    n = edge_cobs_encode(frame, fn, enc, sizeof enc);
    if (n < 0 || !bytes_eq(enc, (size_t)n, wire, wn - 1, "COBS encoding")) return false;
    EXPECT(wire[wn - 1] == 0);
    strncat(flags, ",serial", flags_len - strlen(flags) - 1);

    /* 3. canonical device-side vectors: our encoder reproduces the frame byte for byte */
    EXPECT(edge_frame_decode(frame, fn, &f) == EDGE_OK);
    if (canonical && f.type != EDGE_T_COMMAND && f.type != EDGE_T_CONSENT_STATE) {
        n = reencode(&f, enc, sizeof enc);
        if (n < 0) return failf("re-encode: %s", edge_err_name(n));
        if (!bytes_eq(enc, (size_t)n, frame, fn, "re-encoded frame")) return false;
        strncat(flags, ",encode", flags_len - strlen(flags) - 1);
    }
    return true;
}

static bool check_malformed_vector(const jnode_t *v)
{
    static uint8_t buf[4096];
    const char *kind = json_get(v, "kind")->str;
    const jnode_t *fr = json_get(v, "frame"), *wi = json_get(v, "wire");
    sb_t sb;
    int rc;
    if (fr != NULL) {
        size_t n = unhex(fr->str, buf, sizeof buf);
        rc = decode_all(buf, n, &sb);
    } else {
        size_t n = unhex(wi->str, buf, sizeof buf);
        int frames;
        rc = feed_stream(buf, n, &frames, &sb);
        if (frames != 0) return failf("stream produced %d frame(s)", frames);
    }
    if (strcmp(edge_err_name(rc), kind) != 0) return failf("got \"%s\", expected \"%s\"", edge_err_name(rc), kind);
    return true;
}



void run_vectors(const char *path)
{
    char *text = read_file(path);
    jnode_t *doc;
    const jnode_t *valid, *malformed, *crc;
    size_t err = 0, i;
    char what[256], flags[64];
    if (text == NULL) {
        g_fail++;
        printf("FAIL vectors: cannot read %s\n", path);
        return;
    }
    doc = json_parse(text, &err);
    free(text);
    if (doc == NULL) {
        g_fail++;
        printf("FAIL vectors: JSON syntax error at offset %zu\n", err);
        return;
    }
    crc = json_get(doc, "crcCheck");
    {
        const char *in = json_get(crc, "input")->str;
        unsigned want = (unsigned)strtoul(json_get(crc, "crc")->str, NULL, 16);
        unsigned got = edge_crc16((const uint8_t *)in, strlen(in));
        if (got != want) failf("CRC 0x%04x, expected 0x%04x", got, want);
        report(got == want, "vectors crcCheck");
    }
    valid = json_get(doc, "valid");
    for (i = 0; i < json_count(valid); i++) {
        const jnode_t *v = json_at(valid, i);
        bool ok = check_valid_vector(v, flags, sizeof flags);
        snprintf(what, sizeof what, "valid %zu [%s] %s", i, ok ? flags : "-", json_get(v, "name")->str);
        report(ok, what);
    }
    malformed = json_get(doc, "malformed");
    for (i = 0; i < json_count(malformed); i++) {
        const jnode_t *v = json_at(malformed, i);
        bool ok = check_malformed_vector(v);
        snprintf(what, sizeof what, "malformed %zu [%s] %s", i, json_get(v, "kind")->str, json_get(v, "name")->str);
        report(ok, what);
    }
    json_free(doc);
}
