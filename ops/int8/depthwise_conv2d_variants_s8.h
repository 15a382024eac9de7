/*
 * depthwise_conv2d_variants_s8.h: the variants behind the entry points of depthwise_conv2d_s8.h,
 * one file each, on arguments the entry points have checked (depthwise_check, and for the SIMD
 * variants piconas_depthwise_conv2d_simd_applies). Internal to ops/int8: call the entry points.
 *   depthwise_conv2d_portable_s8.c  any shape (what Cortex-M0/M3 run);
 *   depthwise_conv2d_dsp_s8.c       M = 1 with the Armv7E-M DSP instructions (emulated in C
 *                                   where absent): 4 channels per pass, 3x3 specialised; 3x3
 *                                   layers whose zero-point padded plane fits
 *                                   (piconas_depthwise_conv2d_simd_plane_fits) run every pixel
 *                                   from that plane.
 * The MVE kernels of Cortex-M55 are declared in mve_s8.h.
 */
#ifndef PICONAS_INT8_DEPTHWISE_CONV2D_VARIANTS_S8_H
#define PICONAS_INT8_DEPTHWISE_CONV2D_VARIANTS_S8_H

#include <stdint.h>

#include "depthwise_conv2d_s8.h"
#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

void piconas_depthwise_conv2d_portable_run_s8(const piconas_dw_conv_params *params,
                                              const piconas_per_channel_quant_params *quant,
                                              const piconas_dims *input_dims, const int8_t *input,
                                              const piconas_dims *filter_dims, const int8_t *filter,
                                              const int32_t *bias, const piconas_dims *output_dims,
                                              int8_t *output);

#if PICONAS_S8_SIMD_AVAILABLE
void piconas_depthwise_conv2d_dsp_run_s8(const piconas_dw_conv_params *params,
                                         const piconas_per_channel_quant_params *quant,
                                         const piconas_dims *input_dims, const int8_t *input,
                                         const piconas_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const piconas_dims *output_dims,
                                         int8_t *output);

/* Only for layers piconas_depthwise_conv2d_simd_plane_fits takes. */
void piconas_depthwise_conv2d_dsp_plane_run_s8(const piconas_dw_conv_params *params,
                                               const piconas_per_channel_quant_params *quant,
                                               const piconas_dims *input_dims, const int8_t *input,
                                               const piconas_dims *filter_dims,
                                               const int8_t *filter, const int32_t *bias,
                                               const piconas_dims *output_dims, int8_t *output);
#endif

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_DEPTHWISE_CONV2D_VARIANTS_S8_H */
