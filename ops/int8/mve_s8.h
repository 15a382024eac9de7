/*
 * mve_s8.h: the Cortex-M55 MVE (Helium) kernels and their vector requantization
 * (internal, not a public API). Compiled only with __ARM_FEATURE_MVE (integer
 * MVE, -mcpu=cortex-m55); the
 * *_simd_s8 entry points of conv2d_simd_s8.c dispatch here after their own argument
 * checks, so the callers (the wrappers, the emitted model.c) are the same on
 * every core.
 *
 * Vector requantization, 4 channels per int32x4, exact under the same
 * precondition as the scalar piconas_s8_requantize of simd_s8.h
 * (piconas_s8_simd_quant_ok: |acc| * 2^left < 2^30, multiplier != INT32_MIN):
 *   x = acc << left                    VSHL (no wrap by the precondition)
 *   h = SRDHM(x, m)                    VQRDMULH: (2*x*m + 2^31) >> 32 = (x*m +
 * 2^30) >> 31, which equals SRDHM's nudge-and-truncate for both signs RDBPOT(h,
 * right), half away from 0: VRSHL by -right rounds half up, so negative h is
 * first lowered by 1 (h & -right has the sign bit set exactly when h < 0 and
 * right > 0; |h| < 2^30, no overflow). MVE code cannot run on the host:
 * tests/int8/mcu (ctest int8_mcu_cortex-m55) checks it under QEMU against the
 * portable reference kernels.
 */
#ifndef PICONAS_INT8_MVE_S8_H
#define PICONAS_INT8_MVE_S8_H

#include <stdint.h>

#include "int8_types.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define PICONAS_S8_MVE 1
#include <arm_mve.h>
#else
#define PICONAS_S8_MVE 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if PICONAS_S8_MVE

/* Per-channel constants of 4 channels: multiplier, left shift, -right shift. */
typedef struct {
  int32x4_t multiplier;
  int32x4_t left;
  int32x4_t neg_right;
} piconas_mve_requant;

static inline piconas_mve_requant piconas_mve_requant_of(const int32_t *multiplier,
                                                         const int32_t *shift, mve_pred16_t p) {
  piconas_mve_requant r;
  const int32x4_t s = vldrwq_z_s32(shift, p);
  r.multiplier = vldrwq_z_s32(multiplier, p);
  r.left = vmaxq_s32(s, vdupq_n_s32(0));
  r.neg_right = vminq_s32(s, vdupq_n_s32(0));
  return r;
}

static inline int32x4_t piconas_mve_requantize(int32x4_t acc, piconas_mve_requant r) {
  const int32x4_t h = vqrdmulhq_s32(vshlq_s32(acc, r.left), r.multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(h, r.neg_right), 31);
  return vrshlq_s32(vaddq_s32(h, fixup), r.neg_right);
}

/* clamp(y + offset, act): y + offset cannot overflow (|y| < 2^30). */
static inline int32x4_t piconas_mve_output(int32x4_t y, int32_t offset, piconas_activation act) {
  y = vaddq_n_s32(y, offset);
  y = vmaxq_s32(y, vdupq_n_s32(act.min));
  return vminq_s32(y, vdupq_n_s32(act.max));
}

/* 1x1 convolution (conv2d_s8.h): the caller has checked the layer (1x1 shape,
 * no padding, piconas_conv2d_simd_applies). Reads the int8 activations
 * directly, no scratch. */
void piconas_conv2d_1x1_mve_s8(const piconas_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output);

/* A convolution whose window fits one to three 16-lane gathers
 * (piconas_conv2d_mve_window_fits, conv2d_s8.h), same preconditions; returns 0 having written
 * nothing when it does not fit, else 1. */
int piconas_conv2d_window_mve_s8(const piconas_conv_params *params,
                                 const piconas_per_channel_quant_params *quant,
                                 const piconas_dims *input_dims, const int8_t *input,
                                 const piconas_dims *filter_dims, const int8_t *filter,
                                 const int32_t *bias, const piconas_dims *output_dims,
                                 int8_t *output);

/* Any convolution (conv2d_s8.h), same preconditions; col: scratch of KH*KW*C_in bytes. */
void piconas_conv2d_im2col_mve_s8(const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output, int8_t *col);

/* Depthwise convolution (depthwise_conv2d_s8.h), M = 1: the caller has checked the layer
 * (piconas_depthwise_conv2d_simd_applies). Window gathers over a zero-point padded plane of one
 * channel, in bands of output rows that fit 320 bytes of stack (depthwise_conv2d_window_mve_s8.c);
 * a layer whose window or rows do not fit (more than 48 output columns, a band narrower than the
 * window, tap offsets over 255 bytes, KW over 16, over 4 gathers: not
 * piconas_depthwise_conv2d_mve_fits) returns 0 without writing, else 1. */
int piconas_depthwise_conv2d_mve_s8(const piconas_dw_conv_params *params,
                                    const piconas_per_channel_quant_params *quant,
                                    const piconas_dims *input_dims, const int8_t *input,
                                    const piconas_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const piconas_dims *output_dims,
                                    int8_t *output);

/* Depthwise 3x3 convolution, M = 1, on a layer piconas_depthwise_conv2d_simd_plane_fits takes
 * (small images): 4 channels per vector over a zero-point padded plane of the group's input
 * (depthwise_conv2d_plane_mve_s8.c). The caller has checked the layer; returns 0 without writing
 * when the plane does not fit, else 1. */
int piconas_depthwise_conv2d_plane_mve_s8(const piconas_dw_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const piconas_dims *input_dims, const int8_t *input,
                                          const piconas_dims *filter_dims, const int8_t *filter,
                                          const int32_t *bias, const piconas_dims *output_dims,
                                          int8_t *output);

/* In-place depthwise (depthwise_conv2d_inplace_s8.h), see depthwise_conv2d_window_mve_s8.c:
 * the caller has checked the layer (piconas_depthwise_conv2d_inplace_simd_applies) and the
 * scratch (ctx->size >= H*W: each channel is copied there, its padded bands from there to the
 * stack). Returns 0, having written nothing, when the layer does not fit as above; the caller
 * then runs the portable variant. */
int piconas_depthwise_conv2d_inplace_mve_s8(const piconas_s8_context *ctx,
                                            const piconas_dw_conv_params *params,
                                            const piconas_per_channel_quant_params *quant,
                                            const piconas_dims *input_dims,
                                            const piconas_dims *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const piconas_dims *output_dims,
                                            int8_t *data);

/* Residual add (add_s8.h): the caller has checked the layer
 * (piconas_add_simd_applies). */
void piconas_add_mve_s8(const piconas_add_params *params, const int8_t *input1,
                        const int8_t *input2, int8_t *output, int32_t size);

#endif /* PICONAS_S8_MVE */

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_MVE_S8_H */
