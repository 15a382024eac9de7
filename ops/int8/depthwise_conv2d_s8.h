/*
 * depthwise_conv2d_s8.h: int8 depthwise 2-D convolution with channel multiplier M, NHWC,
 * filter [1, KH, KW, C_in * M] (TFLite convention), output channel oc = ic * M + m.
 *
 *   iy = oy*stride.h - padding.h + ky*dilation.h,  ix = ox*stride.w - padding.w + kx*dilation.w
 *   acc = bias[oc] + sum over in-image (ky, kx) of w[0,ky,kx,oc] * (x[n,iy,ix,ic] + input_offset)
 *   y[n,oy,ox,oc] = clamp(MBQM(acc, multiplier[oc], shift[oc]) + output_offset, act.min, act.max)
 *
 * filter_dims = {1, KH, KW, C_in * M}; output_dims.c = C_in * M; bias may be null (zero).
 * Needs no scratch. Refuses (PICONAS_S8_ERR_OVERFLOW) KH*KW > PICONAS_S8_MAX_MACS or a bias
 * large enough to overflow the int32 accumulator.
 * piconas_depthwise_conv2d_s8 is the wrapper that picks a variant; tests may call each directly:
 *   piconas_depthwise_conv2d_simd_s8     when piconas_depthwise_conv2d_simd_applies: M = 1,
 *                                        no multiplier INT32_MIN, small accumulators (see
 *                                        piconas_s8_simd_quant_ok in simd_s8.h); the DSP
 *                                        instructions (emulated in C where absent), 3x3
 *                                        specialised (small images: every pixel from a
 *                                        zero-point padded plane); on Cortex-M55 MVE;
 *   piconas_depthwise_conv2d_generic_s8  any shape: the portable variant (folded input offset,
 *                                        unrolled 3x3 interior, per-row taps elsewhere;
 *                                        Armv6-M assembly inner loops; requant32_s8.h).
 * A variant given a shape it cannot handle returns PICONAS_S8_ERR_ARGUMENT.
 */
#ifndef PICONAS_INT8_DEPTHWISE_CONV2D_S8_H
#define PICONAS_INT8_DEPTHWISE_CONV2D_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The status piconas_depthwise_conv2d_s8 returns for these arguments with non-NULL tensors: the
 * check the exporter runs once per layer before it emits a call of a _prechecked variant. */
int piconas_depthwise_conv2d_s8_check(const piconas_dw_conv_params *params,
                                      const piconas_per_channel_quant_params *quant,
                                      const piconas_dims *input_dims,
                                      const piconas_dims *filter_dims, const int32_t *bias,
                                      const piconas_dims *output_dims);

/* 1 when the Cortex-M55 MVE depthwise kernels (mve_s8.h; out of place and in place) take this
 * checked layer; else they fall back to the portable kernel. Compiled on every target. */
int piconas_depthwise_conv2d_mve_fits(const piconas_dw_conv_params *params,
                                      const piconas_dims *input_dims,
                                      const piconas_dims *filter_dims,
                                      const piconas_dims *output_dims);

/* Bytes of the zero-point padded plane (4 channels per word, on the stack) of the plane variant. */
#define PICONAS_DW_PLANE_BYTES 1024

/* 1 when piconas_depthwise_conv2d_simd_plane_prechecked_s8 takes this checked layer: 3x3, M = 1,
 * and the input positions its windows reach ((OH - 1) * stride.h + 2 * dilation.h + 1 rows by
 * the same in columns), 4 bytes each, fit PICONAS_DW_PLANE_BYTES. Compiled on every target. */
int piconas_depthwise_conv2d_simd_plane_fits(const piconas_dw_conv_params *params,
                                             const piconas_dims *filter_dims,
                                             const piconas_dims *output_dims);

int piconas_depthwise_conv2d_s8(const piconas_dw_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const piconas_dims *output_dims,
                                int8_t *output);

int piconas_depthwise_conv2d_simd_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output);

/* 1 when piconas_depthwise_conv2d_simd_s8 accepts this layer's parameters (shapes aside). */
int piconas_depthwise_conv2d_simd_applies(const piconas_dw_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const int32_t *bias, const piconas_dims *filter_dims);

int piconas_depthwise_conv2d_generic_s8(const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims, const int8_t *input,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *output);

/* piconas_depthwise_conv2d_simd_s8 for arguments checked at export
 * (piconas_depthwise_conv2d_s8_check OK, piconas_depthwise_conv2d_simd_applies 1 and
 * piconas_depthwise_conv2d_mve_fits 1): guards only the pointers, so that the firmware links no
 * argument checks and, on Cortex-M55, no portable fallback (a layer the MVE kernel does not fit
 * returns PICONAS_S8_ERR_ARGUMENT). Output byte for byte that of the checked variant. */
int piconas_depthwise_conv2d_simd_prechecked_s8(const piconas_dw_conv_params *params,
                                                const piconas_per_channel_quant_params *quant,
                                                const piconas_dims *input_dims, const int8_t *input,
                                                const piconas_dims *filter_dims,
                                                const int8_t *filter, const int32_t *bias,
                                                const piconas_dims *output_dims, int8_t *output);

/* piconas_depthwise_conv2d_simd_prechecked_s8 for a layer piconas_depthwise_conv2d_simd_plane_fits
 * takes too (else PICONAS_S8_ERR_ARGUMENT, nothing written): on DSP cores every output pixel from
 * the padded plane, so that the firmware links neither the interior nor the border code of the
 * other layers; on Cortex-M55 the MVE kernel. Output byte for byte that of the checked variant. */
int piconas_depthwise_conv2d_simd_plane_prechecked_s8(
    const piconas_dw_conv_params *params, const piconas_per_channel_quant_params *quant,
    const piconas_dims *input_dims, const int8_t *input, const piconas_dims *filter_dims,
    const int8_t *filter, const int32_t *bias, const piconas_dims *output_dims, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_DEPTHWISE_CONV2D_S8_H */
