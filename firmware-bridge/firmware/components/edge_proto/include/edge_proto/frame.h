/* Frame layout (DESIGN §3): version | type | seq u16 LE | CBOR map body | CRC-16/CCITT-FALSE u16 LE. */
#ifndef EDGE_PROTO_FRAME_H
#define EDGE_PROTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDGE_PROTOCOL_VERSION 0x01u
#define EDGE_FRAME_HEADER 4u
#define EDGE_FRAME_OVERHEAD 6u  /* header + CRC */
#define EDGE_FRAME_MIN 7u       /* header + empty map (A0) + CRC */

typedef enum {
    /* device -> gateway */
    EDGE_T_HELLO = 0x01,
    EDGE_T_READING = 0x02,
    EDGE_T_EVENT = 0x03,
    EDGE_T_CONSENT = 0x04,
    EDGE_T_HEARTBEAT = 0x05,
    EDGE_T_FIRMWARE_CHOICE = 0x06, /* the household's say on a pending firmware update (PROTOCOL.md §4) */
    /* both directions (devices ack commands with it) */
    EDGE_T_ACK = 0x81,
    /* gateway -> device */
    EDGE_T_COMMAND = 0x82,
    EDGE_T_CONSENT_STATE = 0x83
} edge_frame_type_t;

/* A decoded frame; body points into the buffer that was decoded (no copy). */
typedef struct {
    uint8_t type;
    uint16_t seq;
    const uint8_t *body;
    size_t body_len;
} edge_frame_t;

/* true for the nine types of protocol v1. */
bool edge_frame_type_known(uint8_t type);

/* true for types the gateway acks only once durable, so a device must keep them until acked. */
bool edge_frame_type_needs_ack(uint8_t type);

/*
 * Builds a frame into out. body may lie inside out at offset EDGE_FRAME_HEADER (then nothing is copied).
 * Returns the frame length, EDGE_ERR_NOSPACE, or EDGE_ERR_ARG (empty body).
 */
int edge_frame_encode(uint8_t type, uint16_t seq, const uint8_t *body, size_t body_len, uint8_t *out, size_t cap);

/*
 * Checks length, CRC (first, so line noise never reaches the CBOR reader), version and type, in that order,
 * exactly like the gateway. The body is not parsed here: use the edge_decode_* functions of body.h.
 * Returns EDGE_OK, EDGE_ERR_SHORT, EDGE_ERR_CRC, EDGE_ERR_VERSION or EDGE_ERR_TYPE.
 */
int edge_frame_decode(const uint8_t *buf, size_t len, edge_frame_t *out);

#endif
