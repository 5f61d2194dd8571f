/*
 * FreeRTOS as ESP-IDF configures it, the part the example uses, for the QEMU virt board: one task (app_main),
 * a 1 kHz tick, critical sections that mask interrupts. Waiting is wfi until a timer or UART interrupt.
 */
#ifndef FREERTOS_H
#define FREERTOS_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

typedef uint32_t TickType_t;
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef void *QueueHandle_t;

#define configTICK_RATE_HZ 1000u
#define portTICK_PERIOD_MS (1000u / configTICK_RATE_HZ)
#define portMAX_DELAY ((TickType_t)0xffffffffu)
#define pdMS_TO_TICKS(ms) ((TickType_t)(((uint64_t)(ms) * configTICK_RATE_HZ) / 1000u))
#define pdTRUE 1
#define pdFALSE 0

/* ESP-IDF's spinlock type: on one core a critical section is just interrupts off (nesting counted). */
typedef struct {
    uint32_t owner;
    uint32_t count;
} portMUX_TYPE;
#define portMUX_INITIALIZER_UNLOCKED {0, 0}

void board_enter_critical(portMUX_TYPE *mux);
void board_exit_critical(portMUX_TYPE *mux);
#define portENTER_CRITICAL(mux) board_enter_critical(mux)
#define portEXIT_CRITICAL(mux) board_exit_critical(mux)

#endif
