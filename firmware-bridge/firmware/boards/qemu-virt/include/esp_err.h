/* ESP-IDF esp_err.h, the part the example uses, for the QEMU virt board. */
#ifndef ESP_ERR_H
#define ESP_ERR_H

#include <stdint.h>

typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_TIMEOUT 0x107

void board_abort(const char *what, esp_err_t rc) __attribute__((noreturn));

/* As in IDF: a failed call is fatal (IDF prints and aborts; the board prints and resets). */
#define ESP_ERROR_CHECK(x)                       \
    do {                                         \
        esp_err_t err_rc_ = (x);                 \
        if (err_rc_ != ESP_OK) {                 \
            board_abort(#x, err_rc_);            \
        }                                        \
    } while (0)

#endif
