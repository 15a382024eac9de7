/* int8 in-place depthwise 2-D convolution (see depthwise_conv2d_inplace_s8.h). */
#include "depthwise_conv2d_inplace_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "mve_s8.h"
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

int piconas_depthwise_conv2d_inplace_s8(const piconas_s8_context *ctx,
                                        const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  int32_t c, i, oy, ox, ky, kx;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  {
    const int32_t channels = input_dims->c;
    const int32_t pixels = input_dims->h * input_dims->w;
    const int32_t offset = params->input_offset;
    int8_t *plane = (int8_t *)ctx->buf; /* input channel c, [H, W] */
    /* On Cortex-M55 the MVE kernel computes every pixel when its requantization is exact. */
#if PICONAS_S8_MVE
    const int use_mve = piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, channels,
                                                 (int64_t)filter_dims->h * filter_dims->w);
#endif
    for (c = 0; c < channels; ++c) {
#if PICONAS_S8_MVE
      if (use_mve) {
        piconas_mve_channel_plane(data, channels, c, pixels, plane);
        piconas_depthwise_conv2d_inplace_mve_s8(params, quant, input_dims, filter_dims, filter,
                                                bias, output_dims, plane, c, data);
        continue;
      }
#endif
      for (i = 0; i < pixels; ++i) {
        plane[i] = data[(ptrdiff_t)i * channels + c];
      }
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
          acc =
              piconas_multiply_by_quantized_multiplier(acc, quant->multiplier[c], quant->shift[c]);
          data[((ptrdiff_t)oy * output_dims->w + ox) * channels + c] =
              piconas_s8_output(acc, params->output_offset, params->activation);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}
