/* int8 depthwise 2-D convolution (see depthwise_conv2d_s8.h). */
#include "depthwise_conv2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "mve_s8.h"
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
  /* Checked first, so that the selection reads bias / multipliers of a valid layer only. */
  const int status = depthwise_check(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  if (piconas_depthwise_conv2d_simd_applies(params, quant, bias, filter_dims)) {
    return piconas_depthwise_conv2d_simd_s8(params, quant, input_dims, input, filter_dims, filter,
                                            bias, output_dims, output);
  }
#endif
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

#if PICONAS_S8_SIMD_AVAILABLE

/* ---- SIMD variant: channel multiplier 1 ----------------------------------------------------
 * One 32-bit load gives 4 channels of a tap; SXTAB16 widens channels (0, 2) or, with ROR #8,
 * (1, 3) to int16 pairs and adds the input offset in the same instruction; SXTB16 does the
 * same to the weights; SMLABB / SMLATT accumulate each channel. The interior of a 3x3 layer
 * (both pixels of a horizontal pair with their whole window in the image) runs in a
 * compile-time 3x3 body: two pixels x two channels per pass, every tap unrolled, eight
 * accumulators in registers, and each widened weight word serves both pixels. Border pixels
 * and other kernel sizes take one pixel x four channels over the in-image taps. The arguments
 * are passed as plain values: the int8 output stores could alias anything reached by pointer. */

#if defined(__GNUC__)
#define PICONAS_S8_NOINLINE static __attribute__((noinline))
#else
#define PICONAS_S8_NOINLINE static
#endif

typedef struct {
  const int32_t *bias;
  const int32_t *multiplier;
  const int32_t *shift;
  piconas_s8_out_stage out;
  int32_t channels; /* C */
  int32_t tap_dy;   /* bytes between kernel rows in the input: dilation.h * W * C */
  int32_t tap_dx;   /* bytes between kernel columns in the input: dilation.w * C */
  int32_t filter_w; /* KW */
  uint32_t offset2; /* input offset in both halfwords */
  int32_t offset;
} dw_simd_args;

static int8_t dw_out(int32_t acc, const dw_simd_args *a, int32_t c) {
  return piconas_s8_store(
      piconas_s8_requantize(acc, piconas_s8_requant_of(a->multiplier[c], a->shift[c])), a->out);
}

/* One output pixel, channels c_begin.., over taps [ky0, ky1) x [kx0, kx1); x points at tap (0, 0)
 * of the window (possibly outside the image: only in-image taps are read). */
PICONAS_S8_NOINLINE void dw_pixel(const dw_simd_args *a, const int8_t *x, const int8_t *w,
                                  int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                                  int32_t c_begin, int8_t *y) {
  const int32_t ch = a->channels, wrow = a->filter_w * ch;
  const int32_t tap_dy = a->tap_dy, tap_dx = a->tap_dx;
  const uint32_t off2 = a->offset2;
  const int32_t *bias = a->bias;
  int32_t c = c_begin, ky, kx;
  for (; c + 4 <= ch; c += 4) {
    int32_t acc0 = bias ? bias[c] : 0, acc1 = bias ? bias[c + 1] : 0;
    int32_t acc2 = bias ? bias[c + 2] : 0, acc3 = bias ? bias[c + 3] : 0;
    for (ky = ky0; ky < ky1; ++ky) {
      const int8_t *xr = x + ky * tap_dy + c;
      const int8_t *wr = w + ky * wrow + c;
      for (kx = kx0; kx < kx1; ++kx) {
        const uint32_t xv = piconas_read_s8x4(xr + kx * tap_dx);
        const uint32_t wv = piconas_read_s8x4(wr + kx * ch);
        const uint32_t x02 = piconas_sxtab16(off2, xv), x13 = piconas_sxtab16_ror8(off2, xv);
        const uint32_t w02 = piconas_sxtb16(wv), w13 = piconas_sxtb16_ror8(wv);
        acc0 = piconas_smlabb(x02, w02, acc0);
        acc1 = piconas_smlabb(x13, w13, acc1);
        acc2 = piconas_smlatt(x02, w02, acc2);
        acc3 = piconas_smlatt(x13, w13, acc3);
      }
    }
    y[c] = dw_out(acc0, a, c);
    y[c + 1] = dw_out(acc1, a, c + 1);
    y[c + 2] = dw_out(acc2, a, c + 2);
    y[c + 3] = dw_out(acc3, a, c + 3);
  }
  for (; c < ch; ++c) {
    int32_t acc = bias ? bias[c] : 0;
    for (ky = ky0; ky < ky1; ++ky) {
      for (kx = kx0; kx < kx1; ++kx) {
        acc += (int32_t)w[ky * wrow + kx * ch + c] *
               ((int32_t)x[ky * tap_dy + kx * tap_dx + c] + a->offset);
      }
    }
    y[c] = dw_out(acc, a, c);
  }
}

/* One tap of the 3x3 pair pass: channels (c, c+2) (odd = 0) or (c+1, c+3) (odd = 1) of
 * pixel u and pixel v; the weight at w. */
#define PICONAS_DW_TAP(xu, xv, wp)                                                         \
  do {                                                                                     \
    const uint32_t w_ = piconas_read_s8x4(wp);                                             \
    const uint32_t u_ = piconas_read_s8x4(xu), v_ = piconas_read_s8x4(xv);                 \
    const uint32_t ww_ = odd ? piconas_sxtb16_ror8(w_) : piconas_sxtb16(w_);               \
    const uint32_t uu_ = odd ? piconas_sxtab16_ror8(off2, u_) : piconas_sxtab16(off2, u_); \
    const uint32_t vv_ = odd ? piconas_sxtab16_ror8(off2, v_) : piconas_sxtab16(off2, v_); \
    u_lo = piconas_smlabb(uu_, ww_, u_lo);                                                 \
    u_hi = piconas_smlatt(uu_, ww_, u_hi);                                                 \
    v_lo = piconas_smlabb(vv_, ww_, v_lo);                                                 \
    v_hi = piconas_smlatt(vv_, ww_, v_hi);                                                 \
  } while (0)

#if defined(__GNUC__)
#define PICONAS_S8_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PICONAS_S8_ALWAYS_INLINE static inline
#endif

/* Channels (c + odd, c + 2 + odd) of a pair of output pixels of a 3x3 layer, both windows
 * inside the image: x0 / x1 point at tap (0, 0) of each window. */
PICONAS_S8_ALWAYS_INLINE void dw_pair_pass(const dw_simd_args *a, const int8_t *x0,
                                           const int8_t *x1, const int8_t *w, int32_t c, int odd,
                                           int8_t *y0, int8_t *y1) {
  const int32_t ch = a->channels, dy = a->tap_dy, dx = a->tap_dx;
  const uint32_t off2 = a->offset2;
  const int32_t c_lo = c + odd, c_hi = c + 2 + odd;
  const int8_t *u = x0 + c, *v = x1 + c, *k = w + c;
  int32_t u_lo = a->bias ? a->bias[c_lo] : 0, u_hi = a->bias ? a->bias[c_hi] : 0;
  int32_t v_lo = u_lo, v_hi = u_hi;
  piconas_s8_requant r;
  int32_t ky;
  for (ky = 0; ky < 3; ++ky) {
    PICONAS_DW_TAP(u, v, k);
    PICONAS_DW_TAP(u + dx, v + dx, k + ch);
    PICONAS_DW_TAP(u + 2 * dx, v + 2 * dx, k + 2 * ch);
    u += dy;
    v += dy;
    k += 3 * ch;
  }
  r = piconas_s8_requant_of(a->multiplier[c_lo], a->shift[c_lo]);
  y0[c_lo] = piconas_s8_store(piconas_s8_requantize(u_lo, r), a->out);
  y1[c_lo] = piconas_s8_store(piconas_s8_requantize(v_lo, r), a->out);
  r = piconas_s8_requant_of(a->multiplier[c_hi], a->shift[c_hi]);
  y0[c_hi] = piconas_s8_store(piconas_s8_requantize(u_hi, r), a->out);
  y1[c_hi] = piconas_s8_store(piconas_s8_requantize(v_hi, r), a->out);
}

PICONAS_S8_NOINLINE void dw_pair_3x3(const dw_simd_args *a, const int8_t *x0, const int8_t *x1,
                                     const int8_t *w, int8_t *y0, int8_t *y1) {
  const dw_simd_args s = *a;
  int32_t c;
  for (c = 0; c + 4 <= s.channels; c += 4) {
    dw_pair_pass(&s, x0, x1, w, c, 0, y0, y1);
    dw_pair_pass(&s, x0, x1, w, c, 1, y0, y1);
  }
  if (c < s.channels) {
    dw_pixel(a, x0, w, 0, 3, 0, 3, c, y0);
    dw_pixel(a, x1, w, 0, 3, 0, 3, c, y1);
  }
}

/* One output row: interior pixel pairs of 3x3 layers in dw_pair_3x3, the rest alone. */
static void dw_row(const dw_simd_args *a, const piconas_dw_conv_params *p, const piconas_dims *in,
                   const piconas_dims *out, const int8_t *xrow, const int8_t *w, int32_t kh,
                   int32_t kw, int32_t ky0, int32_t ky1, int8_t *y) {
  const int32_t ch = a->channels;
  const int32_t step = p->stride.w * ch;
  const int pairs = kh == 3 && kw == 3 && ky0 == 0 && ky1 == 3;
  int32_t ox = 0;
  while (ox < out->w) {
    const int32_t ix0 = ox * p->stride.w - p->padding.w;
    const int8_t *x = xrow + (ptrdiff_t)ix0 * ch;
    int32_t kx0, kx1;
    piconas_s8_tap_range(ix0, p->dilation.w, kw, in->w, &kx0, &kx1);
    if (pairs && kx0 == 0 && kx1 == 3 && ox + 1 < out->w &&
        (int64_t)ix0 + p->stride.w + 2 * (int64_t)p->dilation.w < in->w) {
      dw_pair_3x3(a, x, x + step, w, y, y + ch);
      y += 2 * ch;
      ox += 2;
    } else {
      dw_pixel(a, x, w, ky0, ky1, kx0, kx1, 0, y);
      y += ch;
      ox += 1;
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
  int32_t b, oy;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!piconas_depthwise_conv2d_simd_applies(params, quant, bias, filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
#if PICONAS_S8_MVE
  piconas_depthwise_conv2d_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                                  output_dims, output);
  return PICONAS_S8_OK;
#endif
  a.bias = bias;
  a.multiplier = quant->multiplier;
  a.shift = quant->shift;
  a.out = piconas_s8_out_stage_of(params->output_offset, params->activation);
  a.channels = input_dims->c;
  a.tap_dy = params->dilation.h * input_dims->w * input_dims->c;
  a.tap_dx = params->dilation.w * input_dims->c;
  a.filter_w = filter_dims->w;
  a.offset2 = piconas_dup16(params->input_offset);
  a.offset = params->input_offset;
  for (b = 0; b < output_dims->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c;
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      int32_t ky0, ky1;
      int8_t *y = output + ((ptrdiff_t)b * output_dims->h + oy) * output_dims->w * a.channels;
      piconas_s8_tap_range(iy0, params->dilation.h, filter_dims->h, input_dims->h, &ky0, &ky1);
      dw_row(&a, params, input_dims, output_dims,
             image + (ptrdiff_t)iy0 * input_dims->w * input_dims->c, filter, filter_dims->h,
             filter_dims->w, ky0, ky1, y);
    }
  }
  return PICONAS_S8_OK;
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
