#include "hardswish_s8.h"

#include "requantize.h"

/* 16-bit fixed-point helpers of TFLite's HardSwish (gemmlowp's int16 forms). */
static int16_t hs_saturate16(int32_t v) {
  return (int16_t)(v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v));
}

static int16_t hs_srdhm16(int16_t a, int16_t b) {
  const int32_t ab = (int32_t)a * (int32_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return (int16_t)((ab + nudge) / (1 << 15));
}

static int16_t hs_sdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

int piconas_hardswish_s8_check(const piconas_hardswish_params *params, int32_t size) {
  if (params == 0 || size < 0) return PICONAS_S8_ERR_ARGUMENT;
  if (params->input_offset < -127 || params->input_offset > 128) return PICONAS_S8_ERR_ARGUMENT;
  if (params->output_offset < -128 || params->output_offset > 127) return PICONAS_S8_ERR_ARGUMENT;
  if (params->reluish_multiplier < 0 || params->reluish_multiplier > INT16_MAX ||
      params->output_multiplier < 0 || params->output_multiplier > INT16_MAX)
    return PICONAS_S8_ERR_ARGUMENT;
  if (params->reluish_shift < -15 || params->reluish_shift > 15) return PICONAS_S8_ERR_ARGUMENT;
  if (params->output_shift < -15 || params->output_shift > 0) return PICONAS_S8_ERR_ARGUMENT;
  return PICONAS_S8_OK;
}

int piconas_hardswish_s8(const piconas_hardswish_params *params, const int8_t *input,
                         int8_t *output, int32_t size) {
  const int status = piconas_hardswish_s8_check(params, size);
  const int16_t out_mult = (int16_t)(params ? params->output_multiplier : 0);
  const int16_t relu_mult = (int16_t)(params ? params->reluish_multiplier : 0);
  int32_t i;
  if (status != PICONAS_S8_OK) return status;
  if (input == 0 || output == 0) return PICONAS_S8_ERR_ARGUMENT;
  for (i = 0; i < size; ++i) {
    /* |q - z_in| <= 255, so the hires value fits int16. */
    const int16_t hires = (int16_t)((input[i] + params->input_offset) * 128);
    const int16_t pre = hs_srdhm16(hires, out_mult);
    int16_t reluish = hires;
    int32_t value;
    if (params->reluish_shift > 0)
      reluish = hs_saturate16((int32_t)reluish * (1 << (params->reluish_shift - 1)));
    reluish = hs_srdhm16(reluish, relu_mult);
    if (params->reluish_shift > 0) reluish = hs_saturate16((int32_t)reluish * 2);
    if (params->reluish_shift < 0)
      reluish = (int16_t)piconas_rounding_divide_by_pot(reluish, -params->reluish_shift);
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
    value = piconas_rounding_divide_by_pot(hs_sdhm16(reluish, pre), -params->output_shift);
    value += params->output_offset;
    output[i] = (int8_t)(value > 127 ? 127 : (value < -128 ? -128 : value));
  }
  return PICONAS_S8_OK;
}
