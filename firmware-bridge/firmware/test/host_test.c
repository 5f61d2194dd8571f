/*
 * Host tests of the edge_proto firmware library.
 *
 *   host_test VECTORS_JSON          shared vectors + unit tests + fuzz; one "ok ..." / "FAIL ..." line each
 *   host_test --emit                frames built by the C encoder, for the TypeScript cross-check
 *   host_test --decode FILE         decodes "name frame|wire HEX" lines produced by the TypeScript codec
 *
 * The last line is "summary N passed M failed"; the exit status is non-zero if anything failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "json_mini.h"

/* ------------------------------------------------------------------ reporting */

static int g_pass, g_fail;
static char g_why[512];

static bool failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_why, sizeof g_why, fmt, ap);
    va_end(ap);
    return false;
}

#define EXPECT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) return failf("line %d: %s", __LINE__, #cond);                    \
    } while (0)
#define EXPECT_EQ(a, b)                                                               \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) return failf("line %d: %s == %lld, expected %lld", __LINE__, #a, a_, b_); \
    } while (0)

static void report(bool ok, const char *what)
{
    if (ok) {
        g_pass++;
        printf("ok %s\n", what);
    } else {
        g_fail++;
        printf("FAIL %s: %s\n", what, g_why);
    }
    g_why[0] = '\0';
}

/* ------------------------------------------------------------------ helpers */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (h[0] && h[1] && n < cap) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static void print_hex(const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) printf("%02x", b[i]);
}

static bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const char *what)
{
    size_t i;
    if (an == bn && memcmp(a, b, an) == 0) return true;
    for (i = 0; i < an && i < bn && a[i] == b[i]; i++) {
    }
    return failf("%s differ at byte %zu (lengths %zu vs %zu)", what, i, an, bn);
}

/* A string builder for the JSON description of a decoded frame. */
typedef struct {
    char buf[4096];
    size_t len;
} sb_t;

static void sb_printf(sb_t *sb, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(sb->buf + sb->len, sizeof sb->buf - sb->len, fmt, ap);
    va_end(ap);
    if (n > 0) sb->len += (size_t)n < sizeof sb->buf - sb->len ? (size_t)n : sizeof sb->buf - sb->len - 1;
}

static void sb_text(sb_t *sb, const char *s, size_t len)
{
    size_t i;
    sb_printf(sb, "\"");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') sb_printf(sb, "\\%c", c);
        else if (c < 0x20) sb_printf(sb, "\\u%04x", c);
        else sb_printf(sb, "%c", c);
    }
    sb_printf(sb, "\"");
}

static void sb_num(sb_t *sb, double v)
{
    sb_printf(sb, "%.17g", v);
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case EDGE_T_HELLO: return "hello";
    case EDGE_T_READING: return "reading";
    case EDGE_T_EVENT: return "event";
    case EDGE_T_CONSENT: return "consent";
    case EDGE_T_HEARTBEAT: return "heartbeat";
    case EDGE_T_ACK: return "ack";
    case EDGE_T_COMMAND: return "command";
    case EDGE_T_CONSENT_STATE: return "consent-state";
    default: return "?";
    }
}

static const char *const k_cmd_names[] = {"pause", "resume", "identify", "notify", "reboot"};

/*
 * Decodes a frame's body with the library and describes it as JSON in the shape of the TypeScript Frame
 * ({type, seq, body}, readings normalised to body.readings), so it can be compared with vectors.json
 * "expect" and with what the TypeScript side encoded.
 */
static int describe(const edge_frame_t *f, sb_t *sb)
{
    int rc = EDGE_OK;
    size_t i;
    sb->len = 0;
    sb->buf[0] = '\0';
    sb_printf(sb, "{\"type\":\"%s\",\"seq\":%u,\"body\":{", type_name(f->type), (unsigned)f->seq);
    switch (f->type) {
    case EDGE_T_HELLO: {
        static edge_hello_t h;
        if ((rc = edge_decode_hello(f->body, f->body_len, &h)) != EDGE_OK) return rc;
        sb_printf(sb, "\"id\":");
        sb_text(sb, h.id.s, h.id.len);
        sb_printf(sb, ",\"fw\":");
        sb_text(sb, h.fw.s, h.fw.len);
        sb_printf(sb, ",\"model\":");
        sb_text(sb, h.model.s, h.model.len);
        sb_printf(sb, ",\"ch\":[");
        for (i = 0; i < h.n_ch; i++) {
            sb_printf(sb, "%s{\"n\":%u,\"k\":", i ? "," : "", (unsigned)h.ch[i].n);
            sb_text(sb, h.ch[i].kind.s, h.ch[i].kind.len);
            sb_printf(sb, ",\"c\":\"%s\"}", edge_category_name((int)h.ch[i].category));
        }
        sb_printf(sb, "]");
        break;
    }
    case EDGE_T_READING: {
        static edge_readings_t r;
        if ((rc = edge_decode_reading(f->body, f->body_len, &r)) != EDGE_OK) return rc;
        sb_printf(sb, "\"readings\":[");
        for (i = 0; i < r.n; i++) {
            sb_printf(sb, "%s{\"ch\":%u,\"v\":", i ? "," : "", (unsigned)r.r[i].ch);
            sb_num(sb, r.r[i].v);
            if (r.r[i].has_t) sb_printf(sb, ",\"t\":%llu", (unsigned long long)r.r[i].t);
            sb_printf(sb, "}");
        }
        sb_printf(sb, "]");
        break;
    }
    case EDGE_T_EVENT: {
        edge_event_in_t e;
        if ((rc = edge_decode_event(f->body, f->body_len, &e)) != EDGE_OK) return rc;
        sb_printf(sb, "\"e\":");
        sb_text(sb, e.e.s, e.e.len);
        if (e.has_ch) sb_printf(sb, ",\"ch\":%u", (unsigned)e.ch);
        if (e.has_v) {
            sb_printf(sb, ",\"v\":");
            sb_num(sb, e.v);
        }
        if (e.has_t) sb_printf(sb, ",\"t\":%llu", (unsigned long long)e.t);
        break;
    }
    case EDGE_T_CONSENT: {
        edge_consent_t c;
        if ((rc = edge_decode_consent(f->body, f->body_len, &c)) != EDGE_OK) return rc;
        sb_printf(sb, "\"s\":");
        sb_text(sb, c.s.s, c.s.len);
        sb_printf(sb, ",\"g\":%s", c.g ? "true" : "false");
        break;
    }
    case EDGE_T_HEARTBEAT: {
        edge_heartbeat_t h;
        if ((rc = edge_decode_heartbeat(f->body, f->body_len, &h)) != EDGE_OK) return rc;
        sb_printf(sb, "\"up\":%lu", (unsigned long)h.up);
        if (h.has_rssi) sb_printf(sb, ",\"rssi\":%ld", (long)h.rssi);
        break;
    }
    case EDGE_T_ACK: {
        uint16_t a;
        if ((rc = edge_decode_ack(f->body, f->body_len, &a)) != EDGE_OK) return rc;
        sb_printf(sb, "\"a\":%u", (unsigned)a);
        break;
    }
    case EDGE_T_COMMAND: {
        edge_command_t c;
        if ((rc = edge_decode_command(f->body, f->body_len, &c)) != EDGE_OK) return rc;
        sb_printf(sb, "\"c\":\"%s\"", k_cmd_names[c.c]);
        if (c.has_text) {
            sb_printf(sb, ",\"text\":");
            sb_text(sb, c.text.s, c.text.len);
        }
        if (c.has_led) {
            sb_printf(sb, ",\"led\":");
            sb_text(sb, c.led.s, c.led.len);
        }
        if (c.has_buzz) sb_printf(sb, ",\"buzz\":%s", c.buzz ? "true" : "false");
        if (c.has_campaign) {
            sb_printf(sb, ",\"campaign\":");
            sb_text(sb, c.campaign.s, c.campaign.len);
        }
        if (c.has_signal) {
            sb_printf(sb, ",\"signal\":");
            sb_text(sb, c.signal.s, c.signal.len);
        }
        break;
    }
    case EDGE_T_CONSENT_STATE: {
        edge_consent_state_t s;
        bool first = true;
        int cat;
        if ((rc = edge_decode_consent_state(f->body, f->body_len, &s)) != EDGE_OK) return rc;
        sb_printf(sb, "\"cats\":{");
        for (cat = 0; cat < (int)EDGE_CAT_COUNT; cat++) {
            if (s.present & (1u << cat)) {
                sb_printf(sb, "%s\"%s\":%s", first ? "" : ",", edge_category_name(cat),
                          (s.granted & (1u << cat)) ? "true" : "false");
                first = false;
            }
        }
        sb_printf(sb, "}");
        break;
    }
    default:
        return EDGE_ERR_TYPE;
    }
    sb_printf(sb, "}}");
    return rc;
}

/* Full decode of one decoded frame: header checks, then the body. */
static int decode_all(const uint8_t *buf, size_t len, sb_t *sb)
{
    edge_frame_t f;
    int rc = edge_frame_decode(buf, len, &f);
    return rc != EDGE_OK ? rc : describe(&f, sb);
}

/* Feeds a serial stream; returns the first error (or EDGE_OK) and counts frames. */
static int feed_stream(const uint8_t *wire, size_t n, int *frames, sb_t *last)
{
    static edge_reader_t r;
    size_t i;
    int first_err = EDGE_OK;
    edge_reader_init(&r);
    *frames = 0;
    for (i = 0; i < n; i++) {
        edge_frame_t f;
        int rc = edge_reader_feed(&r, wire[i], &f);
        if (rc == EDGE_READER_FRAME) {
            (*frames)++;
            rc = describe(&f, last);
            if (rc < 0 && first_err == EDGE_OK) first_err = rc;
        } else if (rc < 0 && first_err == EDGE_OK) {
            first_err = rc;
        }
    }
    return first_err;
}

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
        static char strs[3 + EDGE_HELLO_MAX_CHANNELS][64];
        edge_channel_t ch[EDGE_HELLO_MAX_CHANNELS];
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
        n = edge_body_hello(&w, strs[0], strs[1], strs[2], ch, h.n_ch);
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
    default:
        return EDGE_ERR_TYPE; /* gateway-only bodies: the device has no writer for them */
    }
    if (n < 0) return n;
    return edge_frame_encode(f->type, f->seq, body, (size_t)n, out, cap);
}

/* ------------------------------------------------------------------ shared vectors */

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

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    long n;
    char *s;
    if (fp == NULL) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, fp) != (size_t)n) {
        fclose(fp);
        free(s);
        return NULL;
    }
    s[n] = '\0';
    fclose(fp);
    return s;
}

static void run_vectors(const char *path)
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

/* ------------------------------------------------------------------ unit tests */

static bool t_crc(void)
{
    const uint8_t *check = (const uint8_t *)"123456789";
    EXPECT_EQ(edge_crc16(check, 9), 0x29B1);
    EXPECT_EQ(edge_crc16_update(edge_crc16_update(EDGE_CRC16_INIT, check, 4), check + 4, 5), 0x29B1);
    EXPECT_EQ(edge_crc16(check, 0), 0xFFFF);
    return true;
}

static bool cobs_case(const uint8_t *in, size_t n, const uint8_t *want, size_t want_n)
{
    uint8_t enc[800], dec[800];
    int e = edge_cobs_encode(in, n, enc, sizeof enc), d;
    EXPECT(e >= 0);
    if (want != NULL && !bytes_eq(enc, (size_t)e, want, want_n, "COBS")) return false;
    EXPECT((size_t)e <= EDGE_COBS_MAX_ENCODED(n));
    EXPECT(memchr(enc, 0, (size_t)e) == NULL);
    d = edge_cobs_decode(enc, (size_t)e, dec, sizeof dec);
    EXPECT_EQ(d, (long long)n);
    EXPECT(n == 0 || memcmp(dec, in, n) == 0);
    /* in place */
    d = edge_cobs_decode(enc, (size_t)e, enc, sizeof enc);
    EXPECT_EQ(d, (long long)n);
    EXPECT(n == 0 || memcmp(enc, in, n) == 0);
    return true;
}

typedef struct {
    uint8_t buf[4096];
    size_t len;
    int calls;
} sink_t;

static void sink_write(void *ctx, const uint8_t *data, size_t len)
{
    sink_t *s = ctx;
    if (s->len + len <= sizeof s->buf) memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->calls++;
}

static bool t_cobs(void)
{
    uint8_t in[700], want[720], enc[720];
    sink_t sink;
    size_t i;
    int e;
    static const uint8_t zero1[] = {0}, zero1_w[] = {1, 1};
    static const uint8_t zero2[] = {0, 0}, zero2_w[] = {1, 1, 1};
    static const uint8_t empty_w[] = {1};
    static const uint8_t mixed[] = {0x11, 0x22, 0x00, 0x33}, mixed_w[] = {3, 0x11, 0x22, 2, 0x33};
    if (!cobs_case(NULL, 0, empty_w, 1)) return false;
    if (!cobs_case(zero1, 1, zero1_w, 2)) return false;
    if (!cobs_case(zero2, 2, zero2_w, 3)) return false;
    if (!cobs_case(mixed, 4, mixed_w, 5)) return false;
    for (i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i % 255u + 1u);
    /* 253 non-zero bytes: one block, code 0xFE */
    want[0] = 0xFE;
    memcpy(want + 1, in, 253);
    if (!cobs_case(in, 253, want, 254)) return false;
    /* 254 non-zero bytes: a full block (0xFF) and, like the gateway, a final empty block 0x01 */
    want[0] = 0xFF;
    memcpy(want + 1, in, 254);
    want[255] = 0x01;
    if (!cobs_case(in, 254, want, 256)) return false;
    /* 255 non-zero bytes: full block, then a block of one */
    want[255] = 0x02;
    want[256] = in[254];
    if (!cobs_case(in, 255, want, 257)) return false;
    /* 254 non-zero bytes then a zero: the zero starts a new block */
    memcpy(enc, in, 254);
    enc[254] = 0;
    want[255] = 0x01;
    want[256] = 0x01;
    if (!cobs_case(enc, 255, want, 257)) return false;
    /* the classic encoding of 254 bytes (no trailing 0x01) decodes to the same bytes */
    e = edge_cobs_decode(want, 255, enc, sizeof enc);
    EXPECT_EQ(e, 254);
    EXPECT(memcmp(enc, in, 254) == 0);
    /* 597 (largest serial frame) and 700 bytes, with and without zeros */
    if (!cobs_case(in, 597, NULL, 0)) return false;
    EXPECT_EQ(edge_cobs_encode(in, 597, enc, sizeof enc), 600);
    for (i = 0; i < 700; i += 37) in[i] = 0;
    if (!cobs_case(in, 700, NULL, 0)) return false;
    memset(in, 0, 300);
    if (!cobs_case(in, 300, NULL, 0)) return false;
    /* streaming encoder: same bytes plus the delimiter, no buffer */
    memset(&sink, 0, sizeof sink);
    for (i = 0; i < 600; i++) in[i] = (uint8_t)(i * 7u);
    e = edge_cobs_encode(in, 600, enc, sizeof enc);
    EXPECT_EQ(edge_cobs_encode_to(in, 600, sink_write, &sink), (long long)e + 1);
    EXPECT(bytes_eq(sink.buf, sink.len - 1, enc, (size_t)e, "streamed COBS"));
    EXPECT_EQ(sink.buf[sink.len - 1], 0);
    /* malformed runs and small buffers */
    {
        static const uint8_t past_end[] = {0x05, 0x01, 0x02}, inner_zero[] = {0x03, 0x01, 0x00};
        static const uint8_t code_zero[] = {0x02, 0x01, 0x00, 0x01};
        uint8_t small[2];
        EXPECT_EQ(edge_cobs_decode(past_end, 3, enc, sizeof enc), EDGE_ERR_COBS);
        EXPECT_EQ(edge_cobs_decode(inner_zero, 3, enc, sizeof enc), EDGE_ERR_COBS);
        EXPECT_EQ(edge_cobs_decode(code_zero, 4, enc, sizeof enc), EDGE_ERR_COBS);
        EXPECT_EQ(edge_cobs_decode(mixed_w, 5, small, sizeof small), EDGE_ERR_NOSPACE);
        EXPECT_EQ(edge_cobs_encode(mixed, 4, small, sizeof small), EDGE_ERR_NOSPACE);
    }
    return true;
}

/* DESIGN §3 worked example, built with the public API from the values alone. */
static bool t_worked_example(void)
{
    static const uint8_t want[] = {0x04, 0x01, 0x02, 0x07, 0x0c, 0xa2, 0x62, 0x63, 0x68, 0x01, 0x61, 0x76,
                                   0xfb, 0x40, 0x35, 0x80, 0x01, 0x01, 0x01, 0x01, 0x03, 0x9d, 0xa7, 0x00};
    uint8_t body[32], frame[64];
    edge_cbor_writer_t w;
    edge_reading_t r = {1, 21.5, false, 0};
    sink_t sink;
    int n;
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_readings(&w, &r, 1);
    EXPECT_EQ(n, 16);
    n = edge_frame_encode(EDGE_T_READING, 7, body, (size_t)n, frame, sizeof frame);
    EXPECT_EQ(n, 22);
    memset(&sink, 0, sizeof sink);
    edge_cobs_encode_to(frame, (size_t)n, sink_write, &sink);
    return bytes_eq(sink.buf, sink.len, want, sizeof want, "worked example wire");
}

/* Builds a serial frame with the library: type, seq, and a heartbeat body {"up": up}. */
static size_t wire_heartbeat(uint16_t seq, uint32_t up, uint8_t *out)
{
    uint8_t body[16], frame[32];
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_heartbeat(&w, up, false, 0);
    n = edge_frame_encode(EDGE_T_HEARTBEAT, seq, body, (size_t)n, frame, sizeof frame);
    n = edge_cobs_encode(frame, (size_t)n, out, 64);
    out[n] = 0;
    return (size_t)n + 1u;
}

static bool t_reader_resync(void)
{
    static edge_reader_t r;
    uint8_t a[64], b[64];
    static const uint8_t garbage[] = {0x13, 0x37, 0xFF, 0x42, 0x99, 0x07, 0x01};
    size_t an = wire_heartbeat(5, 100, a), bn = wire_heartbeat(6, 200, b), i;
    int frames = 0, errors = 0;
    edge_frame_t f;
    edge_heartbeat_t h;
    edge_reader_init(&r);
    /* join mid-frame: the tail of a frame, then garbage, then 0x00, two empty runs, then two good frames */
    for (i = an / 2; i < an - 1; i++) {
        int rc = edge_reader_feed(&r, a[i], &f);
        EXPECT_EQ(rc, EDGE_READER_NONE);
    }
    for (i = 0; i < sizeof garbage; i++) EXPECT_EQ(edge_reader_feed(&r, garbage[i], &f), EDGE_READER_NONE);
    {
        int rc = edge_reader_feed(&r, 0, &f);
        EXPECT(rc < 0); /* one rejected run, whatever the reason (cobs/short/crc) */
        errors++;
    }
    EXPECT_EQ(edge_reader_feed(&r, 0, &f), EDGE_READER_NONE);
    EXPECT_EQ(edge_reader_feed(&r, 0, &f), EDGE_READER_NONE);
    for (i = 0; i < an; i++) {
        int rc = edge_reader_feed(&r, a[i], &f);
        if (rc == EDGE_READER_FRAME) {
            frames++;
            EXPECT_EQ(f.seq, 5);
            EXPECT_EQ(edge_decode_heartbeat(f.body, f.body_len, &h), EDGE_OK);
            EXPECT_EQ(h.up, 100);
        } else {
            EXPECT_EQ(rc, EDGE_READER_NONE);
        }
    }
    for (i = 0; i < bn; i++) {
        int rc = edge_reader_feed(&r, b[i], &f);
        if (rc == EDGE_READER_FRAME) {
            frames++;
            EXPECT_EQ(f.seq, 6);
        }
    }
    EXPECT_EQ(frames, 2);
    EXPECT_EQ(errors, 1);
    return true;
}

static bool t_reader_oversize(void)
{
    static edge_reader_t r;
    uint8_t a[64];
    size_t an = wire_heartbeat(9, 1, a), i;
    int oversize = 0, frames = 0, other = 0;
    edge_frame_t f;
    edge_reader_init(&r);
    /* 1500 non-zero bytes: reported exactly once, at byte 601, nothing buffered after that */
    for (i = 0; i < 1500; i++) {
        int rc = edge_reader_feed(&r, 0x41, &f);
        if (rc == EDGE_ERR_OVERSIZE) {
            oversize++;
            EXPECT_EQ(i, 600);
        } else if (rc != EDGE_READER_NONE) {
            other++;
        }
    }
    EXPECT_EQ(edge_reader_feed(&r, 0, &f), EDGE_READER_NONE); /* end of the discarded run: silent */
    for (i = 0; i < an; i++) frames += edge_reader_feed(&r, a[i], &f) == EDGE_READER_FRAME;
    EXPECT_EQ(oversize, 1);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(frames, 1);
    /* exactly 600 bytes is not oversize (it is rejected for what it is: bad COBS here) */
    for (i = 0; i < 600; i++) EXPECT_EQ(edge_reader_feed(&r, 0x41, &f), EDGE_READER_NONE);
    EXPECT_EQ(edge_reader_feed(&r, 0, &f), EDGE_ERR_COBS);
    return true;
}

/* The largest frame a device may send on serial (597 bytes -> 600 encoded) passes the reader. */
static bool t_reader_max_frame(void)
{
    static edge_reader_t r;
    static uint8_t body[600], frame[700], wire[700];
    char name[586];
    edge_cbor_writer_t w;
    edge_event_t e;
    edge_event_in_t in;
    edge_frame_t f;
    int n, got = 0;
    size_t i;
    memset(name, 'x', 585);
    name[585] = '\0';
    memset(&e, 0, sizeof e);
    e.e = name;
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_event(&w, &e);
    n = edge_frame_encode(EDGE_T_EVENT, 0x0101, body, (size_t)n, frame, sizeof frame);
    EXPECT_EQ(n, (long long)EDGE_MAX_FRAME);
    n = edge_cobs_encode(frame, (size_t)n, wire, sizeof wire);
    EXPECT(n <= (int)EDGE_MAX_ENCODED_RUN);
    wire[n] = 0;
    edge_reader_init(&r);
    for (i = 0; i <= (size_t)n; i++) {
        int rc = edge_reader_feed(&r, wire[i], &f);
        EXPECT(rc >= 0);
        if (rc == EDGE_READER_FRAME) {
            got++;
            EXPECT_EQ(edge_decode_event(f.body, f.body_len, &in), EDGE_OK);
            EXPECT_EQ(in.e.len, 585);
        }
    }
    EXPECT_EQ(got, 1);
    return true;
}

static bool number_of(const uint8_t *item, size_t n, double want)
{
    edge_cbor_reader_t r;
    double v = -12345.0;
    edge_cbor_reader_init(&r, item, n);
    if (edge_cbor_read_number(&r, &v) != EDGE_OK) return failf("read_number failed at item %02x", item[0]);
    if (!(v == want || (v != v && want != want))) return failf("item %02x: %.17g, expected %.17g", item[0], v, want);
    if (r.pos != n) return failf("item %02x: consumed %zu of %zu", item[0], r.pos, n);
    return true;
}

static bool t_cbor_numbers(void)
{
    static const uint8_t u0[] = {0x17}, u1[] = {0x18, 0x05}, u2[] = {0x19, 0x00, 0x05}, u4[] = {0x1a, 0, 0, 0, 5},
                         u8[] = {0x1b, 0, 0, 0, 0, 0, 0, 0, 5}, n1[] = {0x38, 0x27}, n2[] = {0x39, 0x01, 0x00},
                         n4[] = {0x3a, 0, 1, 0, 0}, n8[] = {0x3b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd},
                         big[] = {0x1b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                         h1[] = {0xf9, 0x3c, 0x00}, hsub[] = {0xf9, 0x00, 0x01}, hmax[] = {0xf9, 0x7b, 0xff},
                         hneg[] = {0xf9, 0xc5, 0x00}, hinf[] = {0xf9, 0xfc, 0x00}, hnan[] = {0xf9, 0x7e, 0x00},
                         s1[] = {0xfa, 0x3f, 0x00, 0x00, 0x00}, d1[] = {0xfb, 0x40, 0x35, 0x80, 0, 0, 0, 0, 0},
                         too_big[] = {0x1b, 0, 0x20, 0, 0, 0, 0, 0, 0}, too_small[] = {0x3b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                         truncated[] = {0x1a, 0, 1};
    edge_cbor_reader_t r;
    double v;
    if (!number_of(u0, sizeof u0, 23) || !number_of(u1, sizeof u1, 5) || !number_of(u2, sizeof u2, 5) ||
        !number_of(u4, sizeof u4, 5) || !number_of(u8, sizeof u8, 5) || !number_of(n1, sizeof n1, -40) ||
        !number_of(n2, sizeof n2, -257) || !number_of(n4, sizeof n4, -65537) ||
        !number_of(n8, sizeof n8, -9007199254740990.0) || !number_of(big, sizeof big, 9007199254740991.0) ||
        !number_of(h1, sizeof h1, 1.0) || !number_of(hsub, sizeof hsub, 1.0 / 16777216.0) ||
        !number_of(hmax, sizeof hmax, 65504.0) || !number_of(hneg, sizeof hneg, -5.0) ||
        !number_of(hinf, sizeof hinf, -1.0 / 0.0) || !number_of(hnan, sizeof hnan, 0.0 / 0.0) ||
        !number_of(s1, sizeof s1, 0.5) || !number_of(d1, sizeof d1, 21.5))
        return false;
    edge_cbor_reader_init(&r, too_big, sizeof too_big);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_FIELD); /* 2^53 does not fit the gateway's doubles */
    edge_cbor_reader_init(&r, too_small, sizeof too_small);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_FIELD);
    edge_cbor_reader_init(&r, truncated, sizeof truncated);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_CBOR);
    EXPECT_EQ(r.pos, 0);
    return true;
}

static int check_hex(const char *h)
{
    uint8_t b[256];
    size_t n = unhex(h, b, sizeof b);
    return edge_cbor_check_body(b, n);
}

static int ack_hex(const char *h, uint16_t *a)
{
    uint8_t b[256];
    size_t n = unhex(h, b, sizeof b);
    return edge_decode_ack(b, n, a);
}

static bool t_cbor_bodies(void)
{
    uint16_t a = 0;
    size_t i;
    /* map of every length encoding, text keys of every length encoding */
    EXPECT_EQ(ack_hex("a1616107", &a), EDGE_OK);
    EXPECT_EQ(a, 7);
    EXPECT_EQ(ack_hex("b8016161190102", &a), EDGE_OK);
    EXPECT_EQ(a, 258);
    EXPECT_EQ(ack_hex("b90001616107", &a), EDGE_OK);
    EXPECT_EQ(ack_hex("ba000000017801611a0000ffff", &a), EDGE_OK);
    EXPECT_EQ(a, 0xFFFF);
    EXPECT_EQ(ack_hex("bb0000000000000001790001611b0000000000000009", &a), EDGE_OK);
    EXPECT_EQ(a, 9);
    EXPECT_EQ(ack_hex("a16161f94500", &a), EDGE_OK); /* a uint sent as a half float 5.0, as the gateway allows */
    EXPECT_EQ(a, 5);
    /* unknown keys of every type around the wanted one are skipped */
    EXPECT_EQ(ack_hex("a8"
                      "617a" "83" "01" "a16171f6" "8282f4f5" "80"       /* z: [1, {q: null}, [[false, true], []]] */
                      "6161" "0c"                                         /* a: 12 */
                      "6166" "fbbff0000000000000"                         /* f: -1.0 */
                      "6167" "fa3f800000"                                 /* g: 1.0f */
                      "6168" "f93c00"                                     /* h: 1.0 half */
                      "626e6e" "3903e7"                                   /* nn: -1000 */
                      "6174" "7900036162" "63"                            /* t: "abc" as text16 */
                      "626d6d" "b900016178b8016179f5",                    /* mm: {x: {y: true}} map16/map8 */
                      &a),
              EDGE_OK);
    EXPECT_EQ(a, 12);
    EXPECT_EQ(ack_hex("a1616119ffff", &a), EDGE_OK);
    EXPECT_EQ(ack_hex("a161611a00010000", &a), EDGE_ERR_FIELD); /* acked seq beyond u16 */
    EXPECT_EQ(ack_hex("a1616120", &a), EDGE_ERR_FIELD);         /* negative */
    EXPECT_EQ(ack_hex("a16161f93e00", &a), EDGE_ERR_FIELD);     /* 1.5 */
    EXPECT_EQ(ack_hex("a16162f5", &a), EDGE_ERR_FIELD);         /* missing "a" */
    EXPECT_EQ(ack_hex("a161616131", &a), EDGE_ERR_FIELD);       /* "a": "1" */
    EXPECT_EQ(ack_hex("a0", &a), EDGE_ERR_FIELD);
    /* malformed or rejected CBOR */
    {
        static const char *const cbor_bad[] = {
            "",                   /* nothing */
            "a2616107",           /* truncated: second pair missing */
            "a1616118",           /* truncated argument */
            "a1626161",           /* truncated key */
            "bf616107ff",         /* indefinite-length map */
            "a161619f01ff",       /* indefinite-length array */
            "a161617f6161ff",     /* indefinite-length text */
            "a1616141aa",         /* byte string */
            "a16161c101",         /* tag */
            "a16161f7",           /* undefined */
            "a16161f0",           /* simple value 16 */
            "a16161f820",         /* simple value 32 */
            "a16161ff",           /* stray break */
            "a161611c",           /* reserved additional info 28 */
            "a101f5",             /* integer key */
            "a16161a101f5",       /* integer key in a nested map */
            "a161619b7fffffffffffffff", /* array claiming 2^63 items */
            "bb7fffffffffffffff", /* map claiming 2^63 pairs */
            "a1616107a0",         /* trailing bytes */
            "8101",               /* not a map */
            "6161",               /* not a map */
        };
        for (i = 0; i < sizeof cbor_bad / sizeof cbor_bad[0]; i++) {
            if (check_hex(cbor_bad[i]) != EDGE_ERR_CBOR) return failf("\"%s\" gave %s, expected cbor", cbor_bad[i], edge_err_name(check_hex(cbor_bad[i])));
        }
    }
    /* out-of-range integers anywhere are field errors (as the gateway's bigint check), after structure */
    EXPECT_EQ(check_hex("a1617a1b0020000000000000"), EDGE_ERR_FIELD);
    EXPECT_EQ(check_hex("a2617a1b0020000000000000617a"), EDGE_ERR_CBOR);
    /* nesting: items at depth 8 (top map = 0) are accepted, at depth 9 not, exactly the gateway's limit */
    EXPECT_EQ(check_hex("a1617a818181818181818101"), EDGE_ERR_CBOR); /* scalar at depth 9 */
    EXPECT_EQ(check_hex("a1617a818181818181818180"), EDGE_ERR_CBOR); /* empty array at depth 9 */
    EXPECT_EQ(check_hex("a1617a8181818181818101"), EDGE_OK);         /* scalar at depth 8 */
    EXPECT_EQ(check_hex("a1617a8181818181818180"), EDGE_OK);         /* empty array at depth 8 */
    EXPECT_EQ(check_hex("a1617a81818181818181a1617801"), EDGE_ERR_CBOR); /* map at depth 8 holding a value */
    /* every truncation of a valid body is rejected, never read past */
    {
        uint8_t b[64];
        size_t n = unhex("a3626368026176fbc00a00000000000061741a0001e240", b, sizeof b), k;
        for (k = 0; k < n; k++) {
            uint8_t *copy = malloc(k ? k : 1); /* exact-size heap copy: ASan catches any over-read */
            int rc;
            memcpy(copy, b, k);
            rc = edge_cbor_check_body(copy, k);
            free(copy);
            if (rc != EDGE_ERR_CBOR) return failf("prefix of %zu bytes gave %s", k, edge_err_name(rc));
        }
        EXPECT_EQ(edge_cbor_check_body(b, n), EDGE_OK);
    }
    return true;
}

static bool t_gateway_bodies(void)
{
    uint8_t b[256];
    size_t n;
    edge_command_t c;
    edge_consent_state_t s;
    n = unhex("a56163666e6f7469667964746578746a436f66666565206c6f77636c656465616d6265726462757a7af5"
              "6178a1617982010f", b, sizeof b);
    /* {c: notify, text: "Coffee low", led: "amber", buzz: true, x: {y: [1, 15]}} (x unknown) -- 5 pairs */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK);
    EXPECT_EQ(c.c, EDGE_CMD_NOTIFY);
    EXPECT(c.has_text && edge_cbor_text_eq(c.text.s, c.text.len, "Coffee low"));
    EXPECT(c.has_led && edge_cbor_text_eq(c.led.s, c.led.len, "amber"));
    EXPECT(c.has_buzz && c.buzz);
    EXPECT(!c.has_campaign && !c.has_signal);
    n = unhex("a36163666e6f746966796863616d706169676e626331667369676e616c627331", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK); /* a campaign trigger: {c: notify, campaign: c1, signal: s1} */
    EXPECT(c.has_campaign && edge_cbor_text_eq(c.campaign.s, c.campaign.len, "c1"));
    EXPECT(c.has_signal && edge_cbor_text_eq(c.signal.s, c.signal.len, "s1"));
    EXPECT(!c.has_text && !c.has_led && !c.has_buzz);
    n = unhex("a161636570617573", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_CBOR); /* truncated text */
    n = unhex("a16163656475726e6b", b, sizeof b);             /* "c": "durnk" */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD);
    n = unhex("a261636570617573656474657874f5", b, sizeof b); /* text: true */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD);
    n = unhex("a0", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD); /* no "c" */
    n = unhex("a16163667265626f6f74", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK);
    EXPECT_EQ(c.c, EDGE_CMD_REBOOT);
    /* consent-state: all six categories, map16 form, unknown category rejected, non-bool rejected */
    n = unhex("a16463617473b900066b656e7669726f6e6d656e74f56870726573656e6365f4657573616765f5"
              "686c6f636174696f6ef4666865616c7468f46962696f6d6574726963f5", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_OK);
    EXPECT_EQ(s.present, 0x3F);
    EXPECT_EQ(s.granted, (1 << EDGE_CAT_ENVIRONMENT) | (1 << EDGE_CAT_USAGE) | (1 << EDGE_CAT_BIOMETRIC));
    n = unhex("a16463617473a0", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_OK);
    EXPECT_EQ(s.present, 0);
    n = unhex("a16463617473a1646d6f6f64f5", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    n = unhex("a16463617473a165757361676501", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    n = unhex("a164636174738101", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    return true;
}

static bool writer_case(void (*put)(edge_cbor_writer_t *, double), double v, const char *want_hex, edge_float_mode_t mode)
{
    uint8_t buf[16], want[16];
    size_t wn = unhex(want_hex, want, sizeof want);
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, buf, sizeof buf);
    w.float_mode = mode;
    put(&w, v);
    n = edge_cbor_writer_finish(&w);
    if (n < 0) return failf("%.17g: %s", v, edge_err_name(n));
    if (!bytes_eq(buf, (size_t)n, want, wn, "writer output")) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%.17g (expected %.40s): %.400s", v, want_hex, g_why);
        return failf("%s", tmp);
    }
    return true;
}

static void put_num(edge_cbor_writer_t *w, double v) { edge_cbor_put_number(w, v); }
static void put_i64(edge_cbor_writer_t *w, double v) { edge_cbor_put_int(w, (int64_t)v); }

static bool t_cbor_writer(void)
{
    uint8_t buf[8];
    edge_cbor_writer_t w;
    static const struct {
        double v;
        const char *hex;
    } ints[] = {
        {0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"}, {65535, "19ffff"}, {65536, "1a00010000"},
        {4294967295.0, "1affffffff"}, {4294967296.0, "1b0000000100000000"}, {-1, "20"}, {-24, "37"}, {-25, "3818"},
        {-256, "38ff"}, {-257, "390100"}, {-65537, "3a00010000"}, {-4294967297.0, "3b0000000100000000"},
    };
    size_t i;
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (!writer_case(put_i64, ints[i].v, ints[i].hex, EDGE_FLOAT_DOUBLE)) return false;
        if (!writer_case(put_num, ints[i].v, ints[i].hex, EDGE_FLOAT_DOUBLE)) return false; /* integral -> int */
    }
    /* INT64_MIN and UINT64_MAX need the full 8-byte argument */
    {
        uint8_t big[9];
        edge_cbor_writer_init(&w, big, sizeof big);
        edge_cbor_put_int(&w, INT64_MIN);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT(big[0] == 0x3b && big[1] == 0x7f && big[8] == 0xff);
        edge_cbor_writer_init(&w, big, sizeof big);
        edge_cbor_put_uint(&w, UINT64_MAX);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT(big[0] == 0x1b && big[8] == 0xff);
    }
    /* canonical mode: non-integral numbers as doubles, as the gateway and the vectors */
    if (!writer_case(put_num, 21.5, "fb4035800000000000", EDGE_FLOAT_DOUBLE)) return false;
    if (!writer_case(put_num, -3.25, "fbc00a000000000000", EDGE_FLOAT_DOUBLE)) return false;
    if (!writer_case(put_num, 1e300, "fb7e37e43c8800759c", EDGE_FLOAT_DOUBLE)) return false;
    /* shortest mode: the narrowest exact width */
    if (!writer_case(put_num, 21.5, "f94d60", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 0.5, "f93800", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, -65504.5, "fac77fe080", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 1.0 / 16777216.0, "f90001", EDGE_FLOAT_SHORTEST)) return false;   /* half subnormal */
    if (!writer_case(put_num, 1.0 / 33554432.0, "fa33000000", EDGE_FLOAT_SHORTEST)) return false; /* 2^-25: single */
    if (!writer_case(put_num, (double)(float)(1.0 / 3.0), "fa3eaaaaab", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 0.1, "fb3fb999999999999a", EDGE_FLOAT_SHORTEST)) return false;
    {
        /* beyond FLT_MAX: a double, and no undefined float conversion on the way */
        uint8_t out[16];
        edge_cbor_writer_init(&w, out, sizeof out);
        w.float_mode = EDGE_FLOAT_SHORTEST;
        edge_cbor_put_number(&w, 1e39);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT_EQ(out[0], 0xfb);
    }
    /* non-finite numbers are refused (the gateway would count a field error) */
    edge_cbor_writer_init(&w, buf, sizeof buf);
    edge_cbor_put_number(&w, 0.0 / 0.0);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_ARG);
    edge_cbor_writer_init(&w, buf, sizeof buf);
    edge_cbor_put_half(&w, 0.1);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_ARG);
    /* overflow is sticky and reported once at the end */
    edge_cbor_writer_init(&w, buf, 4);
    edge_cbor_put_map(&w, 1);
    edge_cbor_put_cstr(&w, "abcdef");
    edge_cbor_put_uint(&w, 1);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_NOSPACE);
    EXPECT(w.len <= 4);
    /* the shortest form round-trips every double bit for bit */
    {
        uint32_t seed = 12345;
        for (i = 0; i < 20000; i++) {
            uint8_t out[16];
            uint64_t bits = 0;
            double v, back;
            edge_cbor_reader_t r;
            int k;
            for (k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                bits = (bits << 16) | (seed >> 16);
            }
            if (i % 3 == 0) bits &= 0xFFFFFFFFE0000000ull;  /* single-representable */
            if (i % 3 == 1) bits &= 0xC7FFFC0000000000ull;  /* mostly half-representable */
            memcpy(&v, &bits, sizeof v);
            if (v != v || v - v != 0.0) continue;
            edge_cbor_writer_init(&w, out, sizeof out);
            w.float_mode = EDGE_FLOAT_SHORTEST;
            edge_cbor_put_number(&w, v);
            EXPECT(edge_cbor_writer_finish(&w) > 0);
            edge_cbor_reader_init(&r, out, w.len);
            EXPECT_EQ(edge_cbor_read_number(&r, &back), EDGE_OK);
            if (memcmp(&back, &v, sizeof v) != 0 && !(v == 0.0 && back == 0.0))
                return failf("%.17g came back as %.17g", v, back);
        }
    }
    return true;
}

/* ------------------------------------------------------------------ session */

static sink_t g_tx;

static bool gateway_frame(uint8_t type, uint16_t seq, const char *body_hex, edge_frame_t *f, uint8_t *store)
{
    uint8_t body[128];
    size_t bn = unhex(body_hex, body, sizeof body);
    int n = edge_frame_encode(type, seq, body, bn, store, 160);
    EXPECT(n > 0);
    EXPECT_EQ(edge_frame_decode(store, (size_t)n, f), EDGE_OK);
    return true;
}

/* Decodes everything the session wrote since the last call; returns the number of frames. */
static int drain(edge_frame_t *frames, uint8_t (*store)[EDGE_MAX_ENCODED_RUN], int max)
{
    static edge_reader_t r;
    size_t i;
    int n = 0;
    edge_reader_init(&r);
    for (i = 0; i < g_tx.len; i++) {
        edge_frame_t f;
        if (edge_reader_feed(&r, g_tx.buf[i], &f) == EDGE_READER_FRAME && n < max) {
            size_t len = f.body_len + EDGE_FRAME_OVERHEAD;
            memcpy(store[n], f.body - EDGE_FRAME_HEADER, len);
            EXPECT_EQ(edge_frame_decode(store[n], len, &frames[n]), EDGE_OK);
            n++;
        }
    }
    g_tx.len = 0;
    g_tx.calls = 0;
    return n;
}

static bool t_session(void)
{
    static edge_session_t s;
    static uint8_t store[4][EDGE_MAX_ENCODED_RUN];
    uint8_t body[64], gw[160];
    edge_frame_t out[4], f;
    edge_inbound_t in;
    edge_cbor_writer_t w;
    edge_reading_t rd = {1, 21.5, false, 0};
    uint16_t a;
    int n, seq, i;

    memset(&g_tx, 0, sizeof g_tx);
    edge_session_init(&s, EDGE_LINK_SERIAL, sink_write, &g_tx);
    /* a heartbeat is not kept; a reading is */
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_heartbeat(&w, 10, true, -60);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_HEARTBEAT, body, (size_t)n, 0), 0);
    EXPECT_EQ(edge_session_pending(&s), 0);
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_readings(&w, &rd, 1);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 1000), 1);
    EXPECT_EQ(edge_session_pending(&s), 1);
    EXPECT_EQ(drain(out, store, 4), 2);
    EXPECT(out[0].type == EDGE_T_HEARTBEAT && out[0].seq == 0);
    EXPECT(out[1].type == EDGE_T_READING && out[1].seq == 1);
    /* retransmission after 2 s, identical bytes and seq */
    EXPECT_EQ(edge_session_poll(&s, 2999), 0);
    EXPECT_EQ(edge_session_poll(&s, 3000), 1);
    EXPECT_EQ(drain(out, store, 4), 1);
    EXPECT(out[0].type == EDGE_T_READING && out[0].seq == 1 && out[0].body_len == (size_t)n);
    EXPECT(memcmp(out[0].body, body, (size_t)n) == 0);
    EXPECT_EQ(edge_session_poll(&s, 4999), 0);
    /* an ack for another seq changes nothing, the right one releases the slot */
    if (!gateway_frame(EDGE_T_ACK, 3, "a1616105", &f, gw)) return false;
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_ACK);
    EXPECT(!in.ack_matched);
    EXPECT_EQ(edge_session_pending(&s), 1);
    if (!gateway_frame(EDGE_T_ACK, 4, "b90001616101", &f, gw)) return false; /* map16, as cbor-x may send */
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_ACK);
    EXPECT(in.ack_matched && in.acked_seq == 1);
    EXPECT_EQ(edge_session_pending(&s), 0);
    EXPECT_EQ(edge_session_poll(&s, 10000), 0);
    /* queue full: nothing sent and no seq used */
    for (i = 0; i < (int)EDGE_SESSION_SLOTS; i++) {
        EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 20000), 2 + i);
    }
    g_tx.len = 0;
    EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 20000), EDGE_ERR_QUEUE_FULL);
    EXPECT_EQ(g_tx.len, 0);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_COMMAND, body, (size_t)n, 20000), EDGE_ERR_ARG);
    /* retransmit timing across the u32 millisecond wrap */
    for (i = 0; i < (int)EDGE_SESSION_SLOTS; i++) s.pending[i].sent_ms = 0xFFFFFF00u;
    EXPECT_EQ(edge_session_poll(&s, 0x00000100u), 0);
    EXPECT_EQ(edge_session_poll(&s, 0xFFFFFF00u + 2000u), (long long)EDGE_SESSION_SLOTS);
    EXPECT_EQ(s.retransmits, 1 + EDGE_SESSION_SLOTS);
    g_tx.len = 0;
    seq = s.next_seq;
    /* a command is acked at once with the device's next seq; its repeat is re-acked but not run again */
    if (!gateway_frame(EDGE_T_COMMAND, 40, "a16163686964656e74696679", &f, gw)) return false;
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_COMMAND);
    EXPECT_EQ(in.command.c, EDGE_CMD_IDENTIFY);
    EXPECT_EQ(drain(out, store, 4), 1);
    EXPECT(out[0].type == EDGE_T_ACK && out[0].seq == seq);
    EXPECT_EQ(edge_decode_ack(out[0].body, out[0].body_len, &a), EDGE_OK);
    EXPECT_EQ(a, 40);
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_NONE);
    EXPECT_EQ(drain(out, store, 4), 1);
    EXPECT(out[0].type == EDGE_T_ACK && out[0].seq == seq + 1);
    if (!gateway_frame(EDGE_T_COMMAND, 41, "a161636570617573", &f, gw)) return false; /* truncated body */
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_ERR_CBOR);
    EXPECT_EQ(drain(out, store, 4), 0); /* a bad command is not acked */
    /* consent-state */
    if (!gateway_frame(EDGE_T_CONSENT_STATE, 42, "a16463617473a2657573616765f5666865616c7468f4", &f, gw)) return false;
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_CONSENT_STATE);
    EXPECT_EQ(in.consent.present, (1 << EDGE_CAT_USAGE) | (1 << EDGE_CAT_HEALTH));
    EXPECT_EQ(in.consent.granted, 1 << EDGE_CAT_USAGE);
    /* device-only types are not accepted from the gateway */
    if (!gateway_frame(EDGE_T_READING, 43, "a2626368016176f94d60", &f, gw)) return false;
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_ERR_TYPE);
    /* seq wraps 0xFFFF -> 0 */
    s.next_seq = 0xFFFF;
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_heartbeat(&w, 1, false, 0);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_HEARTBEAT, body, (size_t)n, 0), 0xFFFF);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_HEARTBEAT, body, (size_t)n, 0), 0);
    /* a body larger than a slot is refused without using a seq */
    {
        static uint8_t large[EDGE_SESSION_SLOT_BYTES];
        memset(large, 0x61, sizeof large);
        large[0] = 0xa0;
        edge_session_init(&s, EDGE_LINK_SERIAL, sink_write, &g_tx);
        seq = s.next_seq;
        EXPECT_EQ(edge_session_send(&s, EDGE_T_EVENT, large, sizeof large, 0), EDGE_ERR_NOSPACE);
        EXPECT_EQ(s.next_seq, seq);
    }
    /* BLE: one raw frame per write call */
    memset(&g_tx, 0, sizeof g_tx);
    edge_session_init(&s, EDGE_LINK_BLE, sink_write, &g_tx);
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_readings(&w, &rd, 1);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 0), 0);
    EXPECT_EQ(g_tx.calls, 1);
    EXPECT_EQ(g_tx.len, (long long)n + 6);
    EXPECT_EQ(edge_frame_decode(g_tx.buf, g_tx.len, &f), EDGE_OK);
    return true;
}

/*
 * What the firmware does right after boot and around its timers (found by running it as firmware against the
 * gateway): the first serial byte is a delimiter, so the first frame is not glued to the ROM boot log; a poll
 * with a time taken before the last send does not resend at once; a consent-state that arrives before the
 * device's first hello does not count as registration.
 */
static bool t_session_boot(void)
{
    static edge_session_t s;
    static uint8_t store[4][EDGE_MAX_ENCODED_RUN];
    static const edge_channel_t ch[] = {{1, "weight", EDGE_CAT_USAGE}};
    static const struct { uint32_t now, deadline; bool reached; } clock_cases[] = {
        {0, 0, true}, {1, 0, true}, {0, 1, false}, {999, 1000, false}, {1000, 1000, true},
        {0x00000010u, 0xFFFFFFF0u, true},  /* deadline just before the wrap, now just after it */
        {0xFFFFFFF0u, 0x00000010u, false}, /* deadline just after the wrap, now before it */
        {0x7FFFFFFFu, 0, true}, {0x80000000u, 0, false}, /* half the clock apart: counted as not yet */
    };
    uint8_t body[128], gw[160];
    edge_frame_t out[4], f;
    edge_inbound_t in;
    edge_cbor_writer_t w;
    edge_reading_t rd = {1, 21.5, false, 0};
    size_t i;
    int n;

    for (i = 0; i < sizeof clock_cases / sizeof clock_cases[0]; i++) {
        if (edge_ms_reached(clock_cases[i].now, clock_cases[i].deadline) != clock_cases[i].reached) {
            return failf("edge_ms_reached(0x%08x, 0x%08x) != %d", (unsigned)clock_cases[i].now,
                         (unsigned)clock_cases[i].deadline, clock_cases[i].reached);
        }
    }

    /* leading delimiter on serial, once per session (= per boot) */
    memset(&g_tx, 0, sizeof g_tx);
    edge_session_init(&s, EDGE_LINK_SERIAL, sink_write, &g_tx);
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_hello(&w, "scale-1", "1.2.0", "kitchen-scale", ch, 1);
    EXPECT(n > 0);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_HELLO, body, (size_t)n, 0), 0);
    EXPECT(g_tx.len > 2);
    EXPECT_EQ(g_tx.buf[0], 0x00);
    EXPECT(g_tx.buf[1] != 0x00);
    {
        size_t first = g_tx.len;
        EXPECT_EQ(edge_session_send(&s, EDGE_T_HELLO, body, (size_t)n, 0), 1);
        EXPECT(g_tx.buf[first] != 0x00); /* only the first frame after init gets it */
    }
    EXPECT_EQ(drain(out, store, 4), 2);
    EXPECT(out[0].type == EDGE_T_HELLO && out[0].seq == 0);

    /* no spurious resend when the poll's time was taken before the send's (the loop's time vs a fresh one) */
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_readings(&w, &rd, 1);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 1001), 2);
    (void)drain(out, store, 4);
    EXPECT_EQ(edge_session_poll(&s, 1000), 0);
    EXPECT_EQ(edge_session_poll(&s, 1001 + EDGE_SESSION_RETRANSMIT_MS - 1), 0);
    EXPECT_EQ(edge_session_poll(&s, 1001 + EDGE_SESSION_RETRANSMIT_MS), 1);
    EXPECT_EQ(s.retransmits, 1);
    (void)drain(out, store, 4);

    /* BLE has no delimiter */
    memset(&g_tx, 0, sizeof g_tx);
    edge_session_init(&s, EDGE_LINK_BLE, sink_write, &g_tx);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_READING, body, (size_t)n, 0), 0);
    EXPECT_EQ(g_tx.len, (long long)n + 6);

    /* consent-state before the first hello: decoded for the app, but not registration */
    memset(&g_tx, 0, sizeof g_tx);
    edge_session_init(&s, EDGE_LINK_SERIAL, sink_write, &g_tx);
    if (!gateway_frame(EDGE_T_CONSENT_STATE, 7, "a16463617473a1657573616765f5", &f, gw)) return false;
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_CONSENT_STATE);
    EXPECT_EQ(in.consent.granted, 1 << EDGE_CAT_USAGE);
    EXPECT(!edge_session_registered(&s));
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_hello(&w, "scale-1", "1.2.0", "kitchen-scale", ch, 1);
    EXPECT_EQ(edge_session_send(&s, EDGE_T_HELLO, body, (size_t)n, 0), 0);
    EXPECT(!edge_session_registered(&s));
    EXPECT_EQ(edge_session_handle(&s, &f, &in), EDGE_IN_CONSENT_STATE);
    EXPECT(edge_session_registered(&s));
    /* a new session (reboot) must say hello again */
    edge_session_init(&s, EDGE_LINK_SERIAL, sink_write, &g_tx);
    EXPECT(!edge_session_registered(&s));
    return true;
}

/* ------------------------------------------------------------------ fuzz */

static uint32_t g_rng = 0x9E3779B9u;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static bool is_known_err(int rc)
{
    return rc == EDGE_OK || rc == EDGE_ERR_SHORT || rc == EDGE_ERR_VERSION || rc == EDGE_ERR_CRC ||
           rc == EDGE_ERR_TYPE || rc == EDGE_ERR_CBOR || rc == EDGE_ERR_FIELD || rc == EDGE_ERR_COBS ||
           rc == EDGE_ERR_OVERSIZE || rc == EDGE_ERR_NOSPACE;
}

/* Random byte streams, with fragments of real frames and zeros mixed in, must never crash the reader. */
static bool t_fuzz_stream(void)
{
    static edge_reader_t r;
    uint8_t good[64];
    size_t gn = wire_heartbeat(77, 5, good);
    long frames = 0, errors = 0, i;
    sb_t sb;
    edge_reader_init(&r);
    for (i = 0; i < 2000000; i++) {
        uint32_t x = rnd();
        uint8_t byte;
        edge_frame_t f;
        int rc;
        switch (x & 7u) {
        case 0: byte = 0; break;
        case 1: byte = good[(x >> 8) % gn]; break;
        default: byte = (uint8_t)(x >> 8); break;
        }
        if ((x >> 20) == 0) { /* now and then a whole good frame, after a delimiter */
            size_t k;
            (void)edge_reader_feed(&r, 0, &f);
            for (k = 0; k < gn; k++) {
                rc = edge_reader_feed(&r, good[k], &f);
                if (rc == EDGE_READER_FRAME) frames++;
            }
        }
        rc = edge_reader_feed(&r, byte, &f);
        if (rc == EDGE_READER_FRAME) {
            frames++;
            rc = describe(&f, &sb);
        }
        if (rc < 0) errors++;
        if (!is_known_err(rc < 0 ? rc : EDGE_OK)) return failf("unexpected code %d", rc);
    }
    printf("info fuzz stream: 2000000 bytes, %ld frames, %ld rejected runs\n", frames, errors);
    EXPECT(frames > 0 && errors > 0);
    return true;
}

/* Mutated real frames and random bodies through every decoder; valid random readings round-trip. */
static bool t_fuzz_bodies(void)
{
    static const char *const seeds[] = {
        "01010000a4626964677363616c652d3162667765312e322e30656d6f64656c6d6b69746368656e2d7363616c6562636882a3616e01616b667765696768746163657573616765a3616e02616b656576656e74616365757361676594b5",
        "01021100a16172828301fb3ff80000000000000a8201fb3ffc000000000000695f",
        "01031500a461656864697370656e7365626368026176fb4032800000000000617419138808b0",
        "01820500a26163666e6f7469667964746578746a436f66666565206c6f7734a8",
        "01830600a16463617473a2657573616765f5666865616c7468f4292b",
        "01052900a26275700764727373693842dd70",
    };
    uint8_t buf[256];
    sb_t sb;
    long i, ok = 0;
    for (i = 0; i < 300000; i++) {
        size_t n = unhex(seeds[i % 6], buf, sizeof buf), k, flips = 1 + rnd() % 4;
        uint16_t crc;
        uint8_t *copy;
        edge_frame_t f;
        int rc;
        if (i % 5 == 4) {
            n = 5 + rnd() % 60; /* random body */
            for (k = 4; k < n; k++) buf[k] = (uint8_t)rnd();
            buf[4] = (uint8_t)(0xa0 + rnd() % 4);
        } else {
            for (k = 0; k < flips; k++) buf[4 + rnd() % (n - 6)] ^= (uint8_t)(1u << (rnd() % 8));
            if (rnd() % 4 == 0) n = 4 + 1 + rnd() % (n - 4); /* truncate */
        }
        crc = edge_crc16(buf, n); /* re-seal so the mutation reaches the CBOR reader */
        buf[n] = (uint8_t)crc;
        buf[n + 1] = (uint8_t)(crc >> 8);
        copy = malloc(n + 2);
        memcpy(copy, buf, n + 2);
        rc = edge_frame_decode(copy, n + 2, &f);
        if (rc == EDGE_OK) rc = describe(&f, &sb);
        free(copy);
        if (!is_known_err(rc)) return failf("unexpected code %d", rc);
        ok += rc == EDGE_OK;
    }
    printf("info fuzz bodies: 300000 mutated frames, %ld still decoded\n", ok);
    /* property: random readings, both float modes, batched or not, decode to the same values */
    for (i = 0; i < 20000; i++) {
        edge_reading_t in[5];
        edge_readings_t back;
        edge_cbor_writer_t w;
        size_t n = 1 + rnd() % 5, k;
        int len;
        for (k = 0; k < n; k++) {
            in[k].ch = rnd() % 70000u;
            in[k].v = (double)(int32_t)rnd() / (double)(1u << (rnd() % 20));
            in[k].has_t = rnd() % 2;
            in[k].t = in[k].has_t ? ((uint64_t)rnd() << (rnd() % 21)) : 0;
        }
        edge_cbor_writer_init(&w, buf, sizeof buf);
        w.float_mode = (edge_float_mode_t)(i % 2);
        len = edge_body_readings(&w, in, n);
        EXPECT(len > 0);
        EXPECT_EQ(edge_decode_reading(buf, (size_t)len, &back), EDGE_OK);
        EXPECT_EQ(back.n, (long long)n);
        for (k = 0; k < n; k++) {
            if (back.r[k].ch != in[k].ch || back.r[k].v != in[k].v || back.r[k].has_t != in[k].has_t ||
                back.r[k].t != in[k].t)
                return failf("reading %zu of %zu did not round-trip (v %.17g vs %.17g)", k, n, back.r[k].v, in[k].v);
        }
    }
    return true;
}

/* ------------------------------------------------------------------ cross-check modes */

static void emit(const char *name, uint8_t type, uint16_t seq, const edge_cbor_writer_t *w)
{
    uint8_t frame[EDGE_MAX_FRAME], wire[EDGE_MAX_ENCODED_RUN];
    int n = edge_cbor_writer_finish(w), e;
    if (n < 0) {
        printf("FAIL emit %s: %s\n", name, edge_err_name(n));
        g_fail++;
        return;
    }
    n = edge_frame_encode(type, seq, w->buf, (size_t)n, frame, sizeof frame);
    e = edge_cobs_encode(frame, (size_t)n, wire, sizeof wire);
    printf("emit %s ", name);
    print_hex(frame, (size_t)n);
    printf(" ");
    print_hex(wire, (size_t)e);
    printf("00\n");
}

static void run_emit(void)
{
    uint8_t b[512];
    edge_cbor_writer_t w;
    edge_reading_t r[3];
    edge_event_t e;
    static const edge_channel_t ch[] = {{1, "weight", EDGE_CAT_USAGE}, {2, "event", EDGE_CAT_USAGE}, {3, "pulse", EDGE_CAT_HEALTH}};

#define W(mode) (edge_cbor_writer_init(&w, b, sizeof b), w.float_mode = (mode))
    W(EDGE_FLOAT_DOUBLE);
    r[0] = (edge_reading_t){1, 0.1, false, 0};
    edge_body_readings(&w, r, 1);
    emit("reading-double", EDGE_T_READING, 100, &w);
    W(EDGE_FLOAT_SHORTEST);
    r[0] = (edge_reading_t){1, 21.5, true, 123456};
    edge_body_readings(&w, r, 1);
    emit("reading-half", EDGE_T_READING, 101, &w);
    W(EDGE_FLOAT_SHORTEST);
    r[0] = (edge_reading_t){7, (double)(float)(1.0 / 3.0), false, 0};
    edge_body_readings(&w, r, 1);
    emit("reading-single", EDGE_T_READING, 102, &w);
    W(EDGE_FLOAT_DOUBLE);
    r[0] = (edge_reading_t){1, 1000, false, 0};
    r[1] = (edge_reading_t){2, -40, true, 4294967296ull};
    r[2] = (edge_reading_t){300, 100000, true, 5};
    edge_body_readings(&w, r, 3);
    emit("batched-ints", EDGE_T_READING, 103, &w);
    W(EDGE_FLOAT_SHORTEST);
    r[0] = (edge_reading_t){1, 21.5, false, 0};
    r[1] = (edge_reading_t){2, (double)(float)(1.0 / 3.0), true, 10};
    r[2] = (edge_reading_t){3, 0.1, false, 0};
    edge_body_readings(&w, r, 3);
    emit("batched-float-widths", EDGE_T_READING, 104, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_hello(&w, "scale-7", "2.0.1", "kitchen-scale", ch, 3);
    emit("hello", EDGE_T_HELLO, 0, &w);
    W(EDGE_FLOAT_DOUBLE);
    e = (edge_event_t){"dispense", true, true, true, 2, 18.5, 1099511627776ull};
    edge_body_event(&w, &e);
    emit("event-full", EDGE_T_EVENT, 105, &w);
    W(EDGE_FLOAT_DOUBLE);
    e = (edge_event_t){"button", false, false, false, 0, 0, 0};
    edge_body_event(&w, &e);
    emit("event-min", EDGE_T_EVENT, 106, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_consent(&w, "health", true);
    emit("consent-health", EDGE_T_CONSENT, 107, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_consent(&w, "device", false);
    emit("consent-device", EDGE_T_CONSENT, 108, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_heartbeat(&w, 86400, true, -67);
    emit("heartbeat", EDGE_T_HEARTBEAT, 65535, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_ack(&w, 513);
    emit("ack", EDGE_T_ACK, 109, &w);
#undef W
}

static void run_decode(const char *path)
{
    FILE *fp = fopen(path, "r");
    static char line[8192];
    static uint8_t bytes[4096];
    if (fp == NULL) {
        printf("FAIL decode: cannot read %s\n", path);
        g_fail++;
        return;
    }
    while (fgets(line, sizeof line, fp) != NULL) {
        char name[128], form[16];
        static char hex[8192];
        size_t n;
        sb_t sb;
        if (sscanf(line, "%127s %15s %8191s", name, form, hex) != 3) continue;
        n = unhex(hex, bytes, sizeof bytes);
        if (strcmp(form, "frame") == 0) {
            int rc = decode_all(bytes, n, &sb);
            if (rc == EDGE_OK) printf("decoded %s %s\n", name, sb.buf);
            else printf("error %s %s\n", name, edge_err_name(rc));
        } else {
            static edge_reader_t r;
            size_t i;
            edge_reader_init(&r);
            for (i = 0; i < n; i++) {
                edge_frame_t f;
                int rc = edge_reader_feed(&r, bytes[i], &f);
                if (rc == EDGE_READER_FRAME) rc = describe(&f, &sb);
                else if (rc == EDGE_READER_NONE) continue;
                if (rc == EDGE_OK) printf("decoded %s %s\n", name, sb.buf);
                else printf("error %s %s\n", name, edge_err_name(rc));
            }
        }
    }
    fclose(fp);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--emit") == 0) {
        run_emit();
        return g_fail ? 1 : 0;
    }
    if (argc == 3 && strcmp(argv[1], "--decode") == 0) {
        run_decode(argv[2]);
        return g_fail ? 1 : 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_JSON | --emit | --decode FILE\n", argv[0]);
        return 2;
    }
    run_vectors(argv[1]);
    report(t_crc(), "unit crc16 check value and incremental form");
    report(t_cobs(), "unit cobs edge cases (empty, zeros, 253/254/255-byte runs, 597/700 bytes, malformed)");
    report(t_worked_example(), "unit worked example of DESIGN section 3 built from values");
    report(t_reader_resync(), "unit reader resynchronises after garbage and a partial frame");
    report(t_reader_oversize(), "unit reader discards an oversize run once and recovers");
    report(t_reader_max_frame(), "unit reader accepts the largest serial frame (597 bytes, 600 encoded)");
    report(t_cbor_numbers(), "unit cbor reader numbers: every int width, half/single/double, range limits");
    report(t_cbor_bodies(), "unit cbor bodies: map/text length forms, unknown keys skipped, malformed rejected");
    report(t_gateway_bodies(), "unit gateway bodies: command with notify fields, consent-state");
    report(t_cbor_writer(), "unit cbor writer: shortest ints, float modes, errors, round trip");
    report(t_session(), "unit session: seq, retransmit, acks, queue full, command acks and repeats, BLE");
    report(t_session_boot(), "unit session after boot: leading delimiter, wrap-safe timers, registration only after hello");
    report(t_fuzz_stream(), "unit fuzz: random serial streams");
    report(t_fuzz_bodies(), "unit fuzz: mutated frames and random bodies; reading round trip");
    printf("summary %d passed %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
