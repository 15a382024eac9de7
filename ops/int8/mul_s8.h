/*
 * mul_s8.h: int8 multiply of two tensors, TFLite's int8 MUL (docs/int8.md), bit exact:
 *   y = clamp(MBQM((q1 + input1_offset) * (q2 + input2_offset), multiplier, shift)
 *             + output_offset, act.min, act.max)
 * with the int32 product requantized once by the multiplier of s1 * s2 / s_out (double rounding,
 * as TFLite-Micro's reference MUL and CMSIS-NN's arm_elementwise_mul_s8).
 *   piconas_mul_s8        two tensors of one shape, `size` elements each (x * sigmoid(conv(x))
 *                         gating);
 *   piconas_pixel_mul_s8  NHWC features of `pixels` x `channels` times a one-channel gate of
 *                         `pixels` values, each broadcast over its pixel's channels (spatial
 *                         attention: TFLite's broadcasting MUL of C x H x W by 1 x H x W).
 * Host side: multiplier, shift = piconas_quantize_multiplier(s1 * s2 / s_out) in double;
 * input1_offset = -z1, input2_offset = -z2, output_offset = z_out. |product| <= 255 * 255 < 2^16,
 * so shifts up to 15 never wrap. The output may alias the first input (and, for piconas_mul_s8,
 * the second). Needs no scratch. Shifts in [-29, 13] requantize with 32-bit multiplies only
 * (requant32_s8.h, the same bytes; the fast form on Cortex-M0), the others with the 64-bit MBQM.
 */
#ifndef PICONAS_INT8_MUL_S8_H
#define PICONAS_INT8_MUL_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t input1_offset; /* -z of the first input (the features) */
  int32_t input2_offset; /* -z of the second input (the gate) */
  int32_t output_offset; /* +z_out */
  int32_t multiplier;    /* >= 0 */
  int32_t shift;         /* in [-31, 15] */
  piconas_activation activation;
} piconas_mul_params;

/* PICONAS_S8_OK, or PICONAS_S8_ERR_ARGUMENT for parameters out of range or a negative size:
 * what the kernels return for non-NULL tensors (the exporter's check, once per layer). */
int piconas_mul_s8_check(const piconas_mul_params *params, int32_t size);

int piconas_mul_s8(const piconas_mul_params *params, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size);
int piconas_pixel_mul_s8(const piconas_mul_params *params, const int8_t *input, const int8_t *gate,
                         int8_t *output, int32_t pixels, int32_t channels);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_MUL_S8_H */
