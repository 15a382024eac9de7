/*
 * startup.c: vector table, reset handler and semihosting calls for the piconas QEMU tests
 * (Cortex-M0/M3/M4/M7/M33). Reset copies .data from flash, zeroes .bss, enables the FPU when
 * the build uses one, runs main() and exits QEMU with its status. memcpy/memset are provided
 * because the firmware links without libc (-nostdlib; libgcc only).
 */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

/* GCC would turn these loops back into memcpy/memset calls: keep them as loops. */
#define PICONAS_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

PICONAS_NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  while (n--) *d++ = *s++;
  return dst;
}

PICONAS_NO_LIBCALL void *memset(void *dst, int value, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  while (n--) *d++ = (uint8_t)value;
  return dst;
}

static int semihost_call(int op, void *args) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = args;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

PICONAS_NO_LIBCALL static uint32_t length_of(const char *s) {
  uint32_t n = 0;
  while (s[n]) ++n;
  return n;
}

int sh_open(const char *name, int mode) {
  uint32_t args[3];
  args[0] = (uint32_t)(uintptr_t)name;
  args[1] = (uint32_t)mode;
  args[2] = length_of(name);
  return semihost_call(0x01, args);
}

int sh_read(int handle, void *buf, uint32_t size) {
  uint32_t args[3];
  args[0] = (uint32_t)handle;
  args[1] = (uint32_t)(uintptr_t)buf;
  args[2] = size;
  return semihost_call(0x06, args);
}

int sh_write(int handle, const void *buf, uint32_t size) {
  uint32_t args[3];
  args[0] = (uint32_t)handle;
  args[1] = (uint32_t)(uintptr_t)buf;
  args[2] = size;
  return semihost_call(0x05, args);
}

int sh_close(int handle) {
  uint32_t args[1];
  args[0] = (uint32_t)handle;
  return semihost_call(0x02, args);
}

void sh_write0(const char *text) { semihost_call(0x04, (void *)(uintptr_t)text); }

void sh_exit(int status) {
  /* SYS_EXIT: ADP_Stopped_ApplicationExit (0x20026) or ADP_Stopped_RunTimeErrorUnknown. */
  semihost_call(0x18, (void *)(uintptr_t)(status == 0 ? 0x20026u : 0x20023u));
  for (;;) {
  }
}

void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
#if defined(__ARM_FP)
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10, CP11 */
  __asm__ volatile("dsb\n\tisb");
#endif
  sh_exit(main());
}

void Default_Handler(void) { sh_exit(255); }

/* The harness counts SysTick wraps in its own SysTick_Handler; unused, a tick exits. */
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

__attribute__((section(".isr_vector"), used)) const uintptr_t piconas_vectors[16] = {
    (uintptr_t)&_estack,         (uintptr_t)Reset_Handler,   (uintptr_t)Default_Handler,
    (uintptr_t)Default_Handler,  (uintptr_t)Default_Handler, (uintptr_t)Default_Handler,
    (uintptr_t)Default_Handler,  0, 0, 0, 0,
    (uintptr_t)Default_Handler,  (uintptr_t)Default_Handler, 0,
    (uintptr_t)Default_Handler,  (uintptr_t)SysTick_Handler};
