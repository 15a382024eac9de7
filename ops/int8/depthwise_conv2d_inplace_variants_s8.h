/*
 * depthwise_conv2d_inplace_variants_s8.h: what the files of the in-place depthwise convolution
 * share (internal to ops/int8; call the entry points of depthwise_conv2d_inplace_s8.h).
 *   depthwise_conv2d_inplace_s8.c      checks, the portable variant and the entry points;
 *   depthwise_conv2d_inplace_dsp_s8.c  the SIMD variant with the DSP instructions (emulated in C
 *                                      where absent); Cortex-M55 runs mve_s8.h's kernel.
 */
#ifndef PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_VARIANTS_S8_H
#define PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_VARIANTS_S8_H

#include <stdint.h>

#include "depthwise_conv2d_inplace_s8.h"
#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input channel c of data ([H*W, C]) to plane ([H*W]). */
static inline void piconas_dw_inplace_copy_channel(const int8_t *data, int32_t channels,
                                                   int32_t pixels, int8_t *plane) {
  int32_t i = 0;
  for (; i + 4 <= pixels; i += 4) {
    plane[i] = data[0];
    plane[i + 1] = data[channels];
    plane[i + 2] = data[2 * channels];
    plane[i + 3] = data[3 * channels];
    data += 4 * channels;
  }
  for (; i < pixels; ++i, data += channels) {
    plane[i] = *data;
  }
}

/* The largest kernel side of the SIMD variant (piconas_depthwise_conv2d_inplace_simd_applies). */
enum { DW_INPLACE_MAX_K = 8 };

#if PICONAS_S8_SIMD_AVAILABLE
/* The SIMD variant on arguments the entry points checked (inplace_check and
 * piconas_depthwise_conv2d_inplace_simd_applies; the scratch holds H*W bytes). */
void piconas_depthwise_conv2d_inplace_dsp_run_s8(const piconas_s8_context *ctx,
                                                 const piconas_dw_conv_params *params,
                                                 const piconas_per_channel_quant_params *quant,
                                                 const piconas_dims *input_dims,
                                                 const piconas_dims *filter_dims,
                                                 const int8_t *filter, const int32_t *bias,
                                                 const piconas_dims *output_dims, int8_t *data);
#endif

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_DEPTHWISE_CONV2D_INPLACE_VARIANTS_S8_H */
