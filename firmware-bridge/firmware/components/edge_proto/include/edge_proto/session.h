/*
 * Device side of a protocol session: the device's own seq counter, a fixed retransmit queue of unacked
 * reading/event/consent frames (the gateway acks them only once durable, DESIGN §3), and handling of
 * gateway frames (acks release slots; commands are acked at once; consent-state is decoded for the app).
 *
 * Every device frame, acks and heartbeats included, takes the next seq: the gateway de-duplicates by seq.
 * The gateway repeats an unacked command with the same seq and expects the device to run it once and just
 * re-ack the repeat (agent/devices/device-commander.ts), so the session remembers the last command seq.
 */
#ifndef EDGE_PROTO_SESSION_H
#define EDGE_PROTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_proto/body.h"
#include "edge_proto/clock.h"
#include "edge_proto/cobs.h"
#include "edge_proto/config.h"
#include "edge_proto/frame.h"

typedef enum {
    EDGE_LINK_SERIAL = 0, /* COBS + 0x00 per frame */
    EDGE_LINK_BLE = 1     /* one raw frame per write call (= one notification) */
} edge_link_t;

typedef struct {
    bool used;
    uint16_t seq;
    uint16_t len;
    uint32_t sent_ms;
    uint8_t frame[EDGE_SESSION_SLOT_BYTES];
} edge_pending_t;

typedef struct {
    edge_link_t link;
    edge_write_fn write;
    void *ctx;
    uint32_t retransmit_ms;  /* EDGE_SESSION_RETRANSMIT_MS after init; may be changed at any time */
    uint16_t next_seq;       /* seq of the next device frame */
    bool have_cmd_seq;
    uint16_t last_cmd_seq;   /* seq of the last command run, to recognise the gateway's repeats */
    uint32_t retransmits;    /* resends so far, for diagnostics (e.g. in a heartbeat extension) */
    bool delimited;          /* serial: the leading 0x00 of this boot has been written */
    bool hello_sent;         /* a hello went out in this session */
    bool registered;         /* a consent-state arrived after our hello: the gateway knows this boot */
    uint8_t tx[EDGE_SESSION_TX_BYTES];
    edge_pending_t pending[EDGE_SESSION_SLOTS];
} edge_session_t;

/*
 * Starts at seq 0 with an empty queue; send a hello first (it resets the gateway's duplicate window). On serial,
 * the first write after init starts with a 0x00 delimiter: whatever the UART carried before (the ROM boot log,
 * half a frame from before a reset) ends there, so the first frame is not glued to it and discarded.
 */
void edge_session_init(edge_session_t *s, edge_link_t link, edge_write_fn write, void *ctx);

/*
 * Frames a body with the next seq and writes it. Reading, event and consent frames are also kept until
 * acked; if no slot is free (EDGE_ERR_QUEUE_FULL) or the frame is larger than a slot, nothing is sent and
 * no seq is used, so the caller can keep the sample and try again. Returns the seq used (>= 0) or an error.
 */
int edge_session_send(edge_session_t *s, uint8_t type, const uint8_t *body, size_t body_len, uint32_t now_ms);

/*
 * Resends every kept frame whose last send is at least retransmit_ms old (edge_ms_reached: a `now_ms` read
 * before a frame's send time is "not yet"). Returns how many were resent.
 */
int edge_session_poll(edge_session_t *s, uint32_t now_ms);

/*
 * Whether the gateway has answered this session's hello: true once a consent-state arrives after a hello was
 * sent. A consent-state that arrives earlier (the gateway pushing a consent change to the device it knew
 * before this reboot) still carries valid categories, but does not mean the gateway saw the new session: its
 * duplicate window still holds the old seqs, so the hello must still be sent (and repeated until answered).
 */
bool edge_session_registered(const edge_session_t *s);

/* Number of frames awaiting an ack. */
size_t edge_session_pending(const edge_session_t *s);

typedef enum {
    EDGE_IN_NONE = 0,          /* handled, nothing for the app (e.g. a repeated command, re-acked) */
    EDGE_IN_ACK = 1,           /* in->acked_seq; in->ack_matched says whether it released a kept frame */
    EDGE_IN_COMMAND = 2,       /* in->command; already acked to the gateway */
    EDGE_IN_CONSENT_STATE = 3  /* in->consent */
} edge_inbound_kind_t;

typedef struct {
    uint16_t seq;
    uint16_t acked_seq;
    bool ack_matched;
    edge_command_t command;
    edge_consent_state_t consent;
} edge_inbound_t;

/*
 * Handles one gateway frame (from edge_reader_feed or a BLE write). Returns an edge_inbound_kind_t or a
 * negative error (EDGE_ERR_TYPE for device-only types, EDGE_ERR_CBOR / EDGE_ERR_FIELD for bad bodies).
 */
int edge_session_handle(edge_session_t *s, const edge_frame_t *f, edge_inbound_t *in);

#endif
