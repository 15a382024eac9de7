/* int8 elementwise and pixel-broadcast multiply (see mul_s8.h). */
#include "mul_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requant32_s8.h"
#include "requantize.h"

/* |(q1 + offset1) * (q2 + offset2)| with both offsets in [-127, 128]. */
#define PICONAS_MUL_MAX_PRODUCT (255 * 255)

int piconas_mul_s8_check(const piconas_mul_params *params, int32_t size) {
  return params == NULL || size < 0 ||
                 !piconas_s8_offsets_ok(params->input1_offset, params->output_offset) ||
                 !piconas_s8_offsets_ok(params->input2_offset, params->output_offset) ||
                 params->multiplier < 0 || params->shift < -31 || params->shift > 15 ||
                 !piconas_s8_activation_ok(params->activation)
             ? PICONAS_S8_ERR_ARGUMENT
             : PICONAS_S8_OK;
}

/* The requantization of one call: the 32-bit form where it is exact for every product. */
typedef struct {
  int fast;
  piconas_s8_rq32 rq;
  piconas_s8_clamp_stage out;
} mul_stage;

static mul_stage mul_stage_of(const piconas_mul_params *p) {
  mul_stage s;
  s.fast = piconas_s8_rq32_channel_ok(p->multiplier, p->shift, PICONAS_MUL_MAX_PRODUCT);
  s.rq = piconas_s8_rq32_of(p->multiplier, p->shift);
  s.out = piconas_s8_clamp_stage_of(p->output_offset, p->activation);
  return s;
}

static int8_t mul_one(const piconas_mul_params *p, const mul_stage *s, int32_t q1, int32_t q2) {
  const int32_t product = (q1 + p->input1_offset) * (q2 + p->input2_offset);
  return piconas_s8_clamp_store(
      piconas_s8_rq32_or_mbqm(product, s->fast, &s->rq, p->multiplier, p->shift), &s->out);
}

int piconas_mul_s8(const piconas_mul_params *params, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size) {
  mul_stage s;
  int32_t i;
  if (input1 == NULL || input2 == NULL || output == NULL ||
      piconas_mul_s8_check(params, size) != PICONAS_S8_OK) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  s = mul_stage_of(params);
  for (i = 0; i < size; ++i) output[i] = mul_one(params, &s, input1[i], input2[i]);
  return PICONAS_S8_OK;
}

int piconas_pixel_mul_s8(const piconas_mul_params *params, const int8_t *input, const int8_t *gate,
                         int8_t *output, int32_t pixels, int32_t channels) {
  mul_stage s;
  int32_t p, c;
  if (input == NULL || gate == NULL || output == NULL || pixels < 0 || channels < 0 ||
      piconas_mul_s8_check(params, 0) != PICONAS_S8_OK) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  s = mul_stage_of(params);
  for (p = 0; p < pixels; ++p) {
    const int8_t *x = input + (int64_t)p * channels;
    int8_t *y = output + (int64_t)p * channels;
    const int32_t g = gate[p];
    for (c = 0; c < channels; ++c) y[c] = mul_one(params, &s, x[c], g);
  }
  return PICONAS_S8_OK;
}
