#ifndef ESP_SYSTEM_H
#define ESP_SYSTEM_H

#include "esp_err.h"

/* Resets the whole chip (QEMU: the virt machine's test finisher requests a system reset). */
void esp_restart(void) __attribute__((noreturn));

#endif
