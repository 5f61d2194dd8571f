/*
 * Unit tests of the device session: sequence numbers, retransmits, acks, commands, and the first moments
 * after boot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "host_tests.h"

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

bool t_session(void)
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
bool t_session_boot(void)
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
