/*
 * logistic_s8.h: int8 sigmoid (logistic), y = 1 / (1 + exp(-x)), bit exact with TFLite-Micro's
 * int8 LOGISTIC (its reference_integer_ops::Logistic: gemmlowp's fixed-point logistic on a Q4.27
 * input; CMSIS-NN has no int8 logistic, so that is what TFLite-Micro runs on every Cortex-M).
 * docs/int8.md, logistic.
 *
 * The output is always quantized with s = 1/256, z = -128 (TFLite requires it). Per input byte q:
 *   x      = q - z_in
 *   radius = floor(15 * 2^27 / 2^input_left_shift)     (inputs beyond it saturate)
 *   x <= -radius: y = -128;  x >= radius: y = 127;  else
 *   a      = MBQM(x, input_multiplier, input_left_shift)    x in Q4.27
 *   r      = logistic(a)                                    Q0.31, gemmlowp's algorithm:
 *            exp(-|a|) by a Taylor polynomial around -1/8 on |a| mod 1/4 and the constants
 *            exp(-2^k) for the higher bits, then 1 / (1 + e) by three Newton-Raphson steps;
 *            a < 0: (2^31 - 1) - r; a == 0: 2^30
 *   y      = clamp(RDBPOT(r, 23) - 128, -128, 127)
 * Host side (TFLite-Micro's Prepare): frexp(s_in * 2^27) = (f, e); input_multiplier =
 * round(f * 2^31), input_left_shift = e. For a float s_in the product f * 2^31 is an integer
 * below 2^31 (the float's 24-bit mantissa shifted), so the multiplier is exact.
 *
 * The output depends on the input byte only: piconas_logistic_s8_table computes the 256 outputs
 * once (at export time), piconas_logistic_s8 looks each element up (what the emitted firmware
 * runs: one load per element, the table 256 bytes of flash). input_left_shift must be in
 * [0, 31] (0.5 <= s_in * 2^27 < 2^31, i.e. 2^-28 <= s_in < 16), input_multiplier in
 * [2^30, 2^31 - 1]. The output may alias the input. Needs no scratch.
 */
#ifndef PICONAS_INT8_LOGISTIC_S8_H
#define PICONAS_INT8_LOGISTIC_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t input_zero_point; /* z_in (TFLite passes the zero point, not its negation) */
  int32_t input_multiplier; /* Q31, in [2^30, 2^31 - 1] */
  int32_t input_left_shift; /* in [0, 31] */
} piconas_logistic_params;

/* PICONAS_S8_OK, or PICONAS_S8_ERR_ARGUMENT for parameters out of the ranges above. */
int piconas_logistic_s8_check(const piconas_logistic_params *params);

/* table[q + 128] = the int8 logistic of input byte q, q in [-128, 127]. */
int piconas_logistic_s8_table(const piconas_logistic_params *params, int8_t *table);

/* output[i] = table[input[i] + 128] for a table of piconas_logistic_s8_table. */
int piconas_logistic_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_LOGISTIC_S8_H */
