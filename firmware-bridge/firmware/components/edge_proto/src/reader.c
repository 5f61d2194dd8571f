#include "edge_proto/cobs.h"
#include "edge_proto/errors.h"
#include "edge_proto/reader.h"

void edge_reader_init(edge_reader_t *r)
{
    r->len = 0;
    r->discarding = false;
}

int edge_reader_feed(edge_reader_t *r, uint8_t byte, edge_frame_t *out)
{
    int n;
    if (byte != 0) {
        if (r->discarding) {
            return EDGE_READER_NONE;
        }
        if (r->len >= EDGE_MAX_ENCODED_RUN) {
            /* Report once, then drop bytes until the next delimiter: a babbling line cannot grow memory. */
            r->discarding = true;
            r->len = 0;
            return EDGE_ERR_OVERSIZE;
        }
        r->buf[r->len++] = byte;
        return EDGE_READER_NONE;
    }
    /* Delimiter: end of a run, of a discarded run, or an empty run between two zeros. */
    if (r->discarding || r->len == 0) {
        r->discarding = false;
        r->len = 0;
        return EDGE_READER_NONE;
    }
    n = edge_cobs_decode(r->buf, r->len, r->buf, sizeof r->buf);
    r->len = 0;
    if (n < 0) {
        return n;
    }
    n = edge_frame_decode(r->buf, (size_t)n, out);
    return n == EDGE_OK ? EDGE_READER_FRAME : n;
}
