#ifndef ESP_TIMER_H
#define ESP_TIMER_H

#include <stdint.h>

/* Microseconds since boot (CLINT mtime at 10 MHz). */
int64_t esp_timer_get_time(void);

#endif
