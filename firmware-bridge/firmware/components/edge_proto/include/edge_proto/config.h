/*
 * Compile-time sizes of edge_proto. Every buffer is a fixed array inside a caller-owned struct; override any
 * of these with -D (or target_compile_definitions in an ESP-IDF project) before including the headers.
 */
#ifndef EDGE_PROTO_CONFIG_H
#define EDGE_PROTO_CONFIG_H

/* DESIGN §3: a serial reader discards an encoded (COBS) run longer than this. Part of the wire contract. */
#define EDGE_MAX_ENCODED_RUN 600u

/*
 * Largest decoded frame that always fits one encoded run: COBS adds 1 byte plus 1 per 254, so
 * 597 + 597/254 + 1 = 600. A device must not send anything longer on serial.
 */
#define EDGE_MAX_FRAME 597u

/* Deepest container nesting the CBOR reader accepts (top-level map = depth 0), as the TypeScript codec. */
#ifndef EDGE_CBOR_MAX_DEPTH
#define EDGE_CBOR_MAX_DEPTH 8u
#endif

/* Session: unacked reading/event/consent frames kept for retransmission. */
#ifndef EDGE_SESSION_SLOTS
#define EDGE_SESSION_SLOTS 8u
#endif

/* Session: bytes per retransmit slot (a whole decoded frame: 4 header + body + 2 CRC). */
#ifndef EDGE_SESSION_SLOT_BYTES
#define EDGE_SESSION_SLOT_BYTES 128u
#endif

/* Session: assembly buffer for frames that are not kept (hello, heartbeat, acks); hello is the largest. */
#ifndef EDGE_SESSION_TX_BYTES
#define EDGE_SESSION_TX_BYTES 320u
#endif

/* Session: resend an unacked frame after this long (the gateway's simulator uses the same 2 s). */
#ifndef EDGE_SESSION_RETRANSMIT_MS
#define EDGE_SESSION_RETRANSMIT_MS 2000u
#endif

/* Largest number of channels edge_decode_hello() can return (decoding a hello is for tests and relays). */
#ifndef EDGE_HELLO_MAX_CHANNELS
#define EDGE_HELLO_MAX_CHANNELS 16u
#endif

/* Largest number of capabilities (hello "cap") edge_decode_hello() can return. */
#ifndef EDGE_HELLO_MAX_CAPS
#define EDGE_HELLO_MAX_CAPS 8u
#endif

/* Largest batch edge_decode_reading() can return. */
#ifndef EDGE_READING_MAX_BATCH
#define EDGE_READING_MAX_BATCH 32u
#endif

#if EDGE_SESSION_SLOT_BYTES > EDGE_MAX_FRAME || EDGE_SESSION_TX_BYTES > EDGE_MAX_FRAME
#error "edge_proto: a session buffer is larger than the largest frame the serial link can carry"
#endif
#if EDGE_SESSION_SLOT_BYTES < 7u || EDGE_SESSION_TX_BYTES < 16u
#error "edge_proto: session buffers too small for the smallest frames"
#endif

#endif
