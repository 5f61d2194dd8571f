/*
 * Unit tests of the firmware-update additions to protocol v1 (PROTOCOL.md §4): the 0x06 firmware-choice body
 * (writer and decoder, the gateway's rules), hello "cap", the "update" command, and that the session keeps a
 * firmware-choice until the gateway acks it.
 */
#include <stdio.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "host_tests.h"

static int choice_body(edge_firmware_choice_t d, uint32_t h, uint8_t *body, size_t cap)
{
    edge_cbor_writer_t w;
    edge_cbor_writer_init(&w, body, cap);
    return edge_body_firmware_choice(&w, d, h);
}

static int decode_hex(const char *h, edge_firmware_choice_in_t *out)
{
    uint8_t b[64];
    size_t n = unhex(h, b, sizeof b);
    return edge_decode_firmware_choice(b, n, out);
}

static int command_hex(const char *h, edge_command_t *out)
{
    static uint8_t b[64];
    size_t n = unhex(h, b, sizeof b);
    return edge_decode_command(b, n, out);
}

bool t_firmware_update(void)
{
    uint8_t body[64];
    edge_firmware_choice_in_t in;
    edge_command_t c;
    edge_cbor_writer_t w;
    static edge_hello_t hello;
    static const edge_channel_t ch[] = {{1, "weight", EDGE_CAT_USAGE}};
    static const char *const caps[] = {EDGE_CAP_UPDATE};
    static const char *const empty_cap[] = {""};
    int n;

    /* writer: {"d":"defer","h":24} and {"d":"never"}, byte for byte; the gateway's bounds refused as ARG */
    n = choice_body(EDGE_FW_DEFER, 24, body, sizeof body);
    EXPECT(bytes_eq(body, (size_t)n, (const uint8_t *)"\xa2\x61\x64\x65\x64\x65\x66\x65\x72\x61\x68\x18\x18", 13, "defer 24"));
    n = choice_body(EDGE_FW_NEVER, 0, body, sizeof body);
    EXPECT(bytes_eq(body, (size_t)n, (const uint8_t *)"\xa1\x61\x64\x65\x6e\x65\x76\x65\x72", 9, "never"));
    EXPECT_EQ(choice_body(EDGE_FW_NEVER, 3, body, sizeof body), EDGE_ERR_ARG);
    EXPECT_EQ(choice_body(EDGE_FW_ALLOW, 1, body, sizeof body), EDGE_ERR_ARG);
    EXPECT_EQ(choice_body(EDGE_FW_DEFER, EDGE_FW_DEFER_MAX_HOURS + 1u, body, sizeof body), EDGE_ERR_ARG);
    EXPECT_EQ(choice_body((edge_firmware_choice_t)7, 0, body, sizeof body), EDGE_ERR_ARG);
    EXPECT_EQ(choice_body(EDGE_FW_DEFER, 24, body, 8), EDGE_ERR_NOSPACE);

    /* decoder: the gateway's rules (h only with defer, 1..744, any integral number form), unknown keys skipped */
    EXPECT_EQ(decode_hex("a2616465646566657261681818", &in), EDGE_OK);
    EXPECT(in.d == EDGE_FW_DEFER && in.has_h && in.h == 24);
    EXPECT_EQ(decode_hex("a261646564656665726168fb4038000000000000", &in), EDGE_OK); /* h: 24.0 */
    EXPECT(in.h == 24);
    EXPECT_EQ(decode_hex("a2616465616c6c6f77617801", &in), EDGE_OK); /* allow, unknown "x" */
    EXPECT(in.d == EDGE_FW_ALLOW && !in.has_h);
    EXPECT_EQ(decode_hex("a2616465646566657261681902e8", &in), EDGE_OK); /* 744 */
    EXPECT_EQ(in.h, 744);
    EXPECT_EQ(decode_hex("a2616465646566657261681902e9", &in), EDGE_ERR_FIELD);          /* 745 */
    EXPECT_EQ(decode_hex("a261646564656665726168fb3ff8000000000000", &in), EDGE_ERR_FIELD); /* 1.5 */
    EXPECT_EQ(decode_hex("a26164656e65766572616803", &in), EDGE_ERR_FIELD);         /* never with h */
    EXPECT_EQ(decode_hex("a16164656c61746572", &in), EDGE_ERR_FIELD);                     /* "later" */
    EXPECT_EQ(decode_hex("a1616803", &in), EDGE_ERR_FIELD);                               /* no d */
    EXPECT_EQ(decode_hex("a16164f5", &in), EDGE_ERR_FIELD);                               /* d: true */

    /* hello "cap": written after "ch", decoded back; an empty capability is refused either way */
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_hello_caps(&w, "s", "1", "m", ch, 1, caps, 1);
    EXPECT(n > 0);
    EXPECT_EQ(edge_decode_hello(body, (size_t)n, &hello), EDGE_OK);
    EXPECT(hello.n_cap == 1 && edge_cbor_text_eq(hello.cap[0].s, hello.cap[0].len, EDGE_CAP_UPDATE));
    edge_cbor_writer_init(&w, body, sizeof body);
    EXPECT_EQ(edge_body_hello_caps(&w, "s", "1", "m", ch, 1, empty_cap, 1), EDGE_ERR_ARG);
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_hello(&w, "s", "1", "m", ch, 1);
    EXPECT_EQ(edge_decode_hello(body, (size_t)n, &hello), EDGE_OK);
    EXPECT_EQ(hello.n_cap, 0);
    {
        /* {"id":"s","fw":"","model":"","ch":[],"cap":[9 x "a"]}: more than EDGE_HELLO_MAX_CAPS */
        uint8_t b[96];
        size_t k = unhex("a5626964617362667760656d6f64656c60626368806363617089616161616161616161616161616161616161", b, sizeof b);
        EXPECT_EQ(edge_decode_hello(b, k, &hello), EDGE_ERR_NOSPACE);
    }

    /* the update command: "v" required and non-empty; another command's "v" is skipped */
    EXPECT_EQ(command_hex("a2616366757064617465617665322e352e30", &c), EDGE_OK);
    EXPECT(c.c == EDGE_CMD_UPDATE && c.has_v && edge_cbor_text_eq(c.v.s, c.v.len, "2.5.0"));
    EXPECT_EQ(command_hex("a1616366757064617465", &c), EDGE_ERR_FIELD);
    EXPECT_EQ(command_hex("a2616366757064617465617660", &c), EDGE_ERR_FIELD);
    EXPECT_EQ(command_hex("a2616365706175736561766131", &c), EDGE_OK);
    EXPECT(c.c == EDGE_CMD_PAUSE && !c.has_v);

    /* kept until acked, like consent: the gateway acks it only once the household's file is durable */
    EXPECT(edge_frame_type_known(EDGE_T_FIRMWARE_CHOICE) && edge_frame_type_needs_ack(EDGE_T_FIRMWARE_CHOICE));
    EXPECT(!edge_frame_type_known(0x07));
    {
        static edge_session_t session;
        static sink_t tx;
        edge_frame_t f;
        edge_inbound_t got;
        uint8_t ack[16];
        int seq;
        edge_session_init(&session, EDGE_LINK_BLE, sink_write, &tx);
        n = choice_body(EDGE_FW_DEFER, 24, body, sizeof body);
        seq = edge_session_send(&session, EDGE_T_FIRMWARE_CHOICE, body, (size_t)n, 100);
        EXPECT(seq >= 0);
        EXPECT_EQ(edge_session_pending(&session), 1);
        EXPECT_EQ(edge_session_poll(&session, 2100), 1); /* resent after 2 s while unacked */
        edge_cbor_writer_init(&w, body, sizeof body);
        n = edge_body_ack(&w, (uint16_t)seq);
        n = edge_frame_encode(EDGE_T_ACK, 0, body, (size_t)n, ack, sizeof ack);
        EXPECT_EQ(edge_frame_decode(ack, (size_t)n, &f), EDGE_OK);
        EXPECT_EQ(edge_session_handle(&session, &f, &got), EDGE_IN_ACK);
        EXPECT_EQ(edge_session_pending(&session), 0);
    }
    return true;
}
