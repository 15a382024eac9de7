/*
 * layer_hooks.h: per-layer SysTick timing for the piconas QEMU harness. The emitted model.c
 * calls PICONAS_LAYER_BEGIN(i) / PICONAS_LAYER_END(i) around layer i (empty macros unless
 * defined first); the harness compiles model.c with `-include layer_hooks.h`, so each layer's
 * ticks add up in piconas_layer_ticks[i] (defined in harness.c, zeroed before each inference;
 * a patched layer runs once per patch). A hook costs a few instructions.
 */
#ifndef PICONAS_LAYER_HOOKS_H
#define PICONAS_LAYER_HOOKS_H

#include <stdint.h>

#define PICONAS_SYST_CVR (*(volatile uint32_t *)0xE000E018u)

extern uint32_t piconas_layer_start;
extern uint32_t piconas_layer_ticks[];

#define PICONAS_LAYER_BEGIN(i) (piconas_layer_start = PICONAS_SYST_CVR)
/* SysTick counts down and wraps at 24 bits. */
#define PICONAS_LAYER_END(i) \
  (piconas_layer_ticks[(i)] += (piconas_layer_start - PICONAS_SYST_CVR) & 0x00FFFFFFu)

#endif /* PICONAS_LAYER_HOOKS_H */
