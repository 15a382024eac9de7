/* int8 2-D convolution (see conv2d_s8.h). */
#include "conv2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"

/* Shape and parameter checks shared by both variants. */
static int conv_check(const piconas_conv_params *p, const piconas_per_channel_quant_params *q,
                      const piconas_dims *in, const int8_t *input, const piconas_dims *f,
                      const int8_t *filter, const int32_t *bias, const piconas_dims *out,
                      const int8_t *output) {
  if (p == NULL || input == NULL || filter == NULL || output == NULL || !piconas_s8_dims_ok(in) ||
      !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || in->n != out->n || f->c != in->c ||
      f->n != out->c || !piconas_s8_tile_ok(p->stride, 1) || !piconas_s8_tile_ok(p->dilation, 1) ||
      !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(q, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return piconas_s8_accumulator_ok(bias, f->n, (int64_t)f->h * f->w * f->c);
}

/* The 1x1 path applies: 1x1 kernel, no padding, every window inside the image. */
static int conv_is_1x1(const piconas_conv_params *p, const piconas_dims *in, const piconas_dims *f,
                       const piconas_dims *out) {
  return f->h == 1 && f->w == 1 && p->padding.h == 0 && p->padding.w == 0 &&
         (int64_t)(out->h - 1) * p->stride.h < in->h && (int64_t)(out->w - 1) * p->stride.w < in->w;
}

static int32_t conv_1x1_buffer_size(const piconas_dims *in) {
  return (int32_t)(2 * (int64_t)in->c * (int64_t)sizeof(int16_t));
}

static int32_t conv_generic_buffer_size(const piconas_dims *f) {
  return (int32_t)((int64_t)f->h * f->w * f->c * (int64_t)sizeof(int16_t));
}

int32_t piconas_conv2d_s8_get_buffer_size(const piconas_conv_params *params,
                                          const piconas_dims *input_dims,
                                          const piconas_dims *filter_dims,
                                          const piconas_dims *output_dims) {
  if (params == NULL || !piconas_s8_dims_ok(input_dims) || !piconas_s8_dims_ok(filter_dims) ||
      !piconas_s8_dims_ok(output_dims) ||
      (int64_t)filter_dims->h * filter_dims->w * filter_dims->c > PICONAS_S8_MAX_MACS) {
    return -1;
  }
  if (conv_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return conv_1x1_buffer_size(input_dims);
  }
  return conv_generic_buffer_size(filter_dims);
}

int piconas_conv2d_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  if (params != NULL && piconas_s8_dims_ok(input_dims) && piconas_s8_dims_ok(filter_dims) &&
      piconas_s8_dims_ok(output_dims) &&
      conv_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return piconas_conv2d_1x1_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                 output_dims, output);
  }
  return piconas_conv2d_generic_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                                   output_dims, output);
}

/* The input pixel under output pixel index p (over n, oy, ox) of the 1x1 path. */
static const int8_t *conv_1x1_pixel(const int8_t *input, const piconas_dims *in,
                                    const piconas_dims *out, const piconas_conv_params *prm,
                                    int32_t p) {
  const int32_t plane = out->h * out->w;
  const int32_t b = p / plane;
  const int32_t oy = (p - b * plane) / out->w;
  const int32_t ox = p - b * plane - oy * out->w;
  return input + (((ptrdiff_t)b * in->h + oy * prm->stride.h) * in->w + ox * prm->stride.w) * in->c;
}

int piconas_conv2d_1x1_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                          const piconas_per_channel_quant_params *quant,
                          const piconas_dims *input_dims, const int8_t *input,
                          const piconas_dims *filter_dims, const int8_t *filter,
                          const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  const int status =
      conv_check(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
  int32_t p, oc, ci;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!conv_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < conv_1x1_buffer_size(input_dims) ||
      ((uintptr_t)ctx->buf & 1u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
  {
    /* Two output pixels at a time: their inputs (x + offset) as int16 in the scratch, then each
     * filter row is loaded once for both. */
    int16_t *x0 = (int16_t *)ctx->buf;
    int16_t *x1 = x0 + input_dims->c;
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
    for (p = 0; p < pixels; p += 2) {
      const int pair = p + 1 < pixels;
      const int8_t *src0 = conv_1x1_pixel(input, input_dims, output_dims, params, p);
      const int8_t *src1 =
          pair ? conv_1x1_pixel(input, input_dims, output_dims, params, p + 1) : src0;
      int8_t *y0 = output + (ptrdiff_t)p * cout;
      for (ci = 0; ci < cin; ++ci) {
        x0[ci] = (int16_t)((int32_t)src0[ci] + params->input_offset);
        x1[ci] = (int16_t)((int32_t)src1[ci] + params->input_offset);
      }
      for (oc = 0; oc < cout; ++oc) {
        const int8_t *w = filter + (ptrdiff_t)oc * cin;
        int32_t acc0 = bias != NULL ? bias[oc] : 0;
        int32_t acc1 = acc0;
        for (ci = 0; ci < cin; ++ci) {
          const int32_t wv = w[ci];
          acc0 += wv * x0[ci];
          acc1 += wv * x1[ci];
        }
        acc0 =
            piconas_multiply_by_quantized_multiplier(acc0, quant->multiplier[oc], quant->shift[oc]);
        y0[oc] = piconas_s8_output(acc0, params->output_offset, params->activation);
        if (pair) {
          acc1 = piconas_multiply_by_quantized_multiplier(acc1, quant->multiplier[oc],
                                                          quant->shift[oc]);
          y0[cout + oc] = piconas_s8_output(acc1, params->output_offset, params->activation);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

/* im2col of the window of one output pixel into col (KH*KW*C_in int16 values of x + offset);
 * taps outside the image are 0, which is the same as skipping them. */
static void conv_fill_column(int16_t *col, const int8_t *image, const piconas_dims *in,
                             const piconas_dims *f, const piconas_conv_params *p, int32_t iy0,
                             int32_t ix0) {
  int32_t ky_begin, ky_end, kx_begin, kx_end, ky, kx, ci;
  const int32_t cin = in->c;
  piconas_s8_tap_range(iy0, p->dilation.h, f->h, in->h, &ky_begin, &ky_end);
  piconas_s8_tap_range(ix0, p->dilation.w, f->w, in->w, &kx_begin, &kx_end);
  for (ky = 0; ky < f->h; ++ky) {
    for (kx = 0; kx < f->w; ++kx) {
      int16_t *dst = col + ((ptrdiff_t)ky * f->w + kx) * cin;
      if (ky >= ky_begin && ky < ky_end && kx >= kx_begin && kx < kx_end) {
        const int8_t *src =
            image +
            ((ptrdiff_t)(iy0 + ky * p->dilation.h) * in->w + (ix0 + kx * p->dilation.w)) * cin;
        for (ci = 0; ci < cin; ++ci) {
          dst[ci] = (int16_t)((int32_t)src[ci] + p->input_offset);
        }
      } else {
        for (ci = 0; ci < cin; ++ci) {
          dst[ci] = 0;
        }
      }
    }
  }
}

int piconas_conv2d_generic_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                              const piconas_per_channel_quant_params *quant,
                              const piconas_dims *input_dims, const int8_t *input,
                              const piconas_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const piconas_dims *output_dims,
                              int8_t *output) {
  const int status =
      conv_check(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
  int32_t b, oy, ox, oc, k;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < conv_generic_buffer_size(filter_dims) ||
      ((uintptr_t)ctx->buf & 1u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
  {
    int16_t *col = (int16_t *)ctx->buf;
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t cout = output_dims->c;
    for (b = 0; b < output_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c;
      for (oy = 0; oy < output_dims->h; ++oy) {
        for (ox = 0; ox < output_dims->w; ++ox) {
          int8_t *y = output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w + ox) * cout;
          conv_fill_column(col, image, input_dims, filter_dims, params,
                           oy * params->stride.h - params->padding.h,
                           ox * params->stride.w - params->padding.w);
          for (oc = 0; oc < cout; ++oc) {
            const int8_t *w = filter + (ptrdiff_t)oc * depth;
            int32_t acc = bias != NULL ? bias[oc] : 0;
            for (k = 0; k < depth; ++k) {
              acc += (int32_t)w[k] * (int32_t)col[k];
            }
            acc = piconas_multiply_by_quantized_multiplier(acc, quant->multiplier[oc],
                                                           quant->shift[oc]);
            y[oc] = piconas_s8_output(acc, params->output_offset, params->activation);
          }
        }
      }
    }
  }
  return PICONAS_S8_OK;
}
