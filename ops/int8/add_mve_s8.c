/* int8 residual add with MVE (Cortex-M55), see mve_s8.h and add_s8.h. */
#include "mve_s8.h"

#if PICONAS_S8_MVE

/* One input's term: MBQM((q + offset) << left_shift, m, s), its two left shifts
 * merged into one VSHL (no wrap: piconas_add_simd_applies bounds (q + offset)
 * << (left_shift + max(s, 0))). */
static inline int32x4_t add_mve_term(int32x4_t q, int32_t offset, piconas_mve_requant r) {
  return piconas_mve_requantize(vaddq_n_s32(q, offset), r);
}

static piconas_mve_requant add_mve_requant(int32_t multiplier, int32_t shift, int32_t left_shift) {
  piconas_mve_requant r;
  r.multiplier = vdupq_n_s32(multiplier);
  r.left = vdupq_n_s32(left_shift + (shift > 0 ? shift : 0));
  r.neg_right = vdupq_n_s32(shift < 0 ? shift : 0);
  return r;
}

void piconas_add_mve_s8(const piconas_add_params *params, const int8_t *input1,
                        const int8_t *input2, int8_t *output, int32_t size) {
  const piconas_mve_requant r1 =
      add_mve_requant(params->input1_multiplier, params->input1_shift, params->left_shift);
  const piconas_mve_requant r2 =
      add_mve_requant(params->input2_multiplier, params->input2_shift, params->left_shift);
  const piconas_mve_requant ro =
      add_mve_requant(params->output_multiplier, params->output_shift, 0);
  const int32_t off1 = params->input1_offset, off2 = params->input2_offset;
  int32_t i;
  for (i = 0; i + 4 <= size; i += 4) {
    const int32x4_t sum = vaddq_s32(add_mve_term(vldrbq_s32(input1 + i), off1, r1),
                                    add_mve_term(vldrbq_s32(input2 + i), off2, r2));
    vstrbq_s32(output + i, piconas_mve_output(piconas_mve_requantize(sum, ro),
                                              params->output_offset, params->activation));
  }
  if (i < size) {
    const mve_pred16_t p = vctp32q((uint32_t)(size - i));
    const int32x4_t sum = vaddq_s32(add_mve_term(vldrbq_z_s32(input1 + i, p), off1, r1),
                                    add_mve_term(vldrbq_z_s32(input2 + i, p), off2, r2));
    vstrbq_p_s32(output + i,
                 piconas_mve_output(piconas_mve_requantize(sum, ro), params->output_offset,
                                    params->activation),
                 p);
  }
}

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_add_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
