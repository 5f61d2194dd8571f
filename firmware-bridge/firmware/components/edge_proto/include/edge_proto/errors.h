/* Error codes shared by every edge_proto function. Negative values; 0 is success. */
#ifndef EDGE_PROTO_ERRORS_H
#define EDGE_PROTO_ERRORS_H

/*
 * The first eight mirror the error kinds of the TypeScript codec (firmware-bridge/protocol/errors.ts) so
 * device logs and gateway counters speak the same words; edge_err_name() returns exactly those words.
 */
typedef enum {
    EDGE_OK = 0,
    EDGE_ERR_SHORT = -1,      /* frame shorter than 7 bytes */
    EDGE_ERR_VERSION = -2,    /* version byte is not 1 */
    EDGE_ERR_CRC = -3,        /* CRC-16 mismatch */
    EDGE_ERR_TYPE = -4,       /* unknown frame type, or a type not valid in this direction */
    EDGE_ERR_CBOR = -5,       /* body is not one well-formed CBOR map with text keys, or uses an item we reject */
    EDGE_ERR_FIELD = -6,      /* body is valid CBOR but a field is missing, mistyped or out of range */
    EDGE_ERR_COBS = -7,       /* malformed COBS run */
    EDGE_ERR_OVERSIZE = -8,   /* encoded run longer than EDGE_MAX_ENCODED_RUN, discarded */
    EDGE_ERR_NOSPACE = -9,    /* caller-provided output buffer too small */
    EDGE_ERR_QUEUE_FULL = -10,/* every retransmit slot holds an unacked frame */
    EDGE_ERR_ARG = -11        /* invalid argument (NULL pointer, non-finite number, seq out of range, ...) */
} edge_err_t;

/* "short", "version", "crc", "type", "cbor", "field", "cobs", "oversize", "nospace", "queue_full", "arg";
   "ok" for 0 and for positive (non-error) results; "unknown" otherwise. */
const char *edge_err_name(int err);

#endif
