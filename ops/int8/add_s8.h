/*
 * add_s8.h: int8 elementwise residual add of two tensors with different scales (docs/int8.md).
 *
 *   a = MBQM((q1 + input1_offset) << left_shift, input1_multiplier, input1_shift)
 *   b = MBQM((q2 + input2_offset) << left_shift, input2_multiplier, input2_shift)
 *   y = clamp(MBQM(a + b, output_multiplier, output_shift) + output_offset, act.min, act.max)
 *
 * Host side: left_shift = 20, T = 2*max(s1, s2), M1 = s1/T, M2 = s2/T, Mo = T/(2^20 * s_out),
 * each through piconas_quantize_multiplier. The inputs and the output have `size` elements
 * (same shape, no broadcasting); output may alias an input. Needs no scratch.
 * piconas_add_s8 picks piconas_add_simd_s8 when piconas_add_simd_applies (no INT32_MIN
 * multiplier, no shift below -29, every requantized value below 2^29 after its left shift: true of
 * the host-side parameters above) or piconas_add_generic_s8 (the portable reference); tests may
 * call each.
 */
#ifndef PICONAS_INT8_ADD_S8_H
#define PICONAS_INT8_ADD_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_add_s8(const piconas_add_params *params, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size);
int piconas_add_simd_applies(const piconas_add_params *params);

/* The status piconas_add_s8 returns for these arguments with non-NULL tensors: the check the
 * exporter runs once per layer before it emits piconas_add_simd_prechecked_s8. */
int piconas_add_s8_check(const piconas_add_params *params, int32_t size);

/* piconas_add_simd_s8 for arguments checked at export (piconas_add_s8_check OK,
 * piconas_add_simd_applies 1): guards only the pointers and size >= 0, so that the firmware
 * links no argument checks. Output byte for byte that of the checked variant. */
int piconas_add_simd_prechecked_s8(const piconas_add_params *params, const int8_t *input1,
                                   const int8_t *input2, int8_t *output, int32_t size);
int piconas_add_simd_s8(const piconas_add_params *params, const int8_t *input1,
                        const int8_t *input2, int8_t *output, int32_t size);
int piconas_add_generic_s8(const piconas_add_params *params, const int8_t *input1,
                           const int8_t *input2, int8_t *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_ADD_S8_H */
