/* int8 logistic: TFLite-Micro's fixed-point algorithm into a 256-entry table (see logistic_s8.h).
 * Fixed-point formats are named Qi.f (i integer bits, f fractional bits, int32 raw values);
 * SRDHM of a Qi.f and a Qj.g value is their product in Q(i+j).(31-i-j). */
#include "logistic_s8.h"

#include <stddef.h>

#include "requantize.h"

#define LG_SRDHM piconas_saturating_rounding_doubling_high_mul
#define LG_RDBPOT piconas_rounding_divide_by_pot

/* x * 2^e (e in [1, 2]) saturated to int32 where |x| exceeds 2^(31 - e) - 1 (gemmlowp's
 * SaturatingRoundingMultiplyByPOT with a positive exponent). */
static int32_t lg_saturating_shift_left(int32_t x, int e) {
  const int32_t limit = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
  if (x > limit) return INT32_MAX;
  if (x < -limit) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: the Taylor polynomial of degree 4 around -1/8. */
static int32_t lg_exp_on_quarter(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28); /* a + 1/8 */
  const int32_t x2 = LG_SRDHM(x, x);
  const int32_t x3 = LG_SRDHM(x2, x);
  const int32_t x4 = LG_SRDHM(x2, x2);
  /* x^4 / 24 + x^3 / 6 + x^2 / 2 = ((x^4 / 4 + x^3) / 3 + x^2) / 2 */
  const int32_t higher = LG_RDBPOT(LG_SRDHM(LG_RDBPOT(x4, 2) + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + LG_SRDHM(exp_minus_one_eighth, x + higher);
}

/* exp(a) for a < 0 in Q4.27 (|a| < 16), Q0.31 out: exp of a mod 1/4 (in [-1/4, 0)) times
 * exp(-2^k) for each bit k of the rest (k = -2 .. 3). */
static int32_t lg_exp_on_negative(int32_t a) {
  static const int32_t exp_minus_pot[6] = {1672461947, 1302514674, 790015084,
                                           290630308,  39332535,   720401};
  const int32_t quarter = 1 << 25;
  const int32_t in_quarter = (a & (quarter - 1)) - quarter;
  const int32_t rest = in_quarter - a;                 /* a multiple of 1/4 in [0, 16) */
  int32_t result = lg_exp_on_quarter(in_quarter * 16); /* Q4.27 -> Q0.31, exact */
  int k;
  for (k = 0; k < 6; ++k)
    if (rest & ((int32_t)1 << (25 + k))) result = LG_SRDHM(result, exp_minus_pot[k]);
  return result;
}

/* 1 / (1 + e) for e in (0, 1], Q0.31 in and out: Newton-Raphson on d = (1 + e) / 2 from the
 * start 48/17 - 32/17 d, in Q2.29, three steps. */
static int32_t lg_one_over_one_plus(int32_t e) {
  const int64_t sum = (int64_t)e + INT32_MAX; /* (1 + e), rounded to the nearest half */
  const int32_t d = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + LG_SRDHM(d, -1010580540);
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus_dx = (1 << 29) - LG_SRDHM(d, x);
    x += lg_saturating_shift_left(LG_SRDHM(x, one_minus_dx), 2); /* Q4.27 -> Q2.29 */
  }
  return lg_saturating_shift_left(x, 1); /* x / 2 in Q1.30 -> Q0.31 */
}

/* logistic(a) for a in Q4.27, Q0.31 out; 1 is 2^31 - 1. */
static int32_t lg_logistic(int32_t a) {
  int32_t positive;
  if (a == 0) return 1 << 30;
  positive = lg_one_over_one_plus(lg_exp_on_negative(a > 0 ? -a : a));
  return a > 0 ? positive : INT32_MAX - positive;
}

int piconas_logistic_s8_check(const piconas_logistic_params *params) {
  return params == NULL || params->input_zero_point < -128 || params->input_zero_point > 127 ||
                 params->input_multiplier < (1 << 30) || params->input_left_shift < 0 ||
                 params->input_left_shift > 31
             ? PICONAS_S8_ERR_ARGUMENT
             : PICONAS_S8_OK;
}

int piconas_logistic_s8_table(const piconas_logistic_params *params, int8_t *table) {
  int32_t q, shift, radius;
  if (table == NULL || piconas_logistic_s8_check(params) != PICONAS_S8_OK)
    return PICONAS_S8_ERR_ARGUMENT;
  shift = params->input_left_shift;
  /* floor(15 * 2^27 / 2^shift): the inputs whose Q4.27 value would reach +-16 saturate. */
  radius = shift <= 27 ? 15 << (27 - shift) : 15 >> (shift - 27);
  for (q = -128; q <= 127; ++q) {
    const int32_t x = q - params->input_zero_point;
    int32_t y;
    if (x <= -radius) {
      y = -128;
    } else if (x >= radius) {
      y = 127;
    } else {
      /* |x| 2^shift < 15 * 2^27: the shift in MBQM cannot wrap. */
      const int32_t a =
          piconas_multiply_by_quantized_multiplier(x, params->input_multiplier, shift);
      y = LG_RDBPOT(lg_logistic(a), 23) - 128; /* Q0.31 -> steps of 1/256, zero point -128 */
      y = y > 127 ? 127 : (y < -128 ? -128 : y);
    }
    table[q + 128] = (int8_t)y;
  }
  return PICONAS_S8_OK;
}

int piconas_logistic_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size) {
  int32_t i;
  if (table == NULL || input == NULL || output == NULL || size < 0) return PICONAS_S8_ERR_ARGUMENT;
  for (i = 0; i < size; ++i) output[i] = table[input[i] + 128];
  return PICONAS_S8_OK;
}
