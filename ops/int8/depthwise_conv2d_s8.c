/* int8 depthwise 2-D convolution (see depthwise_conv2d_s8.h). */
#include "depthwise_conv2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"

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

int piconas_depthwise_conv2d_s8(const piconas_dw_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const piconas_dims *output_dims,
                                int8_t *output) {
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  int32_t b, oy, ox, ic, m, ky, kx;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  {
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t mult = params->ch_mult;
    const int32_t offset = params->input_offset;
    for (b = 0; b < output_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * cin;
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky_begin, ky_end;
        piconas_s8_tap_range(iy0, params->dilation.h, filter_dims->h, input_dims->h, &ky_begin,
                             &ky_end);
        for (ox = 0; ox < output_dims->w; ++ox) {
          const int32_t ix0 = ox * params->stride.w - params->padding.w;
          int8_t *y = output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w + ox) * cout;
          int32_t kx_begin, kx_end;
          piconas_s8_tap_range(ix0, params->dilation.w, filter_dims->w, input_dims->w, &kx_begin,
                               &kx_end);
          for (ic = 0; ic < cin; ++ic) {
            for (m = 0; m < mult; ++m) {
              const int32_t oc = ic * mult + m;
              int32_t acc = bias != NULL ? bias[oc] : 0;
              for (ky = ky_begin; ky < ky_end; ++ky) {
                const int32_t iy = iy0 + ky * params->dilation.h;
                for (kx = kx_begin; kx < kx_end; ++kx) {
                  const int32_t ix = ix0 + kx * params->dilation.w;
                  const int32_t w = filter[((ptrdiff_t)ky * filter_dims->w + kx) * cout + oc];
                  const int32_t x = image[((ptrdiff_t)iy * input_dims->w + ix) * cin + ic];
                  acc += w * (x + offset);
                }
              }
              acc = piconas_multiply_by_quantized_multiplier(acc, quant->multiplier[oc],
                                                             quant->shift[oc]);
              y[oc] = piconas_s8_output(acc, params->output_offset, params->activation);
            }
          }
        }
      }
    }
  }
  return PICONAS_S8_OK;
}
