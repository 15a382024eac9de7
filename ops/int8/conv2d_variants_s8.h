/*
 * conv2d_variants_s8.h: what the files of the int8 convolution share (internal to ops/int8; call
 * the entry points of conv2d_s8.h): the argument check and the scratch sizes of the variants.
 *   conv2d_s8.c           the checks and the wrapper;
 *   conv2d_portable_s8.c  the portable 1x1 and im2col variants (what Cortex-M0/M3 run);
 *   conv2d_simd_s8.c      the SIMD variants (DSP instructions, emulated in C where absent; MVE
 *                         on Cortex-M55) and their entry points.
 */
#ifndef PICONAS_INT8_CONV2D_VARIANTS_S8_H
#define PICONAS_INT8_CONV2D_VARIANTS_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Shape and parameter checks shared by every variant: PICONAS_S8_OK or the error to return. */
int piconas_conv2d_check_args_s8(const piconas_conv_params *p,
                                 const piconas_per_channel_quant_params *q, const piconas_dims *in,
                                 const int8_t *input, const piconas_dims *f, const int8_t *filter,
                                 const int32_t *bias, const piconas_dims *out,
                                 const int8_t *output);

/* The 1x1 path applies: 1x1 kernel, no padding, every window inside the image. */
static inline int piconas_conv2d_is_1x1(const piconas_conv_params *p, const piconas_dims *in,
                                        const piconas_dims *f, const piconas_dims *out) {
  return f->h == 1 && f->w == 1 && p->padding.h == 0 && p->padding.w == 0 &&
         (int64_t)(out->h - 1) * p->stride.h < in->h && (int64_t)(out->w - 1) * p->stride.w < in->w;
}

static inline int32_t piconas_conv2d_1x1_buffer_size(const piconas_dims *in) {
  return (int32_t)(2 * (int64_t)in->c * (int64_t)sizeof(int16_t));
}

static inline int32_t piconas_conv2d_generic_buffer_size(const piconas_dims *f) {
  return (int32_t)((int64_t)f->h * f->w * f->c * (int64_t)sizeof(int16_t));
}

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CONV2D_VARIANTS_S8_H */
