/*
 * avg_pool2d_s8.h: int8 average pooling, NHWC; the output keeps the input's scale and zero
 * point, so there is no requantization (docs/int8.md):
 *
 *   acc = sum of the n in-image taps of the window (taps outside the image are not counted)
 *   y   = clamp(acc > 0 ? (acc + n/2) / n : (acc - n/2) / n, act.min, act.max)   (C division)
 *
 * kernel = window (KH, KW); output_dims {N, OH, OW, C} with N and C equal to the input's.
 * Every window must hold at least one image tap (else PICONAS_S8_ERR_ARGUMENT), and
 * KH*KW <= 2^24 (else PICONAS_S8_ERR_OVERFLOW). Needs no scratch.
 * piconas_avg_pool2d_include_pad_s8 divides by n = KH*KW instead, each padding tap adding the
 * real value 0, i.e. input_zero_point (-128..127, else PICONAS_S8_ERR_ARGUMENT) to acc (ONNX
 * AveragePool count_include_pad 1, PyTorch's nn.AvgPool2d default); TFLite's AVERAGE_POOL_2D has
 * no such mode.
 * piconas_global_avg_pool2d_s8 averages each channel over the whole image: output {N, 1, 1, C}.
 */
#ifndef PICONAS_INT8_AVG_POOL2D_S8_H
#define PICONAS_INT8_AVG_POOL2D_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_avg_pool2d_s8(const piconas_pool_params *params, const piconas_dims *input_dims,
                          const int8_t *input, piconas_tile kernel, const piconas_dims *output_dims,
                          int8_t *output);

int piconas_avg_pool2d_include_pad_s8(const piconas_pool_params *params,
                                      const piconas_dims *input_dims, const int8_t *input,
                                      piconas_tile kernel, int32_t input_zero_point,
                                      const piconas_dims *output_dims, int8_t *output);

int piconas_global_avg_pool2d_s8(piconas_activation activation, const piconas_dims *input_dims,
                                 const int8_t *input, const piconas_dims *output_dims,
                                 int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_AVG_POOL2D_S8_H */
