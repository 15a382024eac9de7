/* int8 residual add (see add_s8.h). */
#include "add_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"

int piconas_add_s8(const piconas_add_params *params, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size) {
  int32_t i;
  if (params == NULL || input1 == NULL || input2 == NULL || output == NULL || size < 0 ||
      !piconas_s8_offsets_ok(params->input1_offset, params->output_offset) ||
      !piconas_s8_offsets_ok(params->input2_offset, params->output_offset) ||
      params->left_shift < 0 || params->left_shift > 23 ||
      !piconas_s8_shift_ok(params->input1_shift) || !piconas_s8_shift_ok(params->input2_shift) ||
      !piconas_s8_shift_ok(params->output_shift) || !piconas_s8_activation_ok(params->activation)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  for (i = 0; i < size; ++i) {
    /* |q + offset| <= 255, so the left shift by at most 23 stays inside int32. */
    const int32_t x1 =
        ((int32_t)input1[i] + params->input1_offset) * ((int32_t)1 << params->left_shift);
    const int32_t x2 =
        ((int32_t)input2[i] + params->input2_offset) * ((int32_t)1 << params->left_shift);
    const int32_t a = piconas_multiply_by_quantized_multiplier(x1, params->input1_multiplier,
                                                               params->input1_shift);
    const int32_t b = piconas_multiply_by_quantized_multiplier(x2, params->input2_multiplier,
                                                               params->input2_shift);
    /* The sum is formed modulo 2^32 like the reference; with the host-side multipliers
     * (M1, M2 <= 1/2) it never wraps. */
    const int32_t sum = (int32_t)((uint32_t)a + (uint32_t)b);
    const int32_t y = piconas_multiply_by_quantized_multiplier(sum, params->output_multiplier,
                                                               params->output_shift);
    output[i] = piconas_s8_output(y, params->output_offset, params->activation);
  }
  return PICONAS_S8_OK;
}
