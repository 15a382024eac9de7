/* int8 depthwise 2-D convolution (see depthwise_conv2d_s8.h). */
#include "depthwise_conv2d_s8.h"

#include <stddef.h>

#include "depthwise_conv2d_variants_s8.h"
#include "int8_checks.h"
#include "mve_s8.h"
#include "simd_s8.h"

static int depthwise_check(const piconas_dw_conv_params *p,
                           const piconas_per_channel_quant_params *q, const piconas_dims *in,
                           const int8_t *input, const piconas_dims *f, const int8_t *filter,
                           const int32_t *bias, const piconas_dims *out, const int8_t *output) {
  if (p == NULL || input == NULL || filter == NULL || output == NULL || !piconas_s8_dims_ok(in) ||
      !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || p->ch_mult < 1 || f->n != 1 ||
      in->n != out->n || (int64_t)in->c * p->ch_mult != out->c || f->c != out->c ||
      !piconas_s8_tile_ok(p->stride, 1) || !piconas_s8_tile_ok(p->dilation, 1) ||
      !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(q, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return piconas_s8_accumulator_ok(bias, out->c, (int64_t)f->h * f->w);
}

#if PICONAS_S8_SIMD_AVAILABLE
/* The SIMD variant on checked arguments. On Cortex-M55 the MVE kernel, or PICONAS_S8_ERR_ARGUMENT
 * when the layer does not fit it (piconas_depthwise_conv2d_mve_fits), having written nothing. */
static int dw_simd_run(const piconas_dw_conv_params *params,
                       const piconas_per_channel_quant_params *quant,
                       const piconas_dims *input_dims, const int8_t *input,
                       const piconas_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                       const piconas_dims *output_dims, int8_t *output) {
#if PICONAS_S8_MVE /* the plane kernel only through the plane entry point (flash) */
  return piconas_depthwise_conv2d_mve_s8(params, quant, input_dims, input, filter_dims, filter,
                                         bias, output_dims, output)
             ? PICONAS_S8_OK
             : PICONAS_S8_ERR_ARGUMENT;
#else
  piconas_depthwise_conv2d_dsp_run_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                                      output_dims, output);
  return PICONAS_S8_OK;
#endif
}
#endif

int piconas_depthwise_conv2d_s8(const piconas_dw_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const piconas_dims *output_dims,
                                int8_t *output) {
  /* Checked first, so that the selection reads bias / multipliers of a valid layer only. */
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  /* The checks ran: the SIMD variant is called without repeating them. */
  if (piconas_depthwise_conv2d_simd_applies(params, quant, bias, filter_dims) &&
      dw_simd_run(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                  output) == PICONAS_S8_OK) {
    return PICONAS_S8_OK;
  }
#endif
  piconas_depthwise_conv2d_portable_run_s8(params, quant, input_dims, input, filter_dims, filter,
                                           bias, output_dims, output);
  return PICONAS_S8_OK;
}

int piconas_depthwise_conv2d_s8_check(const piconas_dw_conv_params *params,
                                      const piconas_per_channel_quant_params *quant,
                                      const piconas_dims *input_dims,
                                      const piconas_dims *filter_dims, const int32_t *bias,
                                      const piconas_dims *output_dims) {
  static const int8_t tensor = 0; /* stands for the tensors: only their pointers are checked */
  return depthwise_check(params, quant, input_dims, &tensor, filter_dims, &tensor, bias,
                         output_dims, &tensor);
}

int piconas_depthwise_conv2d_generic_s8(const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims, const int8_t *input,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *output) {
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  piconas_depthwise_conv2d_portable_run_s8(params, quant, input_dims, input, filter_dims, filter,
                                           bias, output_dims, output);
  return PICONAS_S8_OK;
}

int piconas_depthwise_conv2d_simd_plane_fits(const piconas_dw_conv_params *params,
                                             const piconas_dims *filter_dims,
                                             const piconas_dims *output_dims) {
  /* The input positions the windows reach, from (-padding.h, -padding.w), 4 channels a word. */
  const int64_t rows =
      (int64_t)(output_dims->h - 1) * params->stride.h + 2 * params->dilation.h + 1;
  const int64_t cols =
      (int64_t)(output_dims->w - 1) * params->stride.w + 2 * params->dilation.w + 1;
  return filter_dims->h == 3 && filter_dims->w == 3 && params->ch_mult == 1 &&
         params->dilation.h == 1 && params->dilation.w == 1 &&
         rows * cols * 4 <= PICONAS_DW_PLANE_BYTES;
}

#if PICONAS_S8_SIMD_AVAILABLE
int piconas_depthwise_conv2d_simd_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!piconas_depthwise_conv2d_simd_applies(params, quant, bias, filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (dw_simd_run(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                  output) != PICONAS_S8_OK) { /* Cortex-M55, a layer the MVE kernel does not fit */
    piconas_depthwise_conv2d_portable_run_s8(params, quant, input_dims, input, filter_dims, filter,
                                             bias, output_dims, output);
  }
  return PICONAS_S8_OK;
}

int piconas_depthwise_conv2d_simd_prechecked_s8(const piconas_dw_conv_params *params,
                                                const piconas_per_channel_quant_params *quant,
                                                const piconas_dims *input_dims, const int8_t *input,
                                                const piconas_dims *filter_dims,
                                                const int8_t *filter, const int32_t *bias,
                                                const piconas_dims *output_dims, int8_t *output) {
  if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
      filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return dw_simd_run(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                     output);
}

int piconas_depthwise_conv2d_simd_plane_prechecked_s8(
    const piconas_dw_conv_params *params, const piconas_per_channel_quant_params *quant,
    const piconas_dims *input_dims, const int8_t *input, const piconas_dims *filter_dims,
    const int8_t *filter, const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
      filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
      !piconas_depthwise_conv2d_simd_plane_fits(params, filter_dims, output_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
#if PICONAS_S8_MVE
  return piconas_depthwise_conv2d_plane_mve_s8(params, quant, input_dims, input, filter_dims,
                                               filter, bias, output_dims, output)
             ? PICONAS_S8_OK
             : PICONAS_S8_ERR_ARGUMENT;
#else
  piconas_depthwise_conv2d_dsp_plane_run_s8(params, quant, input_dims, input, filter_dims, filter,
                                            bias, output_dims, output);
  return PICONAS_S8_OK;
#endif
}

int piconas_depthwise_conv2d_simd_applies(const piconas_dw_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const int32_t *bias, const piconas_dims *filter_dims) {
  return params != NULL && quant != NULL && quant->multiplier != NULL && quant->shift != NULL &&
         piconas_s8_dims_ok(filter_dims) && params->ch_mult == 1 &&
         piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, filter_dims->c,
                                  (int64_t)filter_dims->h * filter_dims->w);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
