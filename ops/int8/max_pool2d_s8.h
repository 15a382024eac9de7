/*
 * max_pool2d_s8.h: int8 max pooling, NHWC; the output keeps the input's scale and zero point.
 *
 *   y = clamp(max over the in-image taps of the window, act.min, act.max)
 *
 * kernel = window (KH, KW); output_dims {N, OH, OW, C} with N and C equal to the input's.
 * Taps outside the image are skipped; every window must hold at least one image tap
 * (else PICONAS_S8_ERR_ARGUMENT). Needs no scratch.
 */
#ifndef PICONAS_INT8_MAX_POOL2D_S8_H
#define PICONAS_INT8_MAX_POOL2D_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_max_pool2d_s8(const piconas_pool_params *params, const piconas_dims *input_dims,
                          const int8_t *input, piconas_tile kernel, const piconas_dims *output_dims,
                          int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_MAX_POOL2D_S8_H */
