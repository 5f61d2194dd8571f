/*
 * Consistent Overhead Byte Stuffing. The encoder emits exactly the bytes of the gateway's encoder (including
 * the trailing 0x01 code after a full 254-byte block); the decoder accepts that and the classic form.
 * The 0x00 delimiter is not part of an encoding.
 */
#ifndef EDGE_PROTO_COBS_H
#define EDGE_PROTO_COBS_H

#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n bytes. */
#define EDGE_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encodes src[0..n) into dst (no delimiter). Returns the encoded length, or EDGE_ERR_NOSPACE. dst must not overlap src. */
int edge_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

/* Sink for edge_cobs_encode_to(): receives consecutive pieces of the encoding. */
typedef void (*edge_write_fn)(void *ctx, const uint8_t *data, size_t len);

/*
 * Encodes src straight into a sink, block by block (a code byte, then up to 254 bytes of src), followed by
 * the 0x00 delimiter: no intermediate buffer. Returns the number of bytes written.
 */
size_t edge_cobs_encode_to(const uint8_t *src, size_t n, edge_write_fn write, void *ctx);

/*
 * Decodes one run (without its delimiter). dst may equal src (in-place decoding is safe because the output
 * never overtakes the input). Returns the decoded length, EDGE_ERR_COBS for a malformed run, or
 * EDGE_ERR_NOSPACE.
 */
int edge_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

#endif
