/*
 * QEMU virt board core: interrupts (CLINT timer, PLIC), time, sleeping with wfi, critical sections, restart,
 * logging, and the start-up that ESP-IDF's own would do before app_main.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "board_sim.h"
#include "driver/uart.h"
#include "esp_log.h"
#include "esp_rom_sys.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/task.h"

#define CLINT_MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define CLINT_MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define CLINT_MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define CLINT_MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)
#define PLIC_PRIORITY(irq) (*(volatile uint32_t *)(0x0C000000u + 4u * (irq)))
#define PLIC_ENABLE_CTX0 (*(volatile uint32_t *)0x0C002000u)
#define PLIC_THRESHOLD_CTX0 (*(volatile uint32_t *)0x0C200000u)
#define PLIC_CLAIM_CTX0 (*(volatile uint32_t *)0x0C200004u)
#define TEST_FINISHER (*(volatile uint32_t *)0x00100000u)
#define FINISHER_RESET 0x7777u
#define UART0_IRQ 10u
#define MTIME_PER_US 10u /* virt's CLINT timebase is 10 MHz */
#define MSTATUS_MIE (1u << 3)
#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)
#define STACK_PAINT 0xA5A5A5A5u

extern void app_main(void);
extern uint32_t __stack_bottom[];

static uint32_t s_critical_depth;
static esp_log_level_t s_log_level = ESP_LOG_INFO;

uint64_t board_mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = CLINT_MTIME_HI;
        lo = CLINT_MTIME_LO;
    } while (hi != CLINT_MTIME_HI);
    return ((uint64_t)hi << 32) | lo;
}

static void set_mtimecmp(uint64_t t)
{
    CLINT_MTIMECMP_HI = 0xffffffffu; /* no spurious match while the halves are written */
    CLINT_MTIMECMP_LO = (uint32_t)t;
    CLINT_MTIMECMP_HI = (uint32_t)(t >> 32);
}

static inline void irq_off(void) { __asm__ volatile("csrc mstatus, %0" ::"r"(MSTATUS_MIE) : "memory"); }
static inline void irq_on(void) { __asm__ volatile("csrs mstatus, %0" ::"r"(MSTATUS_MIE) : "memory"); }

uint64_t board_deadline_ms(TickType_t ticks)
{
    if (ticks == portMAX_DELAY) {
        return UINT64_MAX;
    }
    return board_mtime() + (uint64_t)ticks * portTICK_PERIOD_MS * 1000u * MTIME_PER_US;
}

bool board_wait(bool (*done)(void *), void *ctx, uint64_t deadline)
{
    for (;;) {
        irq_off();
        if (done != NULL && done(ctx)) {
            irq_on();
            return true;
        }
        if (board_mtime() >= deadline) {
            irq_on();
            return false;
        }
        /* interrupts masked from the check to the wfi: a wake-up cannot slip in between and be missed */
        set_mtimecmp(deadline);
        __asm__ volatile("wfi");
        irq_on(); /* the pending interrupt is taken here */
    }
}

void board_trap(uint32_t mcause, uint32_t mepc)
{
    if ((mcause & 0x80000000u) == 0) {
        board_abort("exception", (esp_err_t)mcause);
    }
    (void)mepc;
    switch (mcause & 0xffu) {
    case 7: /* machine timer: the waiter re-arms it */
        set_mtimecmp(UINT64_MAX);
        break;
    case 11: { /* machine external, through the PLIC */
        uint32_t irq = PLIC_CLAIM_CTX0;
        if (irq == UART0_IRQ) {
            board_uart_isr();
        }
        PLIC_CLAIM_CTX0 = irq;
        break;
    }
    default:
        break;
    }
}

int64_t esp_timer_get_time(void)
{
    return (int64_t)(board_mtime() / MTIME_PER_US);
}

void esp_rom_delay_us(uint32_t us)
{
    uint64_t end = board_mtime() + (uint64_t)us * MTIME_PER_US;
    while (board_mtime() < end) {
    }
}

void vTaskDelay(TickType_t ticks)
{
    (void)board_wait(NULL, NULL, board_deadline_ms(ticks));
}

TickType_t xTaskGetTickCount(void)
{
    return (TickType_t)(board_mtime() / (1000u * MTIME_PER_US));
}

void board_enter_critical(portMUX_TYPE *mux)
{
    irq_off();
    s_critical_depth++;
    mux->count++;
}

void board_exit_critical(portMUX_TYPE *mux)
{
    mux->count--;
    if (--s_critical_depth == 0) {
        irq_on();
    }
}

void esp_restart(void)
{
    irq_off();
    TEST_FINISHER = FINISHER_RESET;
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void board_abort(const char *what, esp_err_t rc)
{
    char line[96];
    int n = snprintf(line, sizeof line, "\r\nabort: %s (%d), restarting\r\n", what, rc);
    board_uart_write_polled(line, n > 0 ? (size_t)n : 0);
    esp_restart();
}

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    (void)tag; /* one level for every tag: the example only uses "*" */
    s_log_level = level;
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    char line[128];
    va_list ap;
    int n;
    (void)tag;
    if (level == ESP_LOG_NONE || level > s_log_level) {
        return;
    }
    va_start(ap, format);
    n = vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    if (n > 0) {
        (void)uart_write_bytes(UART_NUM_0, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}

/* What ESP-IDF's start-up does before app_main, reduced to this board: interrupts, and the painted stack. */
void board_start(void)
{
    uint32_t *p = __stack_bottom;
    uint32_t *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    while (p < sp - 16) {
        *p++ = STACK_PAINT;
    }
    BOARD_SIM->boots++;
    BOARD_SIM->magic = BOARD_SIM_MAGIC;
    set_mtimecmp(UINT64_MAX);
    PLIC_PRIORITY(UART0_IRQ) = 1;
    PLIC_THRESHOLD_CTX0 = 0;
    PLIC_ENABLE_CTX0 = 1u << UART0_IRQ;
    __asm__ volatile("csrs mie, %0" ::"r"(MIE_MTIE | MIE_MEIE));
    irq_on();
    app_main();
    for (;;) {
        vTaskDelay(portMAX_DELAY); /* app_main returned: IDF deletes the task; here the core just idles */
    }
}
