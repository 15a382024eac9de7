/* int8 residual add (see add_s8.h). */
#include "add_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "mve_s8.h"
#include "requant32_s8.h"
#include "requantize.h"
#include "simd_s8.h"

static int add_check(const piconas_add_params *params, const int8_t *input1, const int8_t *input2,
                     const int8_t *output, int32_t size) {
  return params == NULL || input1 == NULL || input2 == NULL || output == NULL || size < 0 ||
                 !piconas_s8_offsets_ok(params->input1_offset, params->output_offset) ||
                 !piconas_s8_offsets_ok(params->input2_offset, params->output_offset) ||
                 params->left_shift < 0 || params->left_shift > 23 ||
                 !piconas_s8_shift_ok(params->input1_shift) ||
                 !piconas_s8_shift_ok(params->input2_shift) ||
                 !piconas_s8_shift_ok(params->output_shift) ||
                 !piconas_s8_activation_ok(params->activation)
             ? PICONAS_S8_ERR_ARGUMENT
             : PICONAS_S8_OK;
}

int piconas_add_s8_check(const piconas_add_params *params, int32_t size) {
  static const int8_t tensor = 0; /* stands for the tensors: only their pointers are checked */
  return add_check(params, &tensor, &tensor, &tensor, size);
}

int piconas_add_s8(const piconas_add_params *params, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size) {
#if PICONAS_S8_SIMD_PREFERRED
  if (add_check(params, input1, input2, output, size) == PICONAS_S8_OK &&
      piconas_add_simd_applies(params)) {
    return piconas_add_simd_s8(params, input1, input2, output, size);
  }
#endif
  return piconas_add_generic_s8(params, input1, input2, output, size);
}

/* requant32_s8.h's requantization applies to all three steps: the inputs are bounded by
 * |q + offset| << left_shift <= 255 << left_shift, and a requantized value never exceeds its
 * shifted input in magnitude (|SRDHM(x, m)| <= |x| for 0 <= m < 2^31, RDBPOT only shrinks). */
static int add_rq32_ok(const piconas_add_params *p) {
  const int64_t in = (int64_t)255 << p->left_shift;
  const int64_t a = in << (p->input1_shift > 0 ? p->input1_shift : 0);
  const int64_t b = in << (p->input2_shift > 0 ? p->input2_shift : 0);
  return piconas_s8_rq32_channel_ok(p->input1_multiplier, p->input1_shift, in) &&
         piconas_s8_rq32_channel_ok(p->input2_multiplier, p->input2_shift, in) &&
         piconas_s8_rq32_channel_ok(p->output_multiplier, p->output_shift, a + b);
}

int piconas_add_generic_s8(const piconas_add_params *params, const int8_t *input1,
                           const int8_t *input2, int8_t *output, int32_t size) {
  int32_t i;
  if (add_check(params, input1, input2, output, size) != PICONAS_S8_OK) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (add_rq32_ok(params)) {
    /* The same arithmetic with 32-bit multiplies only; offsets pre-shifted: (q + offset) << ls =
     * (q << ls) + (offset << ls), both inside int32 (|q + offset| <= 255, ls <= 23). */
    const int32_t ls = params->left_shift;
    const int32_t off1 = params->input1_offset * ((int32_t)1 << ls);
    const int32_t off2 = params->input2_offset * ((int32_t)1 << ls);
    const piconas_s8_rq32 r1 = piconas_s8_rq32_of(params->input1_multiplier, params->input1_shift);
    const piconas_s8_rq32 r2 = piconas_s8_rq32_of(params->input2_multiplier, params->input2_shift);
    const piconas_s8_rq32 ro = piconas_s8_rq32_of(params->output_multiplier, params->output_shift);
    const piconas_s8_clamp_stage out =
        piconas_s8_clamp_stage_of(params->output_offset, params->activation);
    for (i = 0; i < size; ++i) {
      const int32_t a = piconas_s8_rq32_apply((int32_t)input1[i] * ((int32_t)1 << ls) + off1, &r1);
      const int32_t b = piconas_s8_rq32_apply((int32_t)input2[i] * ((int32_t)1 << ls) + off2, &r2);
      output[i] = piconas_s8_clamp_store(piconas_s8_rq32_apply(a + b, &ro), &out);
    }
    return PICONAS_S8_OK;
  }
  for (i = 0; i < size; ++i) {
    /* |q + offset| <= 255, so the left shift by at most 23 stays inside int32. */
    const int32_t x1 =
        ((int32_t)input1[i] + params->input1_offset) * ((int32_t)1 << params->left_shift);
    const int32_t x2 =
        ((int32_t)input2[i] + params->input2_offset) * ((int32_t)1 << params->left_shift);
    const int32_t a = piconas_mbqm(x1, params->input1_multiplier, params->input1_shift);
    const int32_t b = piconas_mbqm(x2, params->input2_multiplier, params->input2_shift);
    /* The sum is formed modulo 2^32 like the reference; with the host-side multipliers
     * (M1, M2 <= 1/2) it never wraps. */
    const int32_t sum = (int32_t)((uint32_t)a + (uint32_t)b);
    const int32_t y = piconas_mbqm(sum, params->output_multiplier, params->output_shift);
    output[i] = piconas_s8_output(y, params->output_offset, params->activation);
  }
  return PICONAS_S8_OK;
}

#if PICONAS_S8_SIMD_AVAILABLE

/* Same arithmetic with the SIMD kernels' requantization (simd_s8.h; exact under
 * piconas_add_simd_applies), the output clamp folded into one range and the offsets pre-shifted: (q
 * + offset) << left_shift = (q << left_shift) + (offset << left_shift), both inside int32 (|q +
 * offset| <= 255, left_shift <= 23). */
/* The SIMD variant on checked arguments. */
static int add_simd_run(const piconas_add_params *params, const int8_t *input1,
                        const int8_t *input2, int8_t *output, int32_t size) {
  int32_t i;
#if PICONAS_S8_MVE
  piconas_add_mve_s8(params, input1, input2, output, size);
  return PICONAS_S8_OK;
#endif
  {
    const int32_t ls = params->left_shift;
    const int32_t off1 = params->input1_offset * ((int32_t)1 << ls);
    const int32_t off2 = params->input2_offset * ((int32_t)1 << ls);
    const piconas_s8_requant r1 =
        piconas_s8_requant_of(params->input1_multiplier, params->input1_shift);
    const piconas_s8_requant r2 =
        piconas_s8_requant_of(params->input2_multiplier, params->input2_shift);
    const piconas_s8_requant ro =
        piconas_s8_requant_of(params->output_multiplier, params->output_shift);
    const piconas_s8_out_stage out =
        piconas_s8_out_stage_of(params->output_offset, params->activation);
    for (i = 0; i < size; ++i) {
      const int32_t x1 = (int32_t)input1[i] * ((int32_t)1 << ls) + off1;
      const int32_t x2 = (int32_t)input2[i] * ((int32_t)1 << ls) + off2;
      const int32_t sum = piconas_s8_requantize(x1, r1) + piconas_s8_requantize(x2, r2);
      output[i] = piconas_s8_store(piconas_s8_requantize(sum, ro), out);
    }
  }
  return PICONAS_S8_OK;
}

int piconas_add_simd_s8(const piconas_add_params *params, const int8_t *input1,
                        const int8_t *input2, int8_t *output, int32_t size) {
  if (add_check(params, input1, input2, output, size) != PICONAS_S8_OK ||
      !piconas_add_simd_applies(params)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return add_simd_run(params, input1, input2, output, size);
}

int piconas_add_simd_prechecked_s8(const piconas_add_params *params, const int8_t *input1,
                                   const int8_t *input2, int8_t *output, int32_t size) {
  if (params == NULL || input1 == NULL || input2 == NULL || output == NULL || size < 0) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return add_simd_run(params, input1, input2, output, size);
}

/* The SIMD variant's requantization is exact when every value it requantizes stays below
 * PICONAS_S8_SIMD_ACC_LIMIT after its left shift and no shift is below
 * PICONAS_S8_SIMD_MIN_SHIFT (simd_s8.h): |q + offset| <= 255. */
static int64_t add_bound(int32_t left_shift, int32_t shift) {
  const int32_t left = left_shift + (shift > 0 ? shift : 0);
  return left > 29 ? ((int64_t)1 << 40) : (int64_t)255 << left;
}

int piconas_add_simd_applies(const piconas_add_params *p) {
  const int64_t limit = PICONAS_S8_SIMD_ACC_LIMIT;
  const int32_t out_left = p != NULL && p->output_shift > 0 ? p->output_shift : 0;
  int64_t a, b;
  if (p == NULL || p->input1_multiplier == INT32_MIN || p->input2_multiplier == INT32_MIN ||
      p->output_multiplier == INT32_MIN || p->left_shift < 0 || p->left_shift > 23 ||
      out_left > 29 || p->input1_shift < PICONAS_S8_SIMD_MIN_SHIFT ||
      p->input2_shift < PICONAS_S8_SIMD_MIN_SHIFT || p->output_shift < PICONAS_S8_SIMD_MIN_SHIFT) {
    return 0;
  }
  a = add_bound(p->left_shift, p->input1_shift);
  b = add_bound(p->left_shift, p->input2_shift);
  /* Compared without shifting the sum left (no int64 overflow for any shift). */
  return a < limit && b < limit && a + b < (limit >> out_left);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
