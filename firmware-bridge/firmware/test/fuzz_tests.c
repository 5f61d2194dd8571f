/* Fuzz: random serial streams and mutated frames must never crash the reader or trip a sanitizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "frame_json.h"
#include "host_tests.h"

static uint32_t g_rng = 0x9E3779B9u;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static bool is_known_err(int rc)
{
    return rc == EDGE_OK || rc == EDGE_ERR_SHORT || rc == EDGE_ERR_VERSION || rc == EDGE_ERR_CRC ||
           rc == EDGE_ERR_TYPE || rc == EDGE_ERR_CBOR || rc == EDGE_ERR_FIELD || rc == EDGE_ERR_COBS ||
           rc == EDGE_ERR_OVERSIZE || rc == EDGE_ERR_NOSPACE;
}

/* Random byte streams, with fragments of real frames and zeros mixed in, must never crash the reader. */
bool t_fuzz_stream(void)
{
    static edge_reader_t r;
    uint8_t good[64];
    size_t gn = wire_heartbeat(77, 5, good);
    long frames = 0, errors = 0, i;
    sb_t sb;
    edge_reader_init(&r);
    for (i = 0; i < 2000000; i++) {
        uint32_t x = rnd();
        uint8_t byte;
        edge_frame_t f;
        int rc;
        switch (x & 7u) {
        case 0: byte = 0; break;
        case 1: byte = good[(x >> 8) % gn]; break;
        default: byte = (uint8_t)(x >> 8); break;
        }
        if ((x >> 20) == 0) { /* now and then a whole good frame, after a delimiter */
            size_t k;
            (void)edge_reader_feed(&r, 0, &f);
            for (k = 0; k < gn; k++) {
                rc = edge_reader_feed(&r, good[k], &f);
                if (rc == EDGE_READER_FRAME) frames++;
            }
        }
        rc = edge_reader_feed(&r, byte, &f);
        if (rc == EDGE_READER_FRAME) {
            frames++;
            rc = describe(&f, &sb);
        }
        if (rc < 0) errors++;
        if (!is_known_err(rc < 0 ? rc : EDGE_OK)) return failf("unexpected code %d", rc);
    }
    printf("info fuzz stream: 2000000 bytes, %ld frames, %ld rejected runs\n", frames, errors);
    EXPECT(frames > 0 && errors > 0);
    return true;
}

/* Mutated real frames and random bodies through every decoder; valid random readings round-trip. */
bool t_fuzz_bodies(void)
{
    static const char *const seeds[] = {
        "01010000a4626964677363616c652d3162667765312e322e30656d6f64656c6d6b69746368656e2d7363616c6562636882a3616e01616b667765696768746163657573616765a3616e02616b656576656e74616365757361676594b5",
        "01021100a16172828301fb3ff80000000000000a8201fb3ffc000000000000695f",
        "01031500a461656864697370656e7365626368026176fb4032800000000000617419138808b0",
        "01820500a26163666e6f7469667964746578746a436f66666565206c6f7734a8",
        "01830600a16463617473a2657573616765f5666865616c7468f4292b",
        "01052900a26275700764727373693842dd70",
    };
    uint8_t buf[256];
    sb_t sb;
    long i, ok = 0;
    for (i = 0; i < 300000; i++) {
        size_t n = unhex(seeds[i % 6], buf, sizeof buf), k, flips = 1 + rnd() % 4;
        uint16_t crc;
        uint8_t *copy;
        edge_frame_t f;
        int rc;
        if (i % 5 == 4) {
            n = 5 + rnd() % 60; /* random body */
            for (k = 4; k < n; k++) buf[k] = (uint8_t)rnd();
            buf[4] = (uint8_t)(0xa0 + rnd() % 4);
        } else {
            for (k = 0; k < flips; k++) buf[4 + rnd() % (n - 6)] ^= (uint8_t)(1u << (rnd() % 8));
            if (rnd() % 4 == 0) n = 4 + 1 + rnd() % (n - 4); /* truncate */
        }
        crc = edge_crc16(buf, n); /* re-seal so the mutation reaches the CBOR reader */
        buf[n] = (uint8_t)crc;
        buf[n + 1] = (uint8_t)(crc >> 8);
        copy = malloc(n + 2);
        memcpy(copy, buf, n + 2);
        rc = edge_frame_decode(copy, n + 2, &f);
        if (rc == EDGE_OK) rc = describe(&f, &sb);
        free(copy);
        if (!is_known_err(rc)) return failf("unexpected code %d", rc);
        ok += rc == EDGE_OK;
    }
    printf("info fuzz bodies: 300000 mutated frames, %ld still decoded\n", ok);
    /* property: random readings, both float modes, batched or not, decode to the same values */
    for (i = 0; i < 20000; i++) {
        edge_reading_t in[5];
        edge_readings_t back;
        edge_cbor_writer_t w;
        size_t n = 1 + rnd() % 5, k;
        int len;
        for (k = 0; k < n; k++) {
            in[k].ch = rnd() % 70000u;
            in[k].v = (double)(int32_t)rnd() / (double)(1u << (rnd() % 20));
            in[k].has_t = rnd() % 2;
            in[k].t = in[k].has_t ? ((uint64_t)rnd() << (rnd() % 21)) : 0;
        }
        edge_cbor_writer_init(&w, buf, sizeof buf);
        w.float_mode = (edge_float_mode_t)(i % 2);
        len = edge_body_readings(&w, in, n);
        EXPECT(len > 0);
        EXPECT_EQ(edge_decode_reading(buf, (size_t)len, &back), EDGE_OK);
        EXPECT_EQ(back.n, (long long)n);
        for (k = 0; k < n; k++) {
            if (back.r[k].ch != in[k].ch || back.r[k].v != in[k].v || back.r[k].has_t != in[k].has_t ||
                back.r[k].t != in[k].t)
                return failf("reading %zu of %zu did not round-trip (v %.17g vs %.17g)", k, n, back.r[k].v, in[k].v);
        }
    }
    return true;
}
