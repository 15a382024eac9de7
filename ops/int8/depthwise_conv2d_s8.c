/* int8 depthwise 2-D convolution (see depthwise_conv2d_s8.h). */
#include "depthwise_conv2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"
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

int piconas_depthwise_conv2d_s8(const piconas_dw_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const piconas_dims *output_dims,
                                int8_t *output) {
  if (params != NULL && params->ch_mult == 1 && quant != NULL && quant->multiplier != NULL &&
      piconas_s8_dims_ok(output_dims) &&
      piconas_s8_fast_multipliers(quant->multiplier, output_dims->c)) {
    return piconas_depthwise_conv2d_simd_s8(params, quant, input_dims, input, filter_dims, filter,
                                            bias, output_dims, output);
  }
  return piconas_depthwise_conv2d_generic_s8(params, quant, input_dims, input, filter_dims, filter,
                                             bias, output_dims, output);
}

int piconas_depthwise_conv2d_generic_s8(const piconas_dw_conv_params *params,
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

/* ---- SIMD variant: channel multiplier 1 ----------------------------------------------------
 * Four channels per step: one 32-bit load of 4 input bytes and one of 4 weight bytes per tap;
 * SXTAB16 adds the input offset while widening (channels 0,2 and 1,3 as int16 pairs) and
 * SMLABB/SMLATT accumulate the four channels. Two horizontally adjacent output pixels whose
 * windows lie fully inside the image share each widened weight word (the interior of every
 * 3x3 layer, a compile-time 3x3 instance whose tap loops unroll); border pixels and other
 * kernel sizes run one pixel at a time over their in-image taps. */

#if defined(__GNUC__)
#define PICONAS_S8_ALWAYS_INLINE static inline __attribute__((always_inline))
#define PICONAS_S8_NOINLINE static __attribute__((noinline))
#else
#define PICONAS_S8_ALWAYS_INLINE static inline
#define PICONAS_S8_NOINLINE static
#endif

typedef struct {
  const int32_t *bias;
  const int32_t *multiplier;
  const int32_t *shift;
  piconas_s8_out_stage out;
  int32_t channels;   /* C */
  int32_t row_stride; /* bytes between input rows: W * C */
  int32_t tap_dy;     /* bytes between kernel rows in the input: dilation.h * W * C */
  int32_t tap_dx;     /* bytes between kernel columns in the input: dilation.w * C */
  int32_t filter_w;   /* KW */
  uint32_t offset2;   /* input offset in both halfwords */
  int32_t offset;
} dw_simd_args;

/* Requantizes 4 accumulators of channels c.. (and a second pixel's, when q != 0) into y0 / y1.
 * The arguments are plain values: the int8 stores could alias anything reached by pointer. */
PICONAS_S8_ALWAYS_INLINE void dw_store4(const int32_t *multiplier, const int32_t *shift,
                                        piconas_s8_out_stage out, int32_t c, const int32_t *p,
                                        const int32_t *q, int8_t *y0, int8_t *y1) {
  int i;
  for (i = 0; i < 4; ++i) {
    const int32_t m = multiplier[c + i], sh = shift[c + i];
    y0[c + i] = piconas_s8_store(piconas_mbqm_fast(p[i], m, sh), out);
    if (q) {
      y1[c + i] = piconas_s8_store(piconas_mbqm_fast(q[i], m, sh), out);
    }
  }
}

/* One output pixel (the border: one out-of-line copy keeps the code small), taps ky in [ky0, ky1), kx in [kx0, kx1); x points at tap (0, 0) of the
 * window (possibly outside the image: only in-image taps are dereferenced). */
PICONAS_S8_NOINLINE void dw_pixel(const dw_simd_args *a, const int8_t *x, const int8_t *w,
                                       int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                                       int8_t *y) {
  const dw_simd_args s = *a;
  const int32_t ch = s.channels;
  const int32_t wrow = s.filter_w * ch;
  int32_t c = 0, ky, kx;
  for (; c + 4 <= ch; c += 4) {
    int32_t acc[4];
    acc[0] = s.bias ? s.bias[c] : 0;
    acc[1] = s.bias ? s.bias[c + 1] : 0;
    acc[2] = s.bias ? s.bias[c + 2] : 0;
    acc[3] = s.bias ? s.bias[c + 3] : 0;
    for (ky = ky0; ky < ky1; ++ky) {
      const int8_t *xr = x + ky * s.tap_dy + c;
      const int8_t *wr = w + ky * wrow + c;
      for (kx = kx0; kx < kx1; ++kx) {
        const uint32_t xv = piconas_read_s8x4(xr + kx * s.tap_dx);
        const uint32_t wv = piconas_read_s8x4(wr + kx * ch);
        const uint32_t x02 = piconas_sxtab16(s.offset2, xv);
        const uint32_t x13 = piconas_sxtab16_ror8(s.offset2, xv);
        const uint32_t w02 = piconas_sxtb16(wv);
        const uint32_t w13 = piconas_sxtb16_ror8(wv);
        acc[0] = piconas_smlabb(x02, w02, acc[0]);
        acc[1] = piconas_smlabb(x13, w13, acc[1]);
        acc[2] = piconas_smlatt(x02, w02, acc[2]);
        acc[3] = piconas_smlatt(x13, w13, acc[3]);
      }
    }
    dw_store4(s.multiplier, s.shift, s.out, c, acc, 0, y, 0);
  }
  for (; c < ch; ++c) {
    int32_t acc = s.bias ? s.bias[c] : 0;
    for (ky = ky0; ky < ky1; ++ky) {
      for (kx = kx0; kx < kx1; ++kx) {
        acc += (int32_t)w[ky * wrow + kx * ch + c] *
               ((int32_t)x[ky * s.tap_dy + kx * s.tap_dx + c] + s.offset);
      }
    }
    y[c] = piconas_s8_store(piconas_mbqm_fast(acc, s.multiplier[c], s.shift[c]), s.out);
  }
}

/* Two output pixels with full windows: x0 and x1 point at tap (0, 0) of each; kh x kw taps. */
PICONAS_S8_ALWAYS_INLINE void dw_pixel_pair(const dw_simd_args *a, const int8_t *x0,
                                            const int8_t *x1, const int8_t *w, int32_t kh,
                                            int32_t kw, int8_t *y0, int8_t *y1) {
  const dw_simd_args s = *a;
  const int32_t ch = s.channels;
  const int32_t wrow = kw * ch;
  int32_t c = 0, ky, kx;
  for (; c + 4 <= ch; c += 4) {
    int32_t p[4], q[4];
    p[0] = q[0] = s.bias ? s.bias[c] : 0;
    p[1] = q[1] = s.bias ? s.bias[c + 1] : 0;
    p[2] = q[2] = s.bias ? s.bias[c + 2] : 0;
    p[3] = q[3] = s.bias ? s.bias[c + 3] : 0;
    for (ky = 0; ky < kh; ++ky) {
      const int8_t *xr0 = x0 + ky * s.tap_dy + c;
      const int8_t *xr1 = x1 + ky * s.tap_dy + c;
      const int8_t *wr = w + ky * wrow + c;
      for (kx = 0; kx < kw; ++kx) {
        const uint32_t wv = piconas_read_s8x4(wr + kx * ch);
        const uint32_t w02 = piconas_sxtb16(wv);
        const uint32_t w13 = piconas_sxtb16_ror8(wv);
        const uint32_t u = piconas_read_s8x4(xr0 + kx * s.tap_dx);
        const uint32_t v = piconas_read_s8x4(xr1 + kx * s.tap_dx);
        const uint32_t u02 = piconas_sxtab16(s.offset2, u);
        const uint32_t u13 = piconas_sxtab16_ror8(s.offset2, u);
        const uint32_t v02 = piconas_sxtab16(s.offset2, v);
        const uint32_t v13 = piconas_sxtab16_ror8(s.offset2, v);
        p[0] = piconas_smlabb(u02, w02, p[0]);
        p[2] = piconas_smlatt(u02, w02, p[2]);
        p[1] = piconas_smlabb(u13, w13, p[1]);
        p[3] = piconas_smlatt(u13, w13, p[3]);
        q[0] = piconas_smlabb(v02, w02, q[0]);
        q[2] = piconas_smlatt(v02, w02, q[2]);
        q[1] = piconas_smlabb(v13, w13, q[1]);
        q[3] = piconas_smlatt(v13, w13, q[3]);
      }
    }
    dw_store4(s.multiplier, s.shift, s.out, c, p, q, y0, y1);
  }
  if (c < ch) {
    dw_pixel(a, x0, w, 0, kh, 0, kw, y0);
    dw_pixel(a, x1, w, 0, kh, 0, kw, y1);
  }
}

/* The 3x3 instance of the pair: constant taps, fully unrolled. */
PICONAS_S8_NOINLINE void dw_pixel_pair_3x3(const dw_simd_args *a, const int8_t *x0,
                                           const int8_t *x1, const int8_t *w, int8_t *y0,
                                           int8_t *y1) {
  dw_pixel_pair(a, x0, x1, w, 3, 3, y0, y1);
}

/* One output row: border pixels alone, interior pixels of 3x3 kernels in pairs. */
static void dw_row(const dw_simd_args *a, const piconas_dw_conv_params *p,
                                     const piconas_dims *in, const piconas_dims *out,
                                     const int8_t *xrow, const int8_t *w, int32_t kh, int32_t kw,
                                     int32_t ky0, int32_t ky1, int8_t *y) {
  const int32_t ch = a->channels;
  const int32_t step = p->stride.w * ch;
  const int full_rows = ky0 == 0 && ky1 == kh;
  int32_t ox = 0;
  while (ox < out->w) {
    const int32_t ix0 = ox * p->stride.w - p->padding.w;
    const int8_t *x = xrow + (ptrdiff_t)ix0 * ch;
    int32_t kx0, kx1;
    piconas_s8_tap_range(ix0, p->dilation.w, kw, in->w, &kx0, &kx1);
    if (kh == 3 && kw == 3 && full_rows && kx0 == 0 && kx1 == kw && ox + 1 < out->w &&
        (int64_t)ix0 + p->stride.w + (int64_t)(kw - 1) * p->dilation.w < in->w) {
      dw_pixel_pair_3x3(a, x, x + step, w, y, y + ch);
      y += 2 * ch;
      ox += 2;
    } else {
      dw_pixel(a, x, w, ky0, ky1, kx0, kx1, y);
      y += ch;
      ox += 1;
    }
  }
}

static void dw_simd_body(const dw_simd_args *a, const piconas_dw_conv_params *p,
                                           const piconas_dims *in, const int8_t *input,
                                           const int8_t *filter, const piconas_dims *out,
                                           int8_t *output, int32_t kh, int32_t kw) {
  int32_t b, oy;
  for (b = 0; b < out->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * in->h * a->row_stride;
    for (oy = 0; oy < out->h; ++oy) {
      const int32_t iy0 = oy * p->stride.h - p->padding.h;
      int32_t ky0, ky1;
      int8_t *y = output + ((ptrdiff_t)b * out->h + oy) * out->w * a->channels;
      piconas_s8_tap_range(iy0, p->dilation.h, kh, in->h, &ky0, &ky1);
      dw_row(a, p, in, out, image + (ptrdiff_t)iy0 * a->row_stride, filter, kh, kw, ky0, ky1, y);
    }
  }
}

int piconas_depthwise_conv2d_simd_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  dw_simd_args a;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (params->ch_mult != 1 || !piconas_s8_fast_multipliers(quant->multiplier, output_dims->c)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  a.bias = bias;
  a.multiplier = quant->multiplier;
  a.shift = quant->shift;
  a.out = piconas_s8_out_stage_of(params->output_offset, params->activation);
  a.channels = input_dims->c;
  a.row_stride = input_dims->w * input_dims->c;
  a.tap_dy = params->dilation.h * a.row_stride;
  a.tap_dx = params->dilation.w * input_dims->c;
  a.filter_w = filter_dims->w;
  a.offset2 = piconas_dup16(params->input_offset);
  a.offset = params->input_offset;
  dw_simd_body(&a, params, input_dims, input, filter, output_dims, output, filter_dims->h,
               filter_dims->w);
  return PICONAS_S8_OK;
}
