/* int8 in-place depthwise 2-D convolution (see depthwise_conv2d_inplace_s8.h). */
#include "depthwise_conv2d_inplace_s8.h"

#include <stddef.h>

#include "depthwise_conv2d_inplace_variants_s8.h"
#include "int8_checks.h"
#include "mve_s8.h"
#include "requant32_s8.h"
#include "requantize.h"
#include "simd_s8.h"

int32_t piconas_depthwise_conv2d_inplace_s8_get_buffer_size(const piconas_dims *input_dims) {
  if (!piconas_s8_dims_ok(input_dims) || (int64_t)input_dims->h * input_dims->w > INT32_MAX) {
    return -1;
  }
  return input_dims->h * input_dims->w;
}

static int inplace_check(const piconas_s8_context *ctx, const piconas_dw_conv_params *p,
                         const piconas_per_channel_quant_params *q, const piconas_dims *in,
                         const piconas_dims *f, const int8_t *filter, const int32_t *bias,
                         const piconas_dims *out, const int8_t *data) {
  if (p == NULL || data == NULL || filter == NULL || !piconas_s8_dims_ok(in) ||
      !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || p->ch_mult != 1 || f->n != 1 ||
      in->n != 1 || out->n != 1 || in->c != out->c || f->c != out->c ||
      (int64_t)out->h * out->w > (int64_t)in->h * in->w || !piconas_s8_tile_ok(p->stride, 1) ||
      !piconas_s8_tile_ok(p->dilation, 1) || !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(q, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL ||
      ctx->size < piconas_depthwise_conv2d_inplace_s8_get_buffer_size(in)) {
    return PICONAS_S8_ERR_BUFFER;
  }
  return piconas_s8_accumulator_ok(bias, out->c, (int64_t)f->h * f->w);
}

int piconas_depthwise_conv2d_inplace_s8_check(const piconas_s8_context *ctx,
                                              const piconas_dw_conv_params *params,
                                              const piconas_per_channel_quant_params *quant,
                                              const piconas_dims *input_dims,
                                              const piconas_dims *filter_dims, const int32_t *bias,
                                              const piconas_dims *output_dims) {
  static const int8_t tensor = 0; /* stands for the tensors: only their pointers are checked */
  return inplace_check(ctx, params, quant, input_dims, filter_dims, &tensor, bias, output_dims,
                       &tensor);
}

int piconas_depthwise_conv2d_inplace_s8(const piconas_s8_context *ctx,
                                        const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  if (piconas_depthwise_conv2d_inplace_simd_applies(params, quant, bias, filter_dims)) {
    return piconas_depthwise_conv2d_inplace_simd_s8(ctx, params, quant, input_dims, filter_dims,
                                                    filter, bias, output_dims, data);
  }
#endif
  return piconas_depthwise_conv2d_inplace_generic_s8(ctx, params, quant, input_dims, filter_dims,
                                                     filter, bias, output_dims, data);
}

int piconas_depthwise_conv2d_inplace_generic_s8(const piconas_s8_context *ctx,
                                                const piconas_dw_conv_params *params,
                                                const piconas_per_channel_quant_params *quant,
                                                const piconas_dims *input_dims,
                                                const piconas_dims *filter_dims,
                                                const int8_t *filter, const int32_t *bias,
                                                const piconas_dims *output_dims, int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  int32_t c, oy, ox, ky, kx;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  {
    const int32_t channels = input_dims->c;
    const int32_t offset = params->input_offset;
    int8_t *plane = (int8_t *)ctx->buf; /* input channel c, [H, W] */
    /* Requantization with 32-bit multiplies where exact (requant32_s8.h; Armv6-M). */
    const int fast = piconas_s8_rq32_ok(quant->multiplier, quant->shift, bias, channels,
                                        (int64_t)filter_dims->h * filter_dims->w);
    for (c = 0; c < channels; ++c) {
      const piconas_s8_rq32 rq = piconas_s8_rq32_of(quant->multiplier[c], quant->shift[c]);
      piconas_dw_inplace_copy_channel(data + c, channels, input_dims->h * input_dims->w, plane);
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky_begin, ky_end;
        piconas_s8_tap_range(iy0, params->dilation.h, filter_dims->h, input_dims->h, &ky_begin,
                             &ky_end);
        for (ox = 0; ox < output_dims->w; ++ox) {
          const int32_t ix0 = ox * params->stride.w - params->padding.w;
          int32_t kx_begin, kx_end;
          int32_t acc = bias != NULL ? bias[c] : 0;
          piconas_s8_tap_range(ix0, params->dilation.w, filter_dims->w, input_dims->w, &kx_begin,
                               &kx_end);
          for (ky = ky_begin; ky < ky_end; ++ky) {
            const int32_t iy = iy0 + ky * params->dilation.h;
            for (kx = kx_begin; kx < kx_end; ++kx) {
              const int32_t ix = ix0 + kx * params->dilation.w;
              const int32_t w = filter[((ptrdiff_t)ky * filter_dims->w + kx) * channels + c];
              acc += w * (plane[(ptrdiff_t)iy * input_dims->w + ix] + offset);
            }
          }
          acc = piconas_s8_rq32_or_mbqm(acc, fast, &rq, quant->multiplier[c], quant->shift[c]);
          data[((ptrdiff_t)oy * output_dims->w + ox) * channels + c] =
              piconas_s8_output(acc, params->output_offset, params->activation);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

#if PICONAS_S8_SIMD_AVAILABLE
/* The SIMD variant on checked arguments. On Cortex-M55 the MVE kernel, or PICONAS_S8_ERR_ARGUMENT
 * when the layer does not fit it (piconas_depthwise_conv2d_mve_fits), having written nothing. */
static int dw_inplace_simd_run(const piconas_s8_context *ctx, const piconas_dw_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const piconas_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias,
                               const piconas_dims *output_dims, int8_t *data) {
#if PICONAS_S8_MVE /* Cortex-M55: the MVE kernel (mve_s8.h) */
  return piconas_depthwise_conv2d_inplace_mve_s8(ctx, params, quant, input_dims, filter_dims,
                                                 filter, bias, output_dims, data)
             ? PICONAS_S8_OK
             : PICONAS_S8_ERR_ARGUMENT;
#else
  piconas_depthwise_conv2d_inplace_dsp_run_s8(ctx, params, quant, input_dims, filter_dims, filter,
                                              bias, output_dims, data);
  return PICONAS_S8_OK;
#endif
}

int piconas_depthwise_conv2d_inplace_simd_s8(const piconas_s8_context *ctx,
                                             const piconas_dw_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!piconas_depthwise_conv2d_inplace_simd_applies(params, quant, bias, filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (dw_inplace_simd_run(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims,
                          data) != PICONAS_S8_OK) { /* Cortex-M55, a layer MVE does not fit */
    return piconas_depthwise_conv2d_inplace_generic_s8(ctx, params, quant, input_dims, filter_dims,
                                                       filter, bias, output_dims, data);
  }
  return PICONAS_S8_OK;
}

int piconas_depthwise_conv2d_inplace_simd_prechecked_s8(
    const piconas_s8_context *ctx, const piconas_dw_conv_params *params,
    const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
    const piconas_dims *filter_dims, const int8_t *filter, const int32_t *bias,
    const piconas_dims *output_dims, int8_t *data) {
  if (params == NULL || quant == NULL || input_dims == NULL || filter_dims == NULL ||
      filter == NULL || output_dims == NULL || data == NULL) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL ||
      ctx->size < piconas_depthwise_conv2d_inplace_s8_get_buffer_size(input_dims)) {
    return PICONAS_S8_ERR_BUFFER;
  }
  return dw_inplace_simd_run(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims,
                             data);
}

int piconas_depthwise_conv2d_inplace_simd_applies(const piconas_dw_conv_params *params,
                                                  const piconas_per_channel_quant_params *quant,
                                                  const int32_t *bias,
                                                  const piconas_dims *filter_dims) {
  return params != NULL && quant != NULL && quant->multiplier != NULL && quant->shift != NULL &&
         piconas_s8_dims_ok(filter_dims) && params->ch_mult == 1 && params->dilation.h == 1 &&
         params->dilation.w == 1 && filter_dims->h <= DW_INPLACE_MAX_K &&
         filter_dims->w <= DW_INPLACE_MAX_K &&
         piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, filter_dims->c,
                                  (int64_t)filter_dims->h * filter_dims->w);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
