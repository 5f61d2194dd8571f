/*
 * ESP-IDF GPIO driver for the QEMU virt board. The board has no GPIO block; its pins are wired to simulated
 * parts instead: an HX711 load-cell ADC (DOUT on GPIO4, SCK on GPIO5), the BOOT button (GPIO0, active low,
 * the example's privacy button) and an LED (GPIO2). The bench drives them through board_sim.h.
 */
#ifndef DRIVER_GPIO_H
#define DRIVER_GPIO_H

#include <stdint.h>

#include "esp_err.h"

typedef enum {
    GPIO_NUM_0 = 0, GPIO_NUM_1, GPIO_NUM_2, GPIO_NUM_3, GPIO_NUM_4, GPIO_NUM_5, GPIO_NUM_6, GPIO_NUM_7,
    GPIO_NUM_8, GPIO_NUM_9, GPIO_NUM_10, GPIO_NUM_MAX
} gpio_num_t;

typedef enum { GPIO_MODE_DISABLE = 0, GPIO_MODE_INPUT = 1, GPIO_MODE_OUTPUT = 2, GPIO_MODE_INPUT_OUTPUT = 3 } gpio_mode_t;
typedef enum { GPIO_PULLUP_ONLY = 0, GPIO_PULLDOWN_ONLY, GPIO_PULLUP_PULLDOWN, GPIO_FLOATING } gpio_pull_mode_t;

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode);
esp_err_t gpio_set_pull_mode(gpio_num_t gpio_num, gpio_pull_mode_t pull);
esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level);
int gpio_get_level(gpio_num_t gpio_num);

#endif
