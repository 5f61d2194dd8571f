/*
 * The one way edge_proto and its applications compare times on a wrapping u32 millisecond clock (an ESP32's
 * esp_timer_get_time() / 1000 wraps after 49.7 days). Subtracting and comparing unsigned differences directly
 * goes wrong when the two times come from different reads of the clock: a time read earlier in the same loop
 * than a frame's send time makes `now - sent` wrap to ~4 billion, i.e. "long overdue" (a resend at once).
 */
#ifndef EDGE_PROTO_CLOCK_H
#define EDGE_PROTO_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether `now` has reached `deadline`. Correct across the wrap while the two are less than 2^31 ms (24.8 days)
 * apart; a `now` up to that much before the deadline is "not yet", never "long past".
 */
static inline bool edge_ms_reached(uint32_t now, uint32_t deadline)
{
    return (uint32_t)(now - deadline) < 0x80000000u;
}

#endif
