/*
 * harness.c: runs an exported model (prefix "model") on every image of input.bin
 * (MODEL_INPUT_SIZE int8 bytes each, NHWC) and writes the int8 logits to output.bin and the
 * SysTick ticks of each inference (uint32, little-endian) to ticks.bin. With QEMU
 * -icount shift=0 on the mps2 boards one tick is 40 instructions. Returns 0 on success.
 */
#include <stdint.h>

#include "model.h"
#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

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
  SYST_CVR = 0;
  SYST_CSR = 5u; /* enable, processor clock, no interrupt */
  while (sh_read(in, input, MODEL_INPUT_SIZE) == 0) {
    const uint32_t start = SYST_CVR;
    uint32_t elapsed;
    if (model_invoke(input, output) != 0) {
      sh_write0("harness: model_invoke failed\n");
      return 2;
    }
    elapsed = (start - SYST_CVR) & 0x00FFFFFFu; /* the counter counts down */
    if (sh_write(out, output, MODEL_NUM_CLASSES) != 0 || sh_write(ticks, &elapsed, 4) != 0) return 3;
  }
  sh_close(in);
  sh_close(out);
  sh_close(ticks);
  return 0;
}
