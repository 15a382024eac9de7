/*
 * calibrate.c: measures how many instructions one SysTick tick is on a QEMU board run with
 * -icount shift=0. It times a loop of known length (two instructions per iteration: subs, bne)
 * at two lengths, so the fixed cost of reading SysTick cancels out, and writes
 *   "loop instructions <I> ticks <T>\n"
 * to the host console (semihosting): instructions per tick = I / T. Used by `piconas verify`'s
 * tests to check the committed per-board factors (nas/deploy/mcu_target.cpp).
 */
#include <stdint.h>

#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* Runs `iterations` times a two-instruction loop; returns the SysTick ticks it took. */
static uint32_t timed_loop(uint32_t iterations) {
  register uint32_t n __asm__("r0") = iterations;
  const uint32_t start = SYST_CVR;
  __asm__ volatile(
      ".syntax unified\n"
      "1:\n\t"
      "subs %0, %0, #1\n\t"
      "bne 1b"
      : "+l"(n)
      :
      : "cc");
  return (start - SYST_CVR) & 0x00FFFFFFu; /* the counter counts down */
}

static void put_decimal(char *text, uint32_t *at, uint32_t value) {
  char digits[10];
  uint32_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value != 0u);
  while (n > 0u) text[(*at)++] = digits[--n];
}

static void put_text(char *text, uint32_t *at, const char *s) {
  while (*s) text[(*at)++] = *s++;
}

int main(void) {
  const uint32_t short_loop = 1000000u, long_loop = 3000000u;
  uint32_t short_ticks, long_ticks, at = 0;
  char line[96];
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5u; /* enable, processor clock, no interrupt */
  short_ticks = timed_loop(short_loop);
  long_ticks = timed_loop(long_loop);
  put_text(line, &at, "loop instructions ");
  put_decimal(line, &at, 2u * (long_loop - short_loop));
  put_text(line, &at, " ticks ");
  put_decimal(line, &at, long_ticks - short_ticks);
  put_text(line, &at, "\n");
  line[at] = '\0';
  sh_write0(line);
  return 0;
}
