/*
 * hardswish_s8.h: int8 hard-swish, y = x * relu6(x + 3) / 6, in TFLite's fixed-point arithmetic
 * (the reference HardSwish kernel of TFLite / TFLite-Micro, bit exact; docs/int8.md, hard-swish).
 *
 * Per element, in 16-bit fixed point:
 *   v   = (q - z_in) * 2^7                        ("hires" input, int16)
 *   pre = SRDHM16(v, output_multiplier)           (x on the output scale, not yet shifted)
 *   r   = v, saturating-left-shifted by reluish_shift - 1 when reluish_shift > 0;
 *         SRDHM16 by reluish_multiplier; then saturating-left-shifted by 1 (reluish_shift > 0)
 *         or RDBPOT by -reluish_shift (reluish_shift < 0)   (x / 3 on [-1, 1] as Q15)
 *   r   = (r + 2^15) >> 1                         (relu6(x + 3) / 6 as Q15)
 *   y   = clamp(RDBPOT(SDHM16(r, pre), -output_shift) + z_out, -128, 127)
 * SRDHM16 is the rounding doubling high multiply of two int16 ((a b + nudge) / 2^15, nudge 2^14
 * or 1 - 2^14, C truncation), SDHM16 the truncating one (a b / 2^15); both saturate
 * -2^15 * -2^15 to 2^15 - 1. RDBPOT rounds half away from zero (requantize.h).
 *
 * Host side (TFLite's Prepare, in float): hires = s_in / 128; output multiplier hires / s_out,
 * reluish multiplier hires / (3 / 32768), each through piconas_quantize_multiplier and then
 * rounded to 16 bits: m16 = (m32 + 2^15) >> 16, or 32767 when m32 >= 2^31 - 1 - 2^15.
 * Shifts: output_shift in [-15, 0], reluish_shift in [-15, 15]; multipliers >= 0.
 * output may alias input. Needs no scratch.
 */
#ifndef PICONAS_INT8_HARDSWISH_S8_H
#define PICONAS_INT8_HARDSWISH_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t input_offset;       /* -z_in */
  int32_t output_offset;      /* +z_out */
  int32_t reluish_multiplier; /* Q15, in [0, 32767] */
  int32_t reluish_shift;      /* positive: left */
  int32_t output_multiplier;  /* Q15, in [0, 32767] */
  int32_t output_shift;       /* <= 0 */
} piconas_hardswish_params;

/* PICONAS_S8_OK, or PICONAS_S8_ERR_ARGUMENT for parameters out of the ranges
 * above or size < 0: what piconas_hardswish_s8 returns for non-NULL tensors. */
int piconas_hardswish_s8_check(const piconas_hardswish_params *params, int32_t size);
int piconas_hardswish_s8(const piconas_hardswish_params *params, const int8_t *input,
                         int8_t *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_HARDSWISH_S8_H */
