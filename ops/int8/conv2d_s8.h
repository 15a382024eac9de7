/*
 * conv2d_s8.h: int8 2-D convolution, NHWC input/output, filter [C_out, KH, KW, C_in].
 *
 *   iy = oy*stride.h - padding.h + ky*dilation.h,  ix = ox*stride.w - padding.w + kx*dilation.w
 *   acc = bias[oc] + sum_{in-image ky,kx; ci} w[oc,ky,kx,ci] * (x[n,iy,ix,ci] + input_offset)
 *   y[n,oy,ox,oc] = clamp(MBQM(acc, multiplier[oc], shift[oc]) + output_offset, act.min, act.max)
 *
 * filter_dims = {C_out, KH, KW, C_in}; bias may be null (zero). The caller picks the output
 * size (output_dims); windows entirely outside the image give clamp(MBQM(bias) + offset).
 * piconas_conv2d_s8 is the wrapper that picks a variant; tests may call each variant directly:
 *   piconas_conv2d_1x1_s8      KH = KW = 1, padding 0, every window inside the image; reads the
 *                              input pixels in place (takes, and checks, a scratch of 2*C_in
 *                              int16 like the SIMD variant, but does not use it);
 *   piconas_conv2d_generic_s8  any shape; scratch of KH*KW*C_in int16 (of which it uses
 *                              KH*KW*C_in bytes: im2col of one output pixel as raw int8, taps
 *                              outside the image holding the input zero point = skipped);
 *                              both portable variants fold the input offset into the bias and
 *                              run four filter rows per pass (Armv6-M: an assembly inner loop);
 *   piconas_conv2d_1x1_simd_s8, piconas_conv2d_im2col_simd_s8: the same two shapes with the DSP
 *                              instructions (emulated in C where absent, simd_s8.h): two pixels
 *                              x two output channels per step; scratch 2*C_in resp.
 *                              2*KH*KW*C_in int16; they take the layers for which
 *                              piconas_conv2d_simd_applies (no multiplier INT32_MIN, small
 *                              accumulators: piconas_s8_simd_quant_ok in simd_s8.h).
 * The wrapper takes the SIMD variants when they apply, else the portable ones; its buffer size
 * is the larger of the two variants'. Scratch must be 2-byte aligned.
 * A variant given a shape it cannot handle returns PICONAS_S8_ERR_ARGUMENT.
 * The layer is refused (PICONAS_S8_ERR_OVERFLOW) when KH*KW*C_in > PICONAS_S8_MAX_MACS or a
 * bias is so large that the int32 accumulator could overflow.
 */
#ifndef PICONAS_INT8_CONV2D_S8_H
#define PICONAS_INT8_CONV2D_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch bytes piconas_conv2d_s8 needs for this layer (the variant it picks); -1 on bad dims. */
int32_t piconas_conv2d_s8_get_buffer_size(const piconas_conv_params *params,
                                          const piconas_dims *input_dims,
                                          const piconas_dims *filter_dims,
                                          const piconas_dims *output_dims);

/* The status piconas_conv2d_s8 returns for these arguments with non-NULL tensors: the check the
 * exporter runs once per layer before it emits a call of a _prechecked variant. */
int piconas_conv2d_s8_check(const piconas_conv_params *params,
                            const piconas_per_channel_quant_params *quant,
                            const piconas_dims *input_dims, const piconas_dims *filter_dims,
                            const int32_t *bias, const piconas_dims *output_dims);

int piconas_conv2d_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output);

int piconas_conv2d_1x1_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                          const piconas_per_channel_quant_params *quant,
                          const piconas_dims *input_dims, const int8_t *input,
                          const piconas_dims *filter_dims, const int8_t *filter,
                          const int32_t *bias, const piconas_dims *output_dims, int8_t *output);

int piconas_conv2d_generic_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                              const piconas_per_channel_quant_params *quant,
                              const piconas_dims *input_dims, const int8_t *input,
                              const piconas_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const piconas_dims *output_dims, int8_t *output);

/* 1 when the SIMD variants accept this layer's quantization and bias (shapes aside). */
int piconas_conv2d_simd_applies(const piconas_per_channel_quant_params *quant, const int32_t *bias,
                                const piconas_dims *filter_dims);

int piconas_conv2d_1x1_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output);

int piconas_conv2d_im2col_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output);

/* The SIMD variants for arguments checked at export: piconas_conv2d_s8_check returned
 * PICONAS_S8_OK, piconas_conv2d_simd_applies 1 and, for 1x1, the 1x1 path applies. They guard
 * only the pointers and the scratch (PICONAS_S8_ERR_ARGUMENT / _BUFFER), so that the firmware
 * links no argument checks; the output is that of the checked variants, byte for byte. */
int piconas_conv2d_1x1_simd_prechecked_s8(const piconas_s8_context *ctx,
                                          const piconas_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const piconas_dims *input_dims, const int8_t *input,
                                          const piconas_dims *filter_dims, const int8_t *filter,
                                          const int32_t *bias, const piconas_dims *output_dims,
                                          int8_t *output);

int piconas_conv2d_im2col_simd_prechecked_s8(const piconas_s8_context *ctx,
                                             const piconas_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims, const int8_t *input,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *output);

/* 1 when the Cortex-M55 window kernel takes this checked layer (a window of up to three
 * 16-lane gathers, e.g. a 3x3 stem on 1 or 3 channels). Compiled on every target. */
int piconas_conv2d_mve_window_fits(const piconas_conv_params *params,
                                   const piconas_dims *input_dims, const piconas_dims *filter_dims);

/* The im2col variant for a checked layer piconas_conv2d_mve_window_fits accepts: on Cortex-M55
 * the window kernel only (PICONAS_S8_ERR_ARGUMENT for a layer it does not fit), so that the
 * firmware links no im2col kernel; elsewhere piconas_conv2d_im2col_simd_prechecked_s8. On
 * Cortex-M55, piconas_conv2d_im2col_simd_prechecked_s8 is the im2col kernel only. */
int piconas_conv2d_window_simd_prechecked_s8(const piconas_s8_context *ctx,
                                             const piconas_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims, const int8_t *input,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CONV2D_S8_H */
