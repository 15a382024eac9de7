/*
 * conv2d_1x1_inplace_s8.h: int8 1x1 convolution (stride 1, no padding, one
 * image, NHWC) whose output may overlap its input in one buffer, so the memory
 * plan needs about max(input, output) bytes instead of both (docs/memory.md,
 * in-place 1x1 convolution).
 *
 * Same arithmetic as piconas_conv2d_s8 (conv2d_s8.h), byte for byte: in NHWC an
 * output pixel depends only on the same input pixel, so the kernel runs the N =
 * H*W pixels in forward order, `strip` pixels at a time: piconas_conv2d_s8
 * computes the strip's output pixels from the strip's input pixels into the
 * scratch, then they are copied to the output. When strip k (pixels [p, p + n))
 * is copied out, the pixels from p + n on are still unread, so the copy must
 * end at or before their first byte:
 *
 *     output + (p + n) * C_out <= input + (p + n) * C_in   for every strip end
 * p + n,
 *
 * which, being linear in p + n, holds for all strip ends when it holds for the
 * first (min(strip, N)) and the last (N). Two placements satisfy it: C_out <=
 * C_in and output == input (the output overwrites the input from the front),
 * and C_out > C_in with the input at the tail of the output (input + N*C_in ==
 * output + N*C_out). Input and output that do not overlap at all are accepted
 * too (then it is an out-of-place 1x1 convolution).
 *
 * ctx->buf: at least piconas_conv2d_1x1_inplace_s8_get_buffer_size() bytes,
 * 4-byte aligned and overlapping neither the input nor the output: strip *
 * C_out bytes for the strip's output (rounded up to 4) and then the scratch of
 * piconas_conv2d_s8 for a {1, 1, strip, C_in} input. Arguments (those of
 * piconas_conv2d_s8, plus KH = KW = 1, stride 1, padding 0, equal input and
 * output height and width, strip >= 1 and the placement above) are checked
 * before anything is written: PICONAS_S8_ERR_ARGUMENT, _OVERFLOW as in
 * conv2d_s8.h, _BUFFER for the scratch.
 */
#ifndef PICONAS_INT8_CONV2D_1X1_INPLACE_S8_H
#define PICONAS_INT8_CONV2D_1X1_INPLACE_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch bytes for this layer and strip length (-1 on bad dims or strip < 1).
 */
int32_t piconas_conv2d_1x1_inplace_s8_get_buffer_size(const piconas_conv_params *params,
                                                      const piconas_dims *input_dims,
                                                      const piconas_dims *filter_dims,
                                                      int32_t strip);

/* 1 when output (C_out channels) may overlap input (C_in channels) of n_pixels
 * pixels in strips of `strip` pixels: disjoint, or the inequality above at the
 * first and last strip end. */
int piconas_conv2d_1x1_inplace_placement_ok(const int8_t *input, int32_t in_channels,
                                            const int8_t *output, int32_t out_channels,
                                            int32_t n_pixels, int32_t strip);

int piconas_conv2d_1x1_inplace_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output, int32_t strip);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CONV2D_1X1_INPLACE_S8_H */
