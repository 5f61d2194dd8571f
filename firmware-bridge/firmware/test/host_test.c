/*
 * Host tests of the edge_proto firmware library.
 *
 *   host_test VECTORS_JSON          shared vectors + unit tests + fuzz; one "ok ..." / "FAIL ..." line each
 *   host_test --emit                frames built by the C encoder, for the TypeScript cross-check
 *   host_test --decode FILE         decodes "name frame|wire HEX" lines produced by the TypeScript codec
 *
 * The last line is "summary N passed M failed"; the exit status is non-zero if anything failed.
 */
#include <stdio.h>
#include <string.h>

#include "host_check.h"
#include "host_tests.h"

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--emit") == 0) {
        run_emit();
        return g_fail ? 1 : 0;
    }
    if (argc == 3 && strcmp(argv[1], "--decode") == 0) {
        run_decode(argv[2]);
        return g_fail ? 1 : 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_JSON | --emit | --decode FILE\n", argv[0]);
        return 2;
    }
    run_vectors(argv[1]);
    report(t_crc(), "unit crc16 check value and incremental form");
    report(t_cobs(), "unit cobs edge cases (empty, zeros, 253/254/255-byte runs, 597/700 bytes, malformed)");
    report(t_worked_example(), "unit worked example of DESIGN section 3 built from values");
    report(t_reader_resync(), "unit reader resynchronises after garbage and a partial frame");
    report(t_reader_oversize(), "unit reader discards an oversize run once and recovers");
    report(t_reader_max_frame(), "unit reader accepts the largest serial frame (597 bytes, 600 encoded)");
    report(t_cbor_numbers(), "unit cbor reader numbers: every int width, half/single/double, range limits");
    report(t_cbor_bodies(), "unit cbor bodies: map/text length forms, unknown keys skipped, malformed rejected");
    report(t_gateway_bodies(), "unit gateway bodies: command with notify fields, consent-state");
    report(t_cbor_writer(), "unit cbor writer: shortest ints, float modes, errors, round trip");
    report(t_firmware_update(), "unit firmware update: firmware-choice writer and decoder, hello cap, update command, kept until acked");
    report(t_session(), "unit session: seq, retransmit, acks, queue full, command acks and repeats, BLE");
    report(t_session_boot(), "unit session after boot: leading delimiter, wrap-safe timers, registration only after hello");
    report(t_fuzz_stream(), "unit fuzz: random serial streams");
    report(t_fuzz_bodies(), "unit fuzz: mutated frames and random bodies; reading round trip");
    printf("summary %d passed %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
