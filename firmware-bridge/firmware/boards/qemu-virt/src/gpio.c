/*
 * The board's pins, wired to simulated parts the bench controls through board_sim.h: an HX711 (DOUT GPIO4,
 * SCK GPIO5) that converts at 10 samples/s and clocks out 24 bits MSB first on SCK rising edges (the 25th
 * pulse selects gain 128 and starts the next conversion), the BOOT button on GPIO0 (pulled up, low when held),
 * an LED on GPIO2.
 */
#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "board_sim.h"
#include "driver/gpio.h"
#include "esp_timer.h"

#define PIN_BUTTON GPIO_NUM_0
#define PIN_LED GPIO_NUM_2
#define PIN_HX711_DOUT GPIO_NUM_4
#define PIN_HX711_SCK GPIO_NUM_5
#define HX711_CONVERSION_US 100000 /* 10 SPS */

static struct {
    uint32_t sck;
    uint32_t pulses; /* SCK pulses of the read in progress */
    uint32_t latched;
    uint32_t dout;
    int64_t ready_at_us;
} s_hx711;

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode)
{
    (void)mode;
    return gpio_num < GPIO_NUM_MAX ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t gpio_set_pull_mode(gpio_num_t gpio_num, gpio_pull_mode_t pull)
{
    (void)pull;
    return gpio_num < GPIO_NUM_MAX ? ESP_OK : ESP_ERR_INVALID_ARG;
}

static void hx711_clock_rising(void)
{
    if (s_hx711.pulses == 0) {
        s_hx711.latched = (uint32_t)BOARD_SIM->load_raw & 0xffffffu;
    }
    s_hx711.pulses++;
    if (s_hx711.pulses <= 24) {
        s_hx711.dout = (s_hx711.latched >> (24 - s_hx711.pulses)) & 1u;
    } else {
        s_hx711.pulses = 0;
        s_hx711.dout = 1; /* busy until the next conversion */
        s_hx711.ready_at_us = esp_timer_get_time() + HX711_CONVERSION_US;
        BOARD_SIM->conversions++;
    }
}

esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level)
{
    level = level ? 1u : 0u;
    switch (gpio_num) {
    case PIN_HX711_SCK:
        if (level && !s_hx711.sck) {
            hx711_clock_rising();
        }
        s_hx711.sck = level;
        return ESP_OK;
    case PIN_LED:
        if (level && !BOARD_SIM->led) {
            BOARD_SIM->led_pulses++;
        }
        BOARD_SIM->led = level;
        return ESP_OK;
    default:
        return gpio_num < GPIO_NUM_MAX ? ESP_OK : ESP_ERR_INVALID_ARG;
    }
}

int gpio_get_level(gpio_num_t gpio_num)
{
    switch (gpio_num) {
    case PIN_HX711_DOUT:
        if (s_hx711.pulses > 0) {
            return (int)s_hx711.dout;
        }
        return esp_timer_get_time() >= s_hx711.ready_at_us ? 0 : 1; /* low = conversion ready */
    case PIN_BUTTON:
        BOARD_SIM->button_reads++;
        return BOARD_SIM->button_down ? 0 : 1;
    case PIN_LED:
        return (int)BOARD_SIM->led;
    default:
        return 0;
    }
}
