/*
 * requantize.h: the fixed-point requantization of TFLite-Micro/CMSIS-NN (docs/int8.md), bit exact.
 *
 *   SRDHM(a, b)  saturating rounding doubling high multiply: (a*b + nudge) / 2^31 with a 64-bit
 *                product, C truncating division, nudge = 2^30 if a*b >= 0 else 1 - 2^30;
 *                a = b = INT32_MIN saturates to INT32_MAX.
 *   RDBPOT(x, n) rounding divide by 2^n, n in [0, 31], round half away from zero.
 *   MBQM(x, m, s) multiply by quantized multiplier (m, s):
 *                RDBPOT(SRDHM(x * 2^max(s, 0), m), max(-s, 0)), s in [-31, 31].
 *
 * x * 2^s for s > 0 is computed modulo 2^32 (what the reference kernels do on every
 * two's-complement target); the exporter keeps shifts small enough that it never wraps.
 * The functions are static inline for speed; requantize.c holds linkable copies
 * (piconas_srdhm, piconas_rdbpot, piconas_mbqm) with identical results.
 * Preconditions (not checked here; the kernels check shifts once per call): n and s in range.
 */
#ifndef PICONAS_INT8_REQUANTIZE_H
#define PICONAS_INT8_REQUANTIZE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t piconas_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == INT32_MIN && b == INT32_MIN) {
    return INT32_MAX;
  }
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static inline int32_t piconas_rounding_divide_by_pot(int32_t x, int32_t n) {
  const int32_t mask = (int32_t)(((int64_t)1 << n) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  /* Floor of x / 2^n without relying on the implementation-defined >> of negative values. */
  const int32_t floor_div = x >= 0 ? (x >> n) : ~((~x) >> n);
  return floor_div + (remainder > threshold ? 1 : 0);
}

static inline int32_t piconas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                                               int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  return piconas_rounding_divide_by_pot(
      piconas_saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

/* Linkable, non-inline copies (requantize.c). */
int32_t piconas_srdhm(int32_t a, int32_t b);
int32_t piconas_rdbpot(int32_t x, int32_t n);
int32_t piconas_mbqm(int32_t x, int32_t multiplier, int32_t shift);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_REQUANTIZE_H */
