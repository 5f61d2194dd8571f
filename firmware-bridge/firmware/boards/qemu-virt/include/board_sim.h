/*
 * The simulated peripherals of the QEMU board (not an ESP-IDF API): a block of guest RAM at a fixed address that
 * the test bench reads and writes through QEMU's shared memory backend file, so a test can put weight on the
 * load cell, hold the privacy button and see the LED without a second link to the firmware. It lies outside
 * every loaded and zeroed section, so it survives a reset: the bench keeps control across reboots.
 * Layout is a contract with test/support/qemu-board (little-endian u32/i32 words).
 */
#ifndef BOARD_SIM_H
#define BOARD_SIM_H

#include <stdint.h>

#define BOARD_SIM_ADDR 0x80100000u
#define BOARD_SIM_MAGIC 0x5343414cu /* "LACS": written by the firmware at boot once the block is live */

typedef struct {
    volatile uint32_t magic;        /* firmware -> bench: BOARD_SIM_MAGIC after boot */
    volatile uint32_t boots;        /* firmware -> bench: incremented at every boot */
    volatile int32_t load_raw;      /* bench -> firmware: HX711 counts of the next conversion (24-bit signed) */
    volatile uint32_t button_down;  /* bench -> firmware: 1 = privacy button held (GPIO0 reads 0) */
    volatile uint32_t conversions;  /* firmware -> bench: HX711 conversions clocked out (samples taken) */
    volatile uint32_t button_reads; /* firmware -> bench: reads of the button GPIO (the bench waits on it) */
    volatile uint32_t led;          /* firmware -> bench: LED level now */
    volatile uint32_t led_pulses;   /* firmware -> bench: LED rising edges so far */
    volatile uint32_t stack_lowest; /* firmware -> bench: unused, the bench reads the painted stack itself */
} board_sim_t;

#define BOARD_SIM ((board_sim_t *)BOARD_SIM_ADDR)

#endif
