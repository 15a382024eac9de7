/*
 * channel_mul_s8.h: int8 channel-wise multiply, y[p, c] = x[p, c] * gate[c] (NHWC: `pixels`
 * pixels of `channels` channels, one gate value per channel): the scale of a
 * squeeze-and-excitation block. TFLite's int8 Mul with the gate broadcast (docs/int8.md):
 *   y = clamp(MBQM((x + input1_offset) * (g + input2_offset), multiplier, shift)
 *             + output_offset, act.min, act.max)
 * Host side: multiplier, shift = piconas_quantize_multiplier(s_x * s_g / s_y) in double;
 * input1_offset = -z_x, input2_offset = -z_g, output_offset = z_y. |product| <= 255 * 255, so
 * shifts up to 15 never wrap. output may alias input. Needs no scratch.
 */
#ifndef PICONAS_INT8_CHANNEL_MUL_S8_H
#define PICONAS_INT8_CHANNEL_MUL_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t input1_offset; /* -z of the features */
  int32_t input2_offset; /* -z of the gate */
  int32_t output_offset; /* +z_out */
  int32_t multiplier;
  int32_t shift; /* in [-31, 15] */
  piconas_activation activation;
} piconas_channel_mul_params;

/* PICONAS_S8_OK, or PICONAS_S8_ERR_ARGUMENT for parameters out of range or
 * negative sizes: what piconas_channel_mul_s8 returns for non-NULL tensors. */
int piconas_channel_mul_s8_check(const piconas_channel_mul_params *params, int32_t pixels,
                                 int32_t channels);
int piconas_channel_mul_s8(const piconas_channel_mul_params *params, const int8_t *input,
                           const int8_t *gate, int8_t *output, int32_t pixels, int32_t channels);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CHANNEL_MUL_S8_H */
