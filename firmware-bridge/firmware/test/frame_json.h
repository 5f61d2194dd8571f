/*
 * Decoded frames described as JSON in the shape of the TypeScript Frame ({type, seq, body}, readings normalised
 * to body.readings), to compare with vectors.json "expect" and with what the TypeScript side encoded.
 */
#ifndef FRAME_JSON_H
#define FRAME_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "edge_proto/edge_proto.h"

/* A string builder for the JSON description of a decoded frame. */
typedef struct {
    char buf[4096];
    size_t len;
} sb_t;

/* Decodes the frame's body and describes the frame; an edge error code when the body does not decode. */
int describe(const edge_frame_t *f, sb_t *sb);
/* Full decode of one decoded frame: header checks, then the body. */
int decode_all(const uint8_t *buf, size_t len, sb_t *sb);
/* Feeds a serial stream; returns the first error (or EDGE_OK) and counts frames. */
int feed_stream(const uint8_t *wire, size_t n, int *frames, sb_t *last);

#endif
