/* HOST / EXPORT-TIME ONLY (uses double and libm): see quantize_multiplier.h. */
#include "quantize_multiplier.h"

#include <math.h>
#include <stddef.h>

int piconas_quantize_multiplier(double real_multiplier, int32_t *multiplier, int32_t *shift) {
  double q;
  int e = 0;
  int64_t q_fixed;
  if (multiplier == NULL || shift == NULL || !(real_multiplier >= 0.0) ||
      !isfinite(real_multiplier)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (real_multiplier == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return PICONAS_S8_OK;
  }
  q = frexp(real_multiplier, &e);
  q_fixed = (int64_t)round(q * 2147483648.0);
  if (q_fixed == ((int64_t)1 << 31)) {
    q_fixed /= 2;
    ++e;
  }
  if (e < -31) {
    q_fixed = 0;
    e = 0;
  }
  if (e > 31) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  *multiplier = (int32_t)q_fixed;
  *shift = (int32_t)e;
  return PICONAS_S8_OK;
}
