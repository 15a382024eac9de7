/*
 * fully_connected_s8.h: int8 fully-connected (linear) layer, per-output-channel quantization.
 *
 *   acc = bias[o] + sum_i w[o, i] * (x[n, i] + input_offset)
 *   y[n, o] = clamp(MBQM(acc, multiplier[o], shift[o]) + output_offset, act.min, act.max)
 *
 * input_dims {N, H, W, C}: N rows of D = H*W*C features in NHWC order (a flattened feature map).
 * filter_dims {C_out, KH, KW, KC} with KH*KW*KC = D, row-major [C_out, D].
 * output_dims {N, 1, 1, C_out}. bias may be null (zero). Needs no scratch.
 * Refuses (PICONAS_S8_ERR_OVERFLOW) D > PICONAS_S8_MAX_MACS or a bias that could overflow.
 */
#ifndef PICONAS_INT8_FULLY_CONNECTED_S8_H
#define PICONAS_INT8_FULLY_CONNECTED_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_fully_connected_s8(const piconas_fc_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_FULLY_CONNECTED_S8_H */
