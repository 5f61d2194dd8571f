/*
 * Cross-check modes: frames the C encoder builds (--emit), and frames the TypeScript codec built, decoded
 * here (--decode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "frame_json.h"
#include "host_tests.h"

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

void run_emit(void)
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
    W(EDGE_FLOAT_DOUBLE);
    {
        static const char *const caps[] = {EDGE_CAP_UPDATE, "x-future"};
        edge_body_hello_caps(&w, "scale-7", "2.4.0", "kitchen-scale", ch, 1, caps, 2);
    }
    emit("hello-caps", EDGE_T_HELLO, 0, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_firmware_choice(&w, EDGE_FW_DEFER, 24);
    emit("firmware-defer", EDGE_T_FIRMWARE_CHOICE, 110, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_firmware_choice(&w, EDGE_FW_DEFER, EDGE_FW_DEFER_MAX_HOURS);
    emit("firmware-defer-month", EDGE_T_FIRMWARE_CHOICE, 111, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_firmware_choice(&w, EDGE_FW_NEVER, 0);
    emit("firmware-never", EDGE_T_FIRMWARE_CHOICE, 112, &w);
    W(EDGE_FLOAT_DOUBLE);
    edge_body_firmware_choice(&w, EDGE_FW_ALLOW, 0);
    emit("firmware-allow", EDGE_T_FIRMWARE_CHOICE, 113, &w);
#undef W
}

void run_decode(const char *path)
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
