/*
 * depthwise_conv2d_inplace_s8.h: int8 depthwise 2-D convolution (channel multiplier 1, one
 * image, NHWC) whose output overwrites its input, so the memory plan needs one buffer of
 * max(input, output) bytes instead of both (TinyEngine's in-place depthwise).
 *
 * Same arithmetic as piconas_depthwise_conv2d_s8 (depthwise_conv2d_s8.h), byte for byte. For
 * each channel c: input channel c (H*W bytes) is copied to the scratch buffer, then output
 * channel c is computed from it and written to the channel-c slots of `data`. Only channel-c
 * slots change while channel c runs and the input channel is already saved, so any stride and
 * padding work, as long as the output has no more pixels than the input (OH*OW <= H*W).
 *
 * data: the input [1, H, W, C] on entry, the output [1, OH, OW, C] on return (the buffer must
 * hold max(H*W, OH*OW) * C bytes). ctx->buf: at least
 * piconas_depthwise_conv2d_inplace_s8_get_buffer_size() bytes. Arguments are checked before
 * anything is written; errors as in depthwise_conv2d_s8.h, PICONAS_S8_ERR_BUFFER for scratch.
 *
 * Like depthwise_conv2d_s8.h, the entry point picks a variant with the same result:
 * piconas_depthwise_conv2d_inplace_simd_s8 (Armv7E-M DSP, planar: two output pixels per step,
 * SMLAD over packed taps; see the .c file) where PICONAS_S8_SIMD_PREFERRED and
 * piconas_depthwise_conv2d_inplace_simd_applies() (dilation 1, KH and KW <= 8, small
 * accumulators), else piconas_depthwise_conv2d_inplace_generic_s8 (portable C). On Cortex-M55
 * the SIMD variant runs the MVE kernel instead (depthwise_conv2d_window_mve_s8.c: per channel
 * plane, one gather and VMLADAVA of up to 16 window taps per output pixel); it needs the same
 * H*W bytes of scratch (a copy of the channel), and 320 more bytes of stack for bands of the
 * channel's zero-point padded plane.
 */
#ifndef PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_S8_H
#define PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch bytes: one input channel, H*W (-1 for bad dims). */
int32_t piconas_depthwise_conv2d_inplace_s8_get_buffer_size(const piconas_dims *input_dims);

/* The status piconas_depthwise_conv2d_inplace_s8 returns for these arguments with non-NULL
 * tensors: the check the exporter runs once per layer before it emits the _prechecked variant. */
int piconas_depthwise_conv2d_inplace_s8_check(const piconas_s8_context *ctx,
                                              const piconas_dw_conv_params *params,
                                              const piconas_per_channel_quant_params *quant,
                                              const piconas_dims *input_dims,
                                              const piconas_dims *filter_dims, const int32_t *bias,
                                              const piconas_dims *output_dims);

int piconas_depthwise_conv2d_inplace_s8(const piconas_s8_context *ctx,
                                        const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *data);

int piconas_depthwise_conv2d_inplace_generic_s8(const piconas_s8_context *ctx,
                                                const piconas_dw_conv_params *params,
                                                const piconas_per_channel_quant_params *quant,
                                                const piconas_dims *input_dims,
                                                const piconas_dims *filter_dims,
                                                const int8_t *filter, const int32_t *bias,
                                                const piconas_dims *output_dims, int8_t *data);

#if PICONAS_S8_SIMD_AVAILABLE
/* PICONAS_S8_ERR_ARGUMENT when _simd_applies() is 0. */
int piconas_depthwise_conv2d_inplace_simd_s8(const piconas_s8_context *ctx,
                                             const piconas_dw_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *data);
int piconas_depthwise_conv2d_inplace_simd_applies(const piconas_dw_conv_params *params,
                                                  const piconas_per_channel_quant_params *quant,
                                                  const int32_t *bias,
                                                  const piconas_dims *filter_dims);
#endif

/* piconas_depthwise_conv2d_inplace_simd_s8 for arguments checked at export
 * (piconas_depthwise_conv2d_inplace_s8_check OK, _simd_applies 1 and
 * piconas_depthwise_conv2d_mve_fits 1): guards only the pointers and the scratch, so that the
 * firmware links no argument checks and, on Cortex-M55, no portable fallback (a layer the MVE
 * kernel does not fit returns PICONAS_S8_ERR_ARGUMENT). Output as the checked variant's. */
int piconas_depthwise_conv2d_inplace_simd_prechecked_s8(
    const piconas_s8_context *ctx, const piconas_dw_conv_params *params,
    const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
    const piconas_dims *filter_dims, const int8_t *filter, const int32_t *bias,
    const piconas_dims *output_dims, int8_t *data);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_S8_H */
