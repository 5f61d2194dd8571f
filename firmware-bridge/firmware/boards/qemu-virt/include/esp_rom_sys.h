#ifndef ESP_ROM_SYS_H
#define ESP_ROM_SYS_H

#include <stdint.h>

/* Busy-waits, as the ROM function does (used for bit-banging with interrupts off). */
void esp_rom_delay_us(uint32_t us);

#endif
