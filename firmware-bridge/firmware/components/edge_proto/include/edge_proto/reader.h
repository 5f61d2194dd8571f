/*
 * Streaming serial frame reader: feed it received bytes one at a time (from a UART task or ISR queue). It
 * splits at 0x00, COBS-decodes the run in place and checks the frame. After garbage it resynchronises at the
 * next 0x00; a run longer than EDGE_MAX_ENCODED_RUN is reported once as EDGE_ERR_OVERSIZE and skipped
 * without buffering the rest of it. Empty runs (0x00 0x00) are ignored.
 */
#ifndef EDGE_PROTO_READER_H
#define EDGE_PROTO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_proto/config.h"
#include "edge_proto/frame.h"

typedef struct {
    uint8_t buf[EDGE_MAX_ENCODED_RUN];
    size_t len;
    bool discarding;
} edge_reader_t;

#define EDGE_READER_NONE 0  /* need more bytes */
#define EDGE_READER_FRAME 1 /* *out holds a frame; its body is valid until the next edge_reader_feed() */

void edge_reader_init(edge_reader_t *r);

/*
 * Returns EDGE_READER_NONE, EDGE_READER_FRAME, or a negative edge_err_t for a rejected run (oversize, cobs,
 * short, crc, version, type). Errors are never sticky: the next byte continues normally.
 */
int edge_reader_feed(edge_reader_t *r, uint8_t byte, edge_frame_t *out);

#endif
