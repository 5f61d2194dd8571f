/*
 * Kitchen scale: an HX711 load cell on channel 1 ("weight", usage), dispense events on channel 2, the BOOT
 * button as the device's own privacy switch (a short press) and, while the gateway says a firmware update is
 * pending, the household's "not now" for it (a long press: deferred 24 h). Talks to the gateway over UART0, which is the USB-UART bridge
 * of common ESP32 dev kits. Logging is switched off because it would share that UART; the gateway's reader
 * would resynchronise after log text anyway, but each line would count as a bad frame.
 */
#include <stdbool.h>
#include <stdint.h>

#include "driver/gpio.h"
#include "driver/uart.h"
#include "edge_proto/edge_proto.h"
#include "esp_log.h"
#include "esp_rom_sys.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#define LINK_UART UART_NUM_0
#define HX711_DOUT GPIO_NUM_4
#define HX711_SCK GPIO_NUM_5
#define PRIVACY_BUTTON GPIO_NUM_0
#define LED GPIO_NUM_2
#define GRAMS_PER_COUNT 0.00235f /* from calibration with a 500 g weight */
#define SAMPLE_MS 1000u
#define HEARTBEAT_MS 30000u
#define DISPENSE_MIN_G 5.0 /* a drop larger than this between two samples is a dispense event */
#define HELLO_RETRY_MS 5000u /* hello is not acked: repeat it until the gateway's consent-state answers */
#define LONG_PRESS_MS 1500u  /* held this long: not a privacy toggle but the answer to a pending update */
#define DEFER_HOURS 24u      /* what a long press asks for ("not now") */

static edge_session_t s_session; /* ~1.5 KB: static, not on the task stack */
static edge_reader_t s_reader;
static int32_t s_tare;
static portMUX_TYPE s_hx711_lock = portMUX_INITIALIZER_UNLOCKED;

static void uart_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    uart_write_bytes(LINK_UART, (const char *)data, len);
}

static uint32_t now_ms(void)
{
    return (uint32_t)(esp_timer_get_time() / 1000);
}

/* HX711: 24 data bits clocked out MSB first, a 25th pulse selects channel A gain 128 for the next read. */
static bool hx711_read(int32_t *raw)
{
    int32_t v = 0;
    int i;
    if (gpio_get_level(HX711_DOUT) != 0) {
        return false; /* conversion not ready yet */
    }
    /* SCK held high for more than 60 us powers the HX711 down: no task switch or interrupt mid-read */
    portENTER_CRITICAL(&s_hx711_lock);
    for (i = 0; i < 25; i++) {
        gpio_set_level(HX711_SCK, 1);
        esp_rom_delay_us(1);
        if (i < 24) {
            v = (v << 1) | gpio_get_level(HX711_DOUT);
        }
        gpio_set_level(HX711_SCK, 0);
        esp_rom_delay_us(1);
    }
    portEXIT_CRITICAL(&s_hx711_lock);
    *raw = (v & 0x800000) ? v - 0x1000000 : v; /* sign-extend 24 bits */
    return true;
}

static void send_body(uint8_t type, int (*build)(edge_cbor_writer_t *, const void *), const void *arg)
{
    uint8_t body[EDGE_SESSION_TX_BYTES - EDGE_FRAME_OVERHEAD];
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, body, sizeof body);
    /* The HX711 value is a float, so a single (fa) holds it exactly: 4 bytes less per reading than a double. */
    w.float_mode = EDGE_FLOAT_SHORTEST;
    n = build(&w, arg);
    if (n > 0) {
        /* EDGE_ERR_QUEUE_FULL: the gateway is away; the sample is dropped and the next one tries again */
        (void)edge_session_send(&s_session, type, body, (size_t)n, now_ms());
    }
}

static int build_hello(edge_cbor_writer_t *w, const void *arg)
{
    static const edge_channel_t channels[] = {{1, "weight", EDGE_CAT_USAGE}, {2, "event", EDGE_CAT_USAGE}};
    /* it understands {"c": "update"}: the gateway tells it when a firmware update is pending */
    static const char *const caps[] = {EDGE_CAP_UPDATE};
    (void)arg;
    return edge_body_hello_caps(w, "scale-1", "1.2.0", "kitchen-scale", channels, 2, caps, 1);
}
static int build_reading(edge_cbor_writer_t *w, const void *arg) { return edge_body_readings(w, arg, 1); }
static int build_event(edge_cbor_writer_t *w, const void *arg) { return edge_body_event(w, arg); }
static int build_heartbeat(edge_cbor_writer_t *w, const void *arg)
{
    (void)arg;
    return edge_body_heartbeat(w, (uint32_t)(esp_timer_get_time() / 1000000), false, 0);
}
static int build_privacy(edge_cbor_writer_t *w, const void *arg) { return edge_body_consent(w, "device", *(const bool *)arg); }
static int build_defer(edge_cbor_writer_t *w, const void *arg)
{
    (void)arg;
    return edge_body_firmware_choice(w, EDGE_FW_DEFER, DEFER_HOURS);
}

static void led_pulse(void)
{
    gpio_set_level(LED, 1); /* a real product would show what it means on its display */
    vTaskDelay(pdMS_TO_TICKS(300));
    gpio_set_level(LED, 0);
}

void app_main(void)
{
    const uart_config_t cfg = {
        .baud_rate = 115200, .data_bits = UART_DATA_8_BITS, .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1, .flow_ctrl = UART_HW_FLOWCTRL_DISABLE, .source_clk = UART_SCLK_DEFAULT,
    };
    bool usage_allowed = false; /* default deny until the gateway's consent-state says otherwise */
    bool paused = false, privacy_on = false, button_was_down = false;
    bool update_pending = false; /* the gateway said so ({"c": "update"}); forgotten at reboot, told again */
    bool long_press = false;     /* this press already counted as a long one */
    uint32_t pressed_at = 0;
    double last_g = 0.0;
    uint32_t next_sample = 0, next_heartbeat = HEARTBEAT_MS, next_hello = 0;

    esp_log_level_set("*", ESP_LOG_NONE);
    ESP_ERROR_CHECK(uart_driver_install(LINK_UART, 1024, 1024, 0, NULL, 0));
    ESP_ERROR_CHECK(uart_param_config(LINK_UART, &cfg));
    gpio_set_direction(HX711_SCK, GPIO_MODE_OUTPUT);
    gpio_set_direction(HX711_DOUT, GPIO_MODE_INPUT);
    gpio_set_direction(LED, GPIO_MODE_OUTPUT);
    gpio_set_direction(PRIVACY_BUTTON, GPIO_MODE_INPUT);
    gpio_set_pull_mode(PRIVACY_BUTTON, GPIO_PULLUP_ONLY);
    vTaskDelay(pdMS_TO_TICKS(500));
    while (!hx711_read(&s_tare)) {
        vTaskDelay(pdMS_TO_TICKS(10));
    }

    edge_reader_init(&s_reader);
    edge_session_init(&s_session, EDGE_LINK_SERIAL, uart_sink, NULL);

    for (;;) {
        uint8_t rx[64];
        int got = uart_read_bytes(LINK_UART, rx, sizeof rx, pdMS_TO_TICKS(20));
        uint32_t t = now_ms();
        bool button_down = gpio_get_level(PRIVACY_BUTTON) == 0;
        int32_t raw;

        for (int i = 0; i < got; i++) {
            edge_frame_t f;
            edge_inbound_t in;
            if (edge_reader_feed(&s_reader, rx[i], &f) != EDGE_READER_FRAME) {
                continue; /* more bytes needed, or a bad run the reader already skipped */
            }
            switch (edge_session_handle(&s_session, &f, &in)) {
            case EDGE_IN_CONSENT_STATE:
                /* valid even before our hello was answered; registration is the session's to judge */
                usage_allowed = (in.consent.granted & (1u << EDGE_CAT_USAGE)) != 0;
                break;
            case EDGE_IN_COMMAND:
                if (in.command.c == EDGE_CMD_PAUSE) paused = true;
                if (in.command.c == EDGE_CMD_RESUME) paused = false;
                if (in.command.c == EDGE_CMD_IDENTIFY || in.command.c == EDGE_CMD_NOTIFY) {
                    led_pulse();
                }
                if (in.command.c == EDGE_CMD_UPDATE) {
                    update_pending = true; /* in.command.v is the version: a display would show it */
                }
                if (in.command.c == EDGE_CMD_REBOOT) {
                    uart_wait_tx_done(LINK_UART, pdMS_TO_TICKS(100)); /* let the ack leave first */
                    esp_restart();
                }
                break;
            default:
                break;
            }
        }

        if (!edge_session_registered(&s_session) && edge_ms_reached(t, next_hello)) {
            send_body(EDGE_T_HELLO, build_hello, NULL); /* answered with consent-state */
            next_hello = t + HELLO_RETRY_MS;
        }
        /* The one button: a short press (released within LONG_PRESS_MS) toggles privacy; held longer while an
           update is pending it says "not now" (0x06, acked once the gateway has it on file; not consent-gated),
           confirmed by one LED pulse; held longer with nothing pending it does nothing. */
        if (button_down && !button_was_down) {
            pressed_at = t;
            long_press = false;
        }
        if (button_down && !long_press && edge_ms_reached(t, pressed_at + LONG_PRESS_MS)) {
            long_press = true;
            if (update_pending) {
                send_body(EDGE_T_FIRMWARE_CHOICE, build_defer, NULL);
                led_pulse();
            }
        }
        if (!button_down && button_was_down && !long_press) {
            privacy_on = !privacy_on;
            bool granted = !privacy_on;
            send_body(EDGE_T_CONSENT, build_privacy, &granted);
        }
        button_was_down = button_down;

        /* privacy at the source: nothing is even sampled without consent */
        if (edge_ms_reached(t, next_sample) && usage_allowed && !paused && !privacy_on && hx711_read(&raw)) {
            edge_reading_t r = {1, 0.0, true, t};
            r.v = (double)((float)(raw - s_tare) * GRAMS_PER_COUNT);
            send_body(EDGE_T_READING, build_reading, &r);
            if (last_g - r.v > DISPENSE_MIN_G) {
                edge_event_t e = {"dispense", true, true, true, 2, last_g - r.v, t};
                send_body(EDGE_T_EVENT, build_event, &e);
            }
            last_g = r.v;
            next_sample = t + SAMPLE_MS;
        }
        if (edge_ms_reached(t, next_heartbeat)) {
            send_body(EDGE_T_HEARTBEAT, build_heartbeat, NULL);
            next_heartbeat = t + HEARTBEAT_MS;
        }
        edge_session_poll(&s_session, t);
    }
}
