#include "channel_mul_s8.h"

#include "requantize.h"

int piconas_channel_mul_s8_check(const piconas_channel_mul_params *params, int32_t pixels,
                                 int32_t channels) {
  if (params == 0 || pixels < 0 || channels < 0) return PICONAS_S8_ERR_ARGUMENT;
  if (params->input1_offset < -127 || params->input1_offset > 128 || params->input2_offset < -127 ||
      params->input2_offset > 128)
    return PICONAS_S8_ERR_ARGUMENT;
  if (params->output_offset < -128 || params->output_offset > 127) return PICONAS_S8_ERR_ARGUMENT;
  if (params->multiplier < 0 || params->shift < -31 || params->shift > 15)
    return PICONAS_S8_ERR_ARGUMENT;
  if (params->activation.min < -128 || params->activation.max > 127 ||
      params->activation.min > params->activation.max)
    return PICONAS_S8_ERR_ARGUMENT;
  return PICONAS_S8_OK;
}

int piconas_channel_mul_s8(const piconas_channel_mul_params *params, const int8_t *input,
                           const int8_t *gate, int8_t *output, int32_t pixels, int32_t channels) {
  const int status = piconas_channel_mul_s8_check(params, pixels, channels);
  int32_t p, c;
  if (status != PICONAS_S8_OK) return status;
  if (input == 0 || gate == 0 || output == 0) return PICONAS_S8_ERR_ARGUMENT;
  for (p = 0; p < pixels; ++p) {
    const int8_t *x = input + (int64_t)p * channels;
    int8_t *y = output + (int64_t)p * channels;
    for (c = 0; c < channels; ++c) {
      const int32_t product = (x[c] + params->input1_offset) * (gate[c] + params->input2_offset);
      int32_t value =
          piconas_multiply_by_quantized_multiplier(product, params->multiplier, params->shift) +
          params->output_offset;
      value = value < params->activation.min ? params->activation.min : value;
      value = value > params->activation.max ? params->activation.max : value;
      y[c] = (int8_t)value;
    }
  }
  return PICONAS_S8_OK;
}
