/* Linkable copies of the inline requantization helpers (see requantize.h). */
#include "requantize.h"

int32_t piconas_srdhm(int32_t a, int32_t b) {
  return piconas_saturating_rounding_doubling_high_mul(a, b);
}

int32_t piconas_rdbpot(int32_t x, int32_t n) { return piconas_rounding_divide_by_pot(x, n); }

int32_t piconas_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  return piconas_multiply_by_quantized_multiplier(x, multiplier, shift);
}
