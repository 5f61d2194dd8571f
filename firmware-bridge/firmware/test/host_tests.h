/* The host test groups main() runs, and what more than one group builds on. */
#ifndef HOST_TESTS_H
#define HOST_TESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* shared vectors (vector_tests.c) */
void run_vectors(const char *path);

/* framing: CRC, COBS, the serial reader (framing_tests.c) */
bool t_crc(void);
bool t_cobs(void);
bool t_worked_example(void);
bool t_reader_resync(void);
bool t_reader_oversize(void);
bool t_reader_max_frame(void);
/* A serial frame built with the library: type heartbeat, seq, body {"up": up}; returns its length. */
size_t wire_heartbeat(uint16_t seq, uint32_t up, uint8_t *out);

/* CBOR reader, bodies and writer (cbor_tests.c) */
bool t_cbor_numbers(void);
bool t_cbor_bodies(void);
bool t_gateway_bodies(void);
bool t_cbor_writer(void);

/* firmware-choice, hello cap, the update command (firmware_update_tests.c) */
bool t_firmware_update(void);

/* the device session (session_tests.c) */
bool t_session(void);
bool t_session_boot(void);

/* fuzz (fuzz_tests.c) */
bool t_fuzz_stream(void);
bool t_fuzz_bodies(void);

/* cross-check modes for the TypeScript codec (cross_check.c) */
void run_emit(void);
void run_decode(const char *path);

#endif
