#include <string.h>

#include "edge_proto/cobs.h"
#include "edge_proto/errors.h"

/* Length of the next block starting at src[i]: non-zero bytes before the next zero, at most 254. */
static size_t block_len(const uint8_t *src, size_t n, size_t i)
{
    size_t k = 0;
    while (i + k < n && src[i + k] != 0 && k < 254u) {
        k++;
    }
    return k;
}

/*
 * Both encoders walk the input in blocks. After a full 254-byte block a new block starts even at the very
 * end of the input (emitting a final code 0x01): that is what the gateway's encoder and the vector generator
 * do, and decoders treat the two forms identically.
 */
int edge_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    size_t i = 0, o = 0;
    for (;;) {
        size_t k = block_len(src, n, i);
        if (o + 1u + k > cap) {
            return EDGE_ERR_NOSPACE;
        }
        dst[o++] = (uint8_t)(k + 1u);
        if (k > 0) {
            memcpy(dst + o, src + i, k);
        }
        o += k;
        i += k;
        if (k == 254u) {
            continue; /* full block: no zero was consumed */
        }
        if (i >= n) {
            break;
        }
        i++; /* the zero that ended this block */
    }
    return (int)o;
}

size_t edge_cobs_encode_to(const uint8_t *src, size_t n, edge_write_fn write, void *ctx)
{
    static const uint8_t delimiter = 0;
    size_t i = 0, total = 0;
    for (;;) {
        size_t k = block_len(src, n, i);
        uint8_t code = (uint8_t)(k + 1u);
        write(ctx, &code, 1);
        if (k > 0) {
            write(ctx, src + i, k);
        }
        total += 1u + k;
        i += k;
        if (k == 254u) {
            continue;
        }
        if (i >= n) {
            break;
        }
        i++;
    }
    write(ctx, &delimiter, 1);
    return total + 1u;
}

int edge_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t code = src[i];
        size_t k;
        if (code == 0 || code > n - i) {
            return EDGE_ERR_COBS; /* a zero inside a run, or a code pointing past its end */
        }
        i++;
        for (k = 1; k < code; k++) {
            uint8_t b = src[i++];
            if (b == 0) {
                return EDGE_ERR_COBS;
            }
            if (o >= cap) {
                return EDGE_ERR_NOSPACE;
            }
            dst[o++] = b;
        }
        if (code != 0xFFu && i < n) {
            if (o >= cap) {
                return EDGE_ERR_NOSPACE;
            }
            dst[o++] = 0;
        }
    }
    return (int)o;
}
