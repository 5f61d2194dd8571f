/* Decoded frames described as JSON in the TypeScript Frame's shape (see frame_json.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "frame_json.h"

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
    case EDGE_T_FIRMWARE_CHOICE: return "firmware-choice";
    case EDGE_T_ACK: return "ack";
    case EDGE_T_COMMAND: return "command";
    case EDGE_T_CONSENT_STATE: return "consent-state";
    default: return "?";
    }
}

static const char *const k_cmd_names[] = {"pause", "resume", "identify", "notify", "reboot", "update"};
static const char *const k_fw_choices[] = {"defer", "never", "allow"};

/*
 * Decodes a frame's body with the library and describes it as JSON in the shape of the TypeScript Frame
 * ({type, seq, body}, readings normalised to body.readings), so it can be compared with vectors.json
 * "expect" and with what the TypeScript side encoded.
 */
int describe(const edge_frame_t *f, sb_t *sb)
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
        if (h.n_cap > 0) {
            sb_printf(sb, ",\"cap\":[");
            for (i = 0; i < h.n_cap; i++) {
                if (i) sb_printf(sb, ",");
                sb_text(sb, h.cap[i].s, h.cap[i].len);
            }
            sb_printf(sb, "]");
        }
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
    case EDGE_T_FIRMWARE_CHOICE: {
        edge_firmware_choice_in_t c;
        if ((rc = edge_decode_firmware_choice(f->body, f->body_len, &c)) != EDGE_OK) return rc;
        sb_printf(sb, "\"d\":\"%s\"", k_fw_choices[c.d]);
        if (c.has_h) sb_printf(sb, ",\"h\":%lu", (unsigned long)c.h);
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
        if (c.has_v) {
            sb_printf(sb, ",\"v\":");
            sb_text(sb, c.v.s, c.v.len);
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
int decode_all(const uint8_t *buf, size_t len, sb_t *sb)
{
    edge_frame_t f;
    int rc = edge_frame_decode(buf, len, &f);
    return rc != EDGE_OK ? rc : describe(&f, sb);
}

/* Feeds a serial stream; returns the first error (or EDGE_OK) and counts frames. */
int feed_stream(const uint8_t *wire, size_t n, int *frames, sb_t *last)
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

