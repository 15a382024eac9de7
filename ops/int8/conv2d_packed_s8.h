/*
 * conv2d_packed_s8.h: the int8 convolution of conv2d_s8.h with its filter reordered once (at
 * export, or at start-up) into the layout the Armv7E-M DSP kernel streams best.
 *
 * piconas_conv2d_pack_s8 turns the [C_out, KH, KW, C_in] filter into "packed" bytes: output
 * channels in pairs (an odd last channel pairs with zeros), the depth K = KH*KW*C_in in groups
 * of 4 (k >= K zero), and per pair and group two words
 *   (w[o][k0], w[o+1][k0], w[o][k2], w[o+1][k2]),  (w[o][k1], w[o+1][k1], w[o][k3], w[o+1][k3]):
 * SXTB16 of a word is channel o's two weights, SXTB16 ROR #8 channel o+1's, both against the same
 * widened input word, so one load of 4 weight bytes serves 2 channels x 4 output pixels
 * (8 SMLAD). piconas_conv2d_packed_s8 then computes exactly what piconas_conv2d_s8 computes from
 * the original filter (bias, multipliers and shifts are the layer's own arrays), with scratch
 * from piconas_conv2d_packed_s8_get_buffer_size (four im2col columns plus one).
 * It applies where piconas_conv2d_packed_applies (the SIMD variants apply, and every shift
 * >= PICONAS_S8_PACKED_MIN_SHIFT, so the output offset folds into the rounding constant); a
 * layer it does not apply to is refused by pack and kernel (PICONAS_S8_ERR_ARGUMENT). Compiled
 * where the SIMD variants are (int8_types.h); PICONAS_S8_PACKED_PREFERRED says where the packed
 * kernel is the fast choice (DSP cores without MVE, and the host where the tests run it).
 */
#ifndef PICONAS_INT8_CONV2D_PACKED_S8_H
#define PICONAS_INT8_CONV2D_PACKED_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -DPICONAS_S8_PACKED_PREFERRED=0 keeps an exported model on its original filters (e.g. to link
 * it against another kernel library, bench/cmsis_nn_compare.sh). */
#ifndef PICONAS_S8_PACKED_PREFERRED
#if PICONAS_S8_SIMD_PREFERRED && !defined(__ARM_FEATURE_MVE)
#define PICONAS_S8_PACKED_PREFERRED 1
#else
#define PICONAS_S8_PACKED_PREFERRED 0
#endif
#endif

/* Shift bound of the packed kernel: output_offset * 2^(1 - shift) + 2^(-shift) + 2^30 fits int32. */
#define PICONAS_S8_PACKED_MIN_SHIFT (-21)

/* Bytes of the packed filter: 2 * ceil(C_out / 2) * 4 * ceil(K / 4); -1 on bad dims. */
int32_t piconas_conv2d_packed_weights_size(const piconas_dims *filter_dims);

/* Scratch bytes of piconas_conv2d_packed_s8: 5 * 4 * ceil(K / 4) int16; -1 on bad dims. */
int32_t piconas_conv2d_packed_s8_get_buffer_size(const piconas_dims *filter_dims);

/* 1 when the packed kernel accepts this layer's quantization and bias (shapes aside). */
int piconas_conv2d_packed_applies(const piconas_per_channel_quant_params *quant, const int32_t *bias,
                                  const piconas_dims *filter_dims);

/* Writes the packed filter (piconas_conv2d_packed_weights_size bytes) into packed. */
int piconas_conv2d_pack_s8(const piconas_dims *filter_dims, const int8_t *filter, int8_t *packed);

int piconas_conv2d_packed_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                             const piconas_per_channel_quant_params *quant,
                             const piconas_dims *input_dims, const int8_t *input,
                             const piconas_dims *filter_dims, const int8_t *packed,
                             const int32_t *bias, const piconas_dims *output_dims, int8_t *output);

/* The status piconas_conv2d_packed_s8 returns for these arguments with non-NULL tensors: the
 * check the exporter runs once per layer before it emits piconas_conv2d_packed_prechecked_s8. */
int piconas_conv2d_packed_s8_check(const piconas_conv_params *params,
                                   const piconas_per_channel_quant_params *quant,
                                   const piconas_dims *input_dims, const piconas_dims *filter_dims,
                                   const int32_t *bias, const piconas_dims *output_dims);

/* piconas_conv2d_packed_s8 for arguments piconas_conv2d_packed_s8_check accepted: guards only
 * the pointers and the scratch, so that the firmware links no argument checks. */
int piconas_conv2d_packed_prechecked_s8(const piconas_s8_context *ctx,
                                        const piconas_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims, const int8_t *input,
                                        const piconas_dims *filter_dims, const int8_t *packed,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CONV2D_PACKED_S8_H */
