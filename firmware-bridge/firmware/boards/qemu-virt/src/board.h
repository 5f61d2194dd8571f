/* Internal to the QEMU virt board support. */
#ifndef BOARD_H
#define BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "freertos/FreeRTOS.h"

uint64_t board_mtime(void);
/* mtime at which `ticks` from now have passed (UINT64_MAX for portMAX_DELAY). */
uint64_t board_deadline_ms(TickType_t ticks);
/* Sleeps (wfi) until done(ctx) or the deadline; done is checked with interrupts masked. True if done. */
bool board_wait(bool (*done)(void *), void *ctx, uint64_t deadline);
void board_uart_isr(void);
void board_uart_write_polled(const char *s, size_t n);

#endif
