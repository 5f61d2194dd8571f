/*
 * UART_NUM_0 on the virt machine's NS16550A: receive and transmit rings filled and drained by the UART interrupt,
 * like ESP-IDF's driver. The rings are static (IDF allocates them at install; the sizes asked for must fit).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "driver/uart.h"

#define UART_BASE 0x10000000u
#define REG(off) (*(volatile uint8_t *)(UART_BASE + (off)))
#define RBR REG(0)
#define THR REG(0)
#define IER REG(1)
#define FCR REG(2)
#define LCR REG(3)
#define MCR REG(4)
#define LSR REG(5)
#define IER_RX 0x01u
#define IER_THRE 0x02u
#define LSR_DR 0x01u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u
#define RING 1024u /* the largest buffer uart_driver_install accepts */

typedef struct {
    uint8_t buf[RING];
    volatile uint32_t head; /* written by the producer only */
    volatile uint32_t tail; /* written by the consumer only */
} ring_t;

static ring_t s_rx, s_tx;
static bool s_installed;
static uint32_t s_rx_dropped; /* bytes that arrived while the RX ring was full (IDF: a FIFO overflow event) */

static uint32_t ring_used(const ring_t *r) { return r->head - r->tail; }

void board_uart_isr(void)
{
    while (LSR & LSR_DR) {
        uint8_t b = RBR;
        if (ring_used(&s_rx) < RING) {
            s_rx.buf[s_rx.head % RING] = b;
            s_rx.head++;
        } else {
            s_rx_dropped++;
        }
    }
    while ((LSR & LSR_THRE) && ring_used(&s_tx) > 0) {
        THR = s_tx.buf[s_tx.tail % RING];
        s_tx.tail++;
    }
    IER = (uint8_t)(IER_RX | (ring_used(&s_tx) > 0 ? IER_THRE : 0u));
}

void board_uart_write_polled(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        while (!(LSR & LSR_THRE)) {
        }
        THR = (uint8_t)s[i];
    }
}

esp_err_t uart_driver_install(uart_port_t uart_num, int rx_buffer_size, int tx_buffer_size, int queue_size,
                              QueueHandle_t *uart_queue, int intr_alloc_flags)
{
    (void)intr_alloc_flags;
    if (uart_num != UART_NUM_0 || rx_buffer_size > (int)RING || tx_buffer_size > (int)RING || queue_size != 0 ||
        uart_queue != NULL) {
        return ESP_ERR_INVALID_ARG; /* this board has no event queue */
    }
    FCR = 0x07; /* FIFOs on and cleared */
    LCR = 0x03; /* 8N1 */
    MCR = 0x08; /* OUT2: interrupt line enabled */
    s_installed = true;
    IER = IER_RX;
    return ESP_OK;
}

esp_err_t uart_param_config(uart_port_t uart_num, const uart_config_t *cfg)
{
    uint8_t lcr;
    if (uart_num != UART_NUM_0 || cfg == NULL || cfg->baud_rate <= 0) {
        return ESP_ERR_INVALID_ARG;
    }
    /* the PTY carries bytes, not bits: the divisor is not programmed; frame format is, as on hardware */
    lcr = (uint8_t)cfg->data_bits;
    if (cfg->stop_bits != UART_STOP_BITS_1) lcr |= 0x04u;
    if (cfg->parity != UART_PARITY_DISABLE) lcr |= (uint8_t)(0x08u | (cfg->parity == UART_PARITY_EVEN ? 0x10u : 0u));
    LCR = lcr;
    return ESP_OK;
}

static bool rx_has(void *want) { return ring_used(&s_rx) >= *(uint32_t *)want; }

static void tx_kick(void);

int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, TickType_t ticks_to_wait)
{
    uint8_t *out = buf;
    uint32_t i, n;
    if (uart_num != UART_NUM_0 || !s_installed || buf == NULL) {
        return -1;
    }
    (void)board_wait(rx_has, &length, board_deadline_ms(ticks_to_wait));
    /* Also move pending output here, as a poll. On a loaded host the stored samples were seen lagging exactly one
     * behind the samples taken, for 20 s and more, until a byte from the gateway arrived: as if a frame stayed in
     * the TX ring until the next write or receive interrupt kicked it (a THRE interrupt that never came). The
     * firmware reads every 20 ms, which bounds any such wait. */
    tx_kick();
    n = ring_used(&s_rx);
    if (n > length) n = length;
    for (i = 0; i < n; i++) {
        out[i] = s_rx.buf[s_rx.tail % RING];
        s_rx.tail++;
    }
    return (int)n;
}

static bool tx_has_room(void *unused) { (void)unused; return ring_used(&s_tx) < RING; }
static bool tx_done(void *unused) { (void)unused; return ring_used(&s_tx) == 0 && (LSR & LSR_TEMT); }

static void tx_kick(void)
{
    /* the interrupt handler moves bytes while THR is empty, and asks for the next THRE interrupt if more remain;
     * run with interrupts masked, as the handler itself is, so the two never move the same byte */
    portMUX_TYPE mux = portMUX_INITIALIZER_UNLOCKED;
    portENTER_CRITICAL(&mux);
    board_uart_isr();
    portEXIT_CRITICAL(&mux);
}

int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size)
{
    const uint8_t *in = src;
    size_t i;
    if (uart_num != UART_NUM_0 || !s_installed || src == NULL) {
        return -1;
    }
    for (i = 0; i < size; i++) {
        if (ring_used(&s_tx) == RING) {
            tx_kick();
            (void)board_wait(tx_has_room, NULL, UINT64_MAX);
        }
        s_tx.buf[s_tx.head % RING] = in[i];
        s_tx.head++;
    }
    tx_kick();
    return (int)size;
}

esp_err_t uart_wait_tx_done(uart_port_t uart_num, TickType_t ticks_to_wait)
{
    if (uart_num != UART_NUM_0 || !s_installed) {
        return ESP_FAIL;
    }
    return board_wait(tx_done, NULL, board_deadline_ms(ticks_to_wait)) ? ESP_OK : ESP_ERR_TIMEOUT;
}
