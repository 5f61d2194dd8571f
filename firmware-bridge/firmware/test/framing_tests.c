/* Unit tests of the framing: CRC-16, COBS, the worked example of DESIGN section 3, the serial reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "host_tests.h"

bool t_crc(void)
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



bool t_cobs(void)
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
bool t_worked_example(void)
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
size_t wire_heartbeat(uint16_t seq, uint32_t up, uint8_t *out)
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

bool t_reader_resync(void)
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

bool t_reader_oversize(void)
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
bool t_reader_max_frame(void)
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
