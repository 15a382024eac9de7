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
 *                                        specialised;
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

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_DEPTHWISE_CONV2D_S8_H */
