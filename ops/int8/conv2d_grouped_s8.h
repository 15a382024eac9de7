/*
 * conv2d_grouped_s8.h: int8 grouped 2-D convolution, NHWC input/output, filter
 * [C_out, KH, KW, C_in / G] (the weights of each group only).
 *
 * With G groups, output channel oc belongs to group g = oc / (C_out / G) and reads the input
 * channels [g * C_in / G, (g + 1) * C_in / G):
 *   acc = bias[oc] + sum_{in-image ky,kx; ci < C_in/G} w[oc,ky,kx,ci] *
 *                                                (x[n,iy,ix,g*C_in/G + ci] + input_offset)
 * requantized and clamped as conv2d_s8.h (same params, one multiplier / shift per output
 * channel). A dense conv whose filter is zero outside each output channel's group computes the
 * same int8 outputs with G times the filter bytes and MACs.
 *
 * In NHWC a group's input channels are not contiguous (pixel stride C_in), so per group the
 * kernel copies them into scratch (N*H*W*C_in/G bytes), runs piconas_conv2d_s8 on that slice
 * (which picks its 1x1 / im2col, SIMD or portable variant: the same code and instructions as a
 * dense conv of C_in/G -> C_out/G channels) into scratch (N*OH*OW*C_out/G bytes), and copies the
 * result into the group's output channels. groups == 1 is a plain conv through two copies.
 * Scratch (4-byte aligned): piconas_conv2d_grouped_s8_get_buffer_size. Returns the statuses of
 * conv2d_s8.h and writes nothing on error: every group is checked before the first write.
 */
#ifndef PICONAS_INT8_CONV2D_GROUPED_S8_H
#define PICONAS_INT8_CONV2D_GROUPED_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch bytes of piconas_conv2d_grouped_s8; -1 on bad dims or groups. */
int32_t piconas_conv2d_grouped_s8_get_buffer_size(const piconas_conv_params *params,
                                                  const piconas_dims *input_dims,
                                                  const piconas_dims *filter_dims,
                                                  const piconas_dims *output_dims, int32_t groups);

/* The status piconas_conv2d_grouped_s8 returns for these arguments with non-NULL tensors and
 * enough scratch: the check the exporter runs once per layer. */
int piconas_conv2d_grouped_s8_check(const piconas_conv_params *params,
                                    const piconas_per_channel_quant_params *quant,
                                    const piconas_dims *input_dims, const piconas_dims *filter_dims,
                                    const int32_t *bias, const piconas_dims *output_dims,
                                    int32_t groups);

int piconas_conv2d_grouped_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                              const piconas_per_channel_quant_params *quant,
                              const piconas_dims *input_dims, const int8_t *input,
                              const piconas_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const piconas_dims *output_dims, int8_t *output,
                              int32_t groups);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CONV2D_GROUPED_S8_H */
