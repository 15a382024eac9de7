/*
 * quantize_multiplier.h: HOST / EXPORT-TIME ONLY. Splits a real multiplier M into the
 * fixed-point (multiplier, shift) pair the int8 kernels consume (docs/int8.md, TFLite's
 * QuantizeMultiplier), in double precision:
 *   q = frexp(M, &e), q in [0.5, 1); m0 = round(q * 2^31) (half away from zero);
 *   if m0 == 2^31 then m0 = 2^30, e += 1;  if e < -31 then m0 = 0, e = 0;  shift = e.
 * M = 0 gives (0, 0). M is s_in * s_w / s_out computed in double: using float moves m0.
 * Returns PICONAS_S8_OK, or PICONAS_S8_ERR_ARGUMENT for a negative, non-finite or too large
 * M (shift > 31, which the kernels refuse). Never compiled into MCU firmware: it uses double
 * and libm (frexp, round), which inference code must not.
 */
#ifndef PICONAS_INT8_QUANTIZE_MULTIPLIER_H
#define PICONAS_INT8_QUANTIZE_MULTIPLIER_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_quantize_multiplier(double real_multiplier, int32_t *multiplier, int32_t *shift);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_QUANTIZE_MULTIPLIER_H */
