/* Unit tests of the CBOR reader (numbers, device and gateway bodies) and writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_proto/edge_proto.h"
#include "host_check.h"
#include "host_tests.h"

static bool number_of(const uint8_t *item, size_t n, double want)
{
    edge_cbor_reader_t r;
    double v = -12345.0;
    edge_cbor_reader_init(&r, item, n);
    if (edge_cbor_read_number(&r, &v) != EDGE_OK) return failf("read_number failed at item %02x", item[0]);
    if (!(v == want || (v != v && want != want))) return failf("item %02x: %.17g, expected %.17g", item[0], v, want);
    if (r.pos != n) return failf("item %02x: consumed %zu of %zu", item[0], r.pos, n);
    return true;
}

bool t_cbor_numbers(void)
{
    static const uint8_t u0[] = {0x17}, u1[] = {0x18, 0x05}, u2[] = {0x19, 0x00, 0x05}, u4[] = {0x1a, 0, 0, 0, 5},
                         u8[] = {0x1b, 0, 0, 0, 0, 0, 0, 0, 5}, n1[] = {0x38, 0x27}, n2[] = {0x39, 0x01, 0x00},
                         n4[] = {0x3a, 0, 1, 0, 0}, n8[] = {0x3b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd},
                         big[] = {0x1b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                         h1[] = {0xf9, 0x3c, 0x00}, hsub[] = {0xf9, 0x00, 0x01}, hmax[] = {0xf9, 0x7b, 0xff},
                         hneg[] = {0xf9, 0xc5, 0x00}, hinf[] = {0xf9, 0xfc, 0x00}, hnan[] = {0xf9, 0x7e, 0x00},
                         s1[] = {0xfa, 0x3f, 0x00, 0x00, 0x00}, d1[] = {0xfb, 0x40, 0x35, 0x80, 0, 0, 0, 0, 0},
                         too_big[] = {0x1b, 0, 0x20, 0, 0, 0, 0, 0, 0}, too_small[] = {0x3b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                         truncated[] = {0x1a, 0, 1};
    edge_cbor_reader_t r;
    double v;
    if (!number_of(u0, sizeof u0, 23) || !number_of(u1, sizeof u1, 5) || !number_of(u2, sizeof u2, 5) ||
        !number_of(u4, sizeof u4, 5) || !number_of(u8, sizeof u8, 5) || !number_of(n1, sizeof n1, -40) ||
        !number_of(n2, sizeof n2, -257) || !number_of(n4, sizeof n4, -65537) ||
        !number_of(n8, sizeof n8, -9007199254740990.0) || !number_of(big, sizeof big, 9007199254740991.0) ||
        !number_of(h1, sizeof h1, 1.0) || !number_of(hsub, sizeof hsub, 1.0 / 16777216.0) ||
        !number_of(hmax, sizeof hmax, 65504.0) || !number_of(hneg, sizeof hneg, -5.0) ||
        !number_of(hinf, sizeof hinf, -1.0 / 0.0) || !number_of(hnan, sizeof hnan, 0.0 / 0.0) ||
        !number_of(s1, sizeof s1, 0.5) || !number_of(d1, sizeof d1, 21.5))
        return false;
    edge_cbor_reader_init(&r, too_big, sizeof too_big);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_FIELD); /* 2^53 does not fit the gateway's doubles */
    edge_cbor_reader_init(&r, too_small, sizeof too_small);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_FIELD);
    edge_cbor_reader_init(&r, truncated, sizeof truncated);
    EXPECT_EQ(edge_cbor_read_number(&r, &v), EDGE_ERR_CBOR);
    EXPECT_EQ(r.pos, 0);
    return true;
}

static int check_hex(const char *h)
{
    uint8_t b[256];
    size_t n = unhex(h, b, sizeof b);
    return edge_cbor_check_body(b, n);
}

static int ack_hex(const char *h, uint16_t *a)
{
    uint8_t b[256];
    size_t n = unhex(h, b, sizeof b);
    return edge_decode_ack(b, n, a);
}

bool t_cbor_bodies(void)
{
    uint16_t a = 0;
    size_t i;
    /* map of every length encoding, text keys of every length encoding */
    EXPECT_EQ(ack_hex("a1616107", &a), EDGE_OK);
    EXPECT_EQ(a, 7);
    EXPECT_EQ(ack_hex("b8016161190102", &a), EDGE_OK);
    EXPECT_EQ(a, 258);
    EXPECT_EQ(ack_hex("b90001616107", &a), EDGE_OK);
    EXPECT_EQ(ack_hex("ba000000017801611a0000ffff", &a), EDGE_OK);
    EXPECT_EQ(a, 0xFFFF);
    EXPECT_EQ(ack_hex("bb0000000000000001790001611b0000000000000009", &a), EDGE_OK);
    EXPECT_EQ(a, 9);
    EXPECT_EQ(ack_hex("a16161f94500", &a), EDGE_OK); /* a uint sent as a half float 5.0, as the gateway allows */
    EXPECT_EQ(a, 5);
    /* unknown keys of every type around the wanted one are skipped */
    EXPECT_EQ(ack_hex("a8"
                      "617a" "83" "01" "a16171f6" "8282f4f5" "80"       /* z: [1, {q: null}, [[false, true], []]] */
                      "6161" "0c"                                         /* a: 12 */
                      "6166" "fbbff0000000000000"                         /* f: -1.0 */
                      "6167" "fa3f800000"                                 /* g: 1.0f */
                      "6168" "f93c00"                                     /* h: 1.0 half */
                      "626e6e" "3903e7"                                   /* nn: -1000 */
                      "6174" "7900036162" "63"                            /* t: "abc" as text16 */
                      "626d6d" "b900016178b8016179f5",                    /* mm: {x: {y: true}} map16/map8 */
                      &a),
              EDGE_OK);
    EXPECT_EQ(a, 12);
    EXPECT_EQ(ack_hex("a1616119ffff", &a), EDGE_OK);
    EXPECT_EQ(ack_hex("a161611a00010000", &a), EDGE_ERR_FIELD); /* acked seq beyond u16 */
    EXPECT_EQ(ack_hex("a1616120", &a), EDGE_ERR_FIELD);         /* negative */
    EXPECT_EQ(ack_hex("a16161f93e00", &a), EDGE_ERR_FIELD);     /* 1.5 */
    EXPECT_EQ(ack_hex("a16162f5", &a), EDGE_ERR_FIELD);         /* missing "a" */
    EXPECT_EQ(ack_hex("a161616131", &a), EDGE_ERR_FIELD);       /* "a": "1" */
    EXPECT_EQ(ack_hex("a0", &a), EDGE_ERR_FIELD);
    /* malformed or rejected CBOR */
    {
        static const char *const cbor_bad[] = {
            "",                   /* nothing */
            "a2616107",           /* truncated: second pair missing */
            "a1616118",           /* truncated argument */
            "a1626161",           /* truncated key */
            "bf616107ff",         /* indefinite-length map */
            "a161619f01ff",       /* indefinite-length array */
            "a161617f6161ff",     /* indefinite-length text */
            "a1616141aa",         /* byte string */
            "a16161c101",         /* tag */
            "a16161f7",           /* undefined */
            "a16161f0",           /* simple value 16 */
            "a16161f820",         /* simple value 32 */
            "a16161ff",           /* stray break */
            "a161611c",           /* reserved additional info 28 */
            "a101f5",             /* integer key */
            "a16161a101f5",       /* integer key in a nested map */
            "a161619b7fffffffffffffff", /* array claiming 2^63 items */
            "bb7fffffffffffffff", /* map claiming 2^63 pairs */
            "a1616107a0",         /* trailing bytes */
            "8101",               /* not a map */
            "6161",               /* not a map */
        };
        for (i = 0; i < sizeof cbor_bad / sizeof cbor_bad[0]; i++) {
            if (check_hex(cbor_bad[i]) != EDGE_ERR_CBOR) return failf("\"%s\" gave %s, expected cbor", cbor_bad[i], edge_err_name(check_hex(cbor_bad[i])));
        }
    }
    /* out-of-range integers anywhere are field errors (as the gateway's bigint check), after structure */
    EXPECT_EQ(check_hex("a1617a1b0020000000000000"), EDGE_ERR_FIELD);
    EXPECT_EQ(check_hex("a2617a1b0020000000000000617a"), EDGE_ERR_CBOR);
    /* nesting: items at depth 8 (top map = 0) are accepted, at depth 9 not, exactly the gateway's limit */
    EXPECT_EQ(check_hex("a1617a818181818181818101"), EDGE_ERR_CBOR); /* scalar at depth 9 */
    EXPECT_EQ(check_hex("a1617a818181818181818180"), EDGE_ERR_CBOR); /* empty array at depth 9 */
    EXPECT_EQ(check_hex("a1617a8181818181818101"), EDGE_OK);         /* scalar at depth 8 */
    EXPECT_EQ(check_hex("a1617a8181818181818180"), EDGE_OK);         /* empty array at depth 8 */
    EXPECT_EQ(check_hex("a1617a81818181818181a1617801"), EDGE_ERR_CBOR); /* map at depth 8 holding a value */
    /* every truncation of a valid body is rejected, never read past */
    {
        uint8_t b[64];
        size_t n = unhex("a3626368026176fbc00a00000000000061741a0001e240", b, sizeof b), k;
        for (k = 0; k < n; k++) {
            uint8_t *copy = malloc(k ? k : 1); /* exact-size heap copy: ASan catches any over-read */
            int rc;
            memcpy(copy, b, k);
            rc = edge_cbor_check_body(copy, k);
            free(copy);
            if (rc != EDGE_ERR_CBOR) return failf("prefix of %zu bytes gave %s", k, edge_err_name(rc));
        }
        EXPECT_EQ(edge_cbor_check_body(b, n), EDGE_OK);
    }
    return true;
}

bool t_gateway_bodies(void)
{
    uint8_t b[256];
    size_t n;
    edge_command_t c;
    edge_consent_state_t s;
    n = unhex("a56163666e6f7469667964746578746a436f66666565206c6f77636c656465616d6265726462757a7af5"
              "6178a1617982010f", b, sizeof b);
    /* {c: notify, text: "Coffee low", led: "amber", buzz: true, x: {y: [1, 15]}} (x unknown) -- 5 pairs */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK);
    EXPECT_EQ(c.c, EDGE_CMD_NOTIFY);
    EXPECT(c.has_text && edge_cbor_text_eq(c.text.s, c.text.len, "Coffee low"));
    EXPECT(c.has_led && edge_cbor_text_eq(c.led.s, c.led.len, "amber"));
    EXPECT(c.has_buzz && c.buzz);
    EXPECT(!c.has_campaign && !c.has_signal);
    n = unhex("a36163666e6f746966796863616d706169676e626331667369676e616c627331", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK); /* a campaign trigger: {c: notify, campaign: c1, signal: s1} */
    EXPECT(c.has_campaign && edge_cbor_text_eq(c.campaign.s, c.campaign.len, "c1"));
    EXPECT(c.has_signal && edge_cbor_text_eq(c.signal.s, c.signal.len, "s1"));
    EXPECT(!c.has_text && !c.has_led && !c.has_buzz);
    n = unhex("a161636570617573", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_CBOR); /* truncated text */
    n = unhex("a16163656475726e6b", b, sizeof b);             /* "c": "durnk" */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD);
    n = unhex("a261636570617573656474657874f5", b, sizeof b); /* text: true */
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD);
    n = unhex("a0", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_ERR_FIELD); /* no "c" */
    n = unhex("a16163667265626f6f74", b, sizeof b);
    EXPECT_EQ(edge_decode_command(b, n, &c), EDGE_OK);
    EXPECT_EQ(c.c, EDGE_CMD_REBOOT);
    /* consent-state: all six categories, map16 form, unknown category rejected, non-bool rejected */
    n = unhex("a16463617473b900066b656e7669726f6e6d656e74f56870726573656e6365f4657573616765f5"
              "686c6f636174696f6ef4666865616c7468f46962696f6d6574726963f5", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_OK);
    EXPECT_EQ(s.present, 0x3F);
    EXPECT_EQ(s.granted, (1 << EDGE_CAT_ENVIRONMENT) | (1 << EDGE_CAT_USAGE) | (1 << EDGE_CAT_BIOMETRIC));
    n = unhex("a16463617473a0", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_OK);
    EXPECT_EQ(s.present, 0);
    n = unhex("a16463617473a1646d6f6f64f5", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    n = unhex("a16463617473a165757361676501", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    n = unhex("a164636174738101", b, sizeof b);
    EXPECT_EQ(edge_decode_consent_state(b, n, &s), EDGE_ERR_FIELD);
    return true;
}

static bool writer_case(void (*put)(edge_cbor_writer_t *, double), double v, const char *want_hex, edge_float_mode_t mode)
{
    uint8_t buf[16], want[16];
    size_t wn = unhex(want_hex, want, sizeof want);
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, buf, sizeof buf);
    w.float_mode = mode;
    put(&w, v);
    n = edge_cbor_writer_finish(&w);
    if (n < 0) return failf("%.17g: %s", v, edge_err_name(n));
    if (!bytes_eq(buf, (size_t)n, want, wn, "writer output")) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%.17g (expected %.40s): %.400s", v, want_hex, g_why);
        return failf("%s", tmp);
    }
    return true;
}

static void put_num(edge_cbor_writer_t *w, double v) { edge_cbor_put_number(w, v); }
static void put_i64(edge_cbor_writer_t *w, double v) { edge_cbor_put_int(w, (int64_t)v); }

bool t_cbor_writer(void)
{
    uint8_t buf[8];
    edge_cbor_writer_t w;
    static const struct {
        double v;
        const char *hex;
    } ints[] = {
        {0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"}, {65535, "19ffff"}, {65536, "1a00010000"},
        {4294967295.0, "1affffffff"}, {4294967296.0, "1b0000000100000000"}, {-1, "20"}, {-24, "37"}, {-25, "3818"},
        {-256, "38ff"}, {-257, "390100"}, {-65537, "3a00010000"}, {-4294967297.0, "3b0000000100000000"},
    };
    size_t i;
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (!writer_case(put_i64, ints[i].v, ints[i].hex, EDGE_FLOAT_DOUBLE)) return false;
        if (!writer_case(put_num, ints[i].v, ints[i].hex, EDGE_FLOAT_DOUBLE)) return false; /* integral -> int */
    }
    /* INT64_MIN and UINT64_MAX need the full 8-byte argument */
    {
        uint8_t big[9];
        edge_cbor_writer_init(&w, big, sizeof big);
        edge_cbor_put_int(&w, INT64_MIN);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT(big[0] == 0x3b && big[1] == 0x7f && big[8] == 0xff);
        edge_cbor_writer_init(&w, big, sizeof big);
        edge_cbor_put_uint(&w, UINT64_MAX);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT(big[0] == 0x1b && big[8] == 0xff);
    }
    /* canonical mode: non-integral numbers as doubles, as the gateway and the vectors */
    if (!writer_case(put_num, 21.5, "fb4035800000000000", EDGE_FLOAT_DOUBLE)) return false;
    if (!writer_case(put_num, -3.25, "fbc00a000000000000", EDGE_FLOAT_DOUBLE)) return false;
    if (!writer_case(put_num, 1e300, "fb7e37e43c8800759c", EDGE_FLOAT_DOUBLE)) return false;
    /* shortest mode: the narrowest exact width */
    if (!writer_case(put_num, 21.5, "f94d60", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 0.5, "f93800", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, -65504.5, "fac77fe080", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 1.0 / 16777216.0, "f90001", EDGE_FLOAT_SHORTEST)) return false;   /* half subnormal */
    if (!writer_case(put_num, 1.0 / 33554432.0, "fa33000000", EDGE_FLOAT_SHORTEST)) return false; /* 2^-25: single */
    if (!writer_case(put_num, (double)(float)(1.0 / 3.0), "fa3eaaaaab", EDGE_FLOAT_SHORTEST)) return false;
    if (!writer_case(put_num, 0.1, "fb3fb999999999999a", EDGE_FLOAT_SHORTEST)) return false;
    {
        /* beyond FLT_MAX: a double, and no undefined float conversion on the way */
        uint8_t out[16];
        edge_cbor_writer_init(&w, out, sizeof out);
        w.float_mode = EDGE_FLOAT_SHORTEST;
        edge_cbor_put_number(&w, 1e39);
        EXPECT_EQ(edge_cbor_writer_finish(&w), 9);
        EXPECT_EQ(out[0], 0xfb);
    }
    /* non-finite numbers are refused (the gateway would count a field error) */
    edge_cbor_writer_init(&w, buf, sizeof buf);
    edge_cbor_put_number(&w, 0.0 / 0.0);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_ARG);
    edge_cbor_writer_init(&w, buf, sizeof buf);
    edge_cbor_put_half(&w, 0.1);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_ARG);
    /* overflow is sticky and reported once at the end */
    edge_cbor_writer_init(&w, buf, 4);
    edge_cbor_put_map(&w, 1);
    edge_cbor_put_cstr(&w, "abcdef");
    edge_cbor_put_uint(&w, 1);
    EXPECT_EQ(edge_cbor_writer_finish(&w), EDGE_ERR_NOSPACE);
    EXPECT(w.len <= 4);
    /* the shortest form round-trips every double bit for bit */
    {
        uint32_t seed = 12345;
        for (i = 0; i < 20000; i++) {
            uint8_t out[16];
            uint64_t bits = 0;
            double v, back;
            edge_cbor_reader_t r;
            int k;
            for (k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                bits = (bits << 16) | (seed >> 16);
            }
            if (i % 3 == 0) bits &= 0xFFFFFFFFE0000000ull;  /* single-representable */
            if (i % 3 == 1) bits &= 0xC7FFFC0000000000ull;  /* mostly half-representable */
            memcpy(&v, &bits, sizeof v);
            if (v != v || v - v != 0.0) continue;
            edge_cbor_writer_init(&w, out, sizeof out);
            w.float_mode = EDGE_FLOAT_SHORTEST;
            edge_cbor_put_number(&w, v);
            EXPECT(edge_cbor_writer_finish(&w) > 0);
            edge_cbor_reader_init(&r, out, w.len);
            EXPECT_EQ(edge_cbor_read_number(&r, &back), EDGE_OK);
            if (memcmp(&back, &v, sizeof v) != 0 && !(v == 0.0 && back == 0.0))
                return failf("%.17g came back as %.17g", v, back);
        }
    }
    return true;
}
