/*
 * harness.c: runs an exported model (prefix "model") on every image of input.bin
 * (MODEL_INPUT_SIZE int8 bytes each, NHWC) and writes the int8 logits to output.bin and, per
 * image, 1 + MODEL_NUM_LAYERS SysTick tick counts (uint32, little-endian) to ticks.bin: the
 * whole inference, then each layer (model.c built with `-include layer_hooks.h`). Under QEMU
 * -icount shift=0 a tick is a fixed number of instructions per board (nas/deploy/mcu_target.h).
 * Returns 0 on success.
 */
#include <stdint.h>

#include "layer_hooks.h"
#include "model.h"
#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)

uint32_t piconas_layer_start;
uint32_t piconas_layer_ticks[MODEL_NUM_LAYERS];

/* SysTick wraps every 2^24 ticks; counting the wraps times inferences longer than that (a
 * layer is timed modulo 2^24 ticks: up to 671 M instructions on the mps2 boards). */
static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { ++systick_wraps; }

/* Ticks since SysTick started, read consistently with the wrap count. */
static uint32_t now_ticks(void) {
  uint32_t wraps, value;
  do {
    wraps = systick_wraps;
    value = PICONAS_SYST_CVR;
  } while (wraps != systick_wraps);
  return (wraps << 24) + (0x00FFFFFFu - value);
}

int main(void) {
  static int8_t input[MODEL_INPUT_SIZE];
  static int8_t output[MODEL_NUM_CLASSES];
  const int in = sh_open("input.bin", SH_MODE_RB);
  const int out = sh_open("output.bin", SH_MODE_WB);
  const int ticks = sh_open("ticks.bin", SH_MODE_WB);
  if (in < 0 || out < 0 || ticks < 0) {
    sh_write0("harness: cannot open input.bin / output.bin / ticks.bin\n");
    return 1;
  }
  SYST_RVR = 0x00FFFFFFu;
  PICONAS_SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, processor clock, interrupt on wrap */
  while (PICONAS_SYST_CVR == 0u) {
    /* until the first reload: before it the counter reads 0, not a time */
  }
  while (sh_read(in, input, MODEL_INPUT_SIZE) == 0) {
    uint32_t start, elapsed, layer;
    for (layer = 0; layer < MODEL_NUM_LAYERS; ++layer) piconas_layer_ticks[layer] = 0;
    start = now_ticks();
    if (model_invoke(input, output) != 0) {
      sh_write0("harness: model_invoke failed\n");
      return 2;
    }
    elapsed = now_ticks() - start;
    if (sh_write(out, output, MODEL_NUM_CLASSES) != 0 || sh_write(ticks, &elapsed, 4) != 0 ||
        sh_write(ticks, piconas_layer_ticks, sizeof piconas_layer_ticks) != 0)
      return 3;
  }
  sh_close(in);
  sh_close(out);
  sh_close(ticks);
  return 0;
}
