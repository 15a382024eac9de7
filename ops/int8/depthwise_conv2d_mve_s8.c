/* int8 depthwise convolution (M = 1) with MVE (Cortex-M55), see mve_s8.h. */
#include "mve_s8.h"

#if PICONAS_S8_MVE

#include <stddef.h>

#include "int8_checks.h"

typedef struct {
  const piconas_dw_conv_params *params;
  const piconas_dims *in;
  const piconas_dims *f;
  const piconas_dims *out;
  const int8_t *input;
  const int8_t *filter;
  int8_t *output;
} dw_mve_layer;

/* 4 bytes at p widened to int32 lanes; the last, partial channel group loads
 * only its lanes. */
#define DW_MVE_LOAD(p) (tail ? vldrbq_z_s32((p), lanes) : vldrbq_s32(p))

/* ... stored: only the group's lanes for the last, partial group. */
#define DW_MVE_STORE(p, v) (tail ? vstrbq_p_s32((p), (v), lanes) : vstrbq_s32((p), (v)))

/* Tap (ky, kx) of the pixel whose tap (0, 0) is x: acc += x * w. */
#define DW_MVE_TAP(acc, x, ky, kx) \
  acc = vaddq_s32(                 \
      acc, vmulq_s32(DW_MVE_LOAD((x) + (ky)*dy + (kx)*dx), vldrbq_s32(w + 4 * (3 * (ky) + (kx)))))

/* n consecutive output pixels of a 3x3 layer whose windows lie inside the image, two per step
 * (each weight load serves both): x is tap (0, 0) of the first, step the input distance
 * between two pixels, w the group's packed weights (4 bytes per tap). */
static inline __attribute__((always_inline)) void dw_mve_3x3_run(
    const int8_t *x, ptrdiff_t step, ptrdiff_t dx, ptrdiff_t dy, int8_t *y, int32_t C, int32_t n,
    const int8_t *w, int32x4_t full, piconas_mve_requant r, int32_t out_offset,
    piconas_activation act, mve_pred16_t lanes, int tail) {
  for (; n >= 2; n -= 2, x += 2 * step, y += 2 * C) {
    const int8_t *x1 = x + step;
    int32x4_t a0 = full, a1 = full;
    int32_t ky, kx;
    for (ky = 0; ky < 3; ++ky) {
      for (kx = 0; kx < 3; ++kx) {
        const int32x4_t wv = vldrbq_s32(w + 4 * (3 * ky + kx));
        const ptrdiff_t o = ky * dy + kx * dx;
        a0 = vaddq_s32(a0, vmulq_s32(DW_MVE_LOAD(x + o), wv));
        a1 = vaddq_s32(a1, vmulq_s32(DW_MVE_LOAD(x1 + o), wv));
      }
    }
    DW_MVE_STORE(y, piconas_mve_output(piconas_mve_requantize(a0, r), out_offset, act));
    DW_MVE_STORE(y + C, piconas_mve_output(piconas_mve_requantize(a1, r), out_offset, act));
  }
  if (n == 1) {
    int32x4_t acc = full;
    DW_MVE_TAP(acc, x, 0, 0);
    DW_MVE_TAP(acc, x, 0, 1);
    DW_MVE_TAP(acc, x, 0, 2);
    DW_MVE_TAP(acc, x, 1, 0);
    DW_MVE_TAP(acc, x, 1, 1);
    DW_MVE_TAP(acc, x, 1, 2);
    DW_MVE_TAP(acc, x, 2, 0);
    DW_MVE_TAP(acc, x, 2, 1);
    DW_MVE_TAP(acc, x, 2, 2);
    DW_MVE_STORE(y, piconas_mve_output(piconas_mve_requantize(acc, r), out_offset, act));
  }
}

/* Channels c..c+3 of every output pixel. Per channel group the requantization
 * constants and full = bias + input_offset * (sum of all taps' weights) are
 * computed once; a pixel whose window lies inside the image then needs one VMUL
 * + VADD per tap (MVE has no vector-by-vector multiply-accumulate) on the raw
 * int8 values, a pixel at the border adds the offset to each valid tap instead
 * (skipped taps contribute nothing). */
static inline __attribute__((always_inline)) void dw_mve_group(const dw_mve_layer *l, int32_t c,
                                                               mve_pred16_t lanes, int tail,
                                                               const int32_t *multiplier,
                                                               const int32_t *shift,
                                                               const int32_t *bias) {
  const piconas_dw_conv_params *p = l->params;
  const int32_t C = l->in->c, KH = l->f->h, KW = l->f->w;
  const ptrdiff_t dy = (ptrdiff_t)p->dilation.h * l->in->w * C, dx = (ptrdiff_t)p->dilation.w * C;
  const int32_t offset = p->input_offset;
  const piconas_mve_requant r = piconas_mve_requant_of(multiplier + c, shift + c, lanes);
  const int32x4_t bias_v = bias != NULL ? vldrwq_z_s32(bias + c, lanes) : vdupq_n_s32(0);
  /* Output columns whose window lies inside the image's width: [ox_lo, ox_hi). */
  const int32_t ox_lo = (p->padding.w + p->stride.w - 1) / p->stride.w;
  const int32_t last = l->in->w - 1 + p->padding.w - (KW - 1) * p->dilation.w;
  const int32_t ox_hi = last < 0 ? 0 : last / p->stride.w + 1;
  const int32_t ox_end = ox_hi < l->out->w ? ox_hi : l->out->w;
  const int32_t out_offset = p->output_offset;
  const piconas_activation act = p->activation;
  const int is3x3 = KH == 3 && KW == 3;
  int32x4_t sum = vdupq_n_s32(0), full;
  /* The 3x3 taps' weights of the group, 4 bytes per tap (zero beyond the last channel): one
   * load with an immediate offset each. */
  int8_t w3x3[36];
  int32_t t, b, oy, ox, ky, kx;
  for (t = 0; t < KH * KW; ++t) sum = vaddq_s32(sum, DW_MVE_LOAD(l->filter + (ptrdiff_t)t * C + c));
  full = vmlaq_n_s32(bias_v, sum, offset);
  for (t = 0; t < 36 && is3x3; ++t) {
    w3x3[t] = (t & 3) < C - c ? l->filter[(ptrdiff_t)(t >> 2) * C + c + (t & 3)] : 0;
  }
  for (b = 0; b < l->out->n; ++b) {
    const int8_t *image = l->input + (ptrdiff_t)b * l->in->h * l->in->w * C + c;
    for (oy = 0; oy < l->out->h; ++oy) {
      const int32_t iy0 = oy * p->stride.h - p->padding.h;
      int32_t ky0, ky1;
      int8_t *y = l->output + ((ptrdiff_t)b * l->out->h + oy) * l->out->w * C + c;
      piconas_s8_tap_range(iy0, p->dilation.h, KH, l->in->h, &ky0, &ky1);
      for (ox = 0; ox < l->out->w; ++ox, y += C) {
        const int32_t ix0 = ox * p->stride.w - p->padding.w;
        /* Index of tap (0, 0), outside the image at the border: only valid taps are read. */
        const ptrdiff_t at = ((ptrdiff_t)iy0 * l->in->w + ix0) * C;
        const int8_t *x = image;
        int32x4_t acc;
        if (ky0 == 0 && ky1 == KH && ox == ox_lo && ox_end > ox_lo && is3x3) {
          dw_mve_3x3_run(image + at, (ptrdiff_t)p->stride.w * C, dx, dy, y, C, ox_end - ox_lo, w3x3,
                         full, r, out_offset, act, lanes, tail);
          y += (ptrdiff_t)(ox_end - 1 - ox) * C;
          ox = ox_end - 1;
          continue;
        } else if (ky0 == 0 && ky1 == KH && ox >= ox_lo && ox < ox_end) {
          const int8_t *w = l->filter + c;
          x += at;
          acc = full;
          for (ky = 0; ky < KH; ++ky, x += dy) {
            const int8_t *xt = x;
            for (kx = 0; kx < KW; ++kx, xt += dx, w += C) {
              acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(xt), DW_MVE_LOAD(w)));
            }
          }
        } else {
          int32_t kx0, kx1;
          piconas_s8_tap_range(ix0, p->dilation.w, KW, l->in->w, &kx0, &kx1);
          acc = bias_v;
          for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *xt = x + (at + ky * dy + kx0 * dx);
            const int8_t *w = l->filter + ((ptrdiff_t)ky * KW + kx0) * C + c;
            for (kx = kx0; kx < kx1; ++kx, xt += dx, w += C) {
              acc = vaddq_s32(acc, vmulq_s32(vaddq_n_s32(DW_MVE_LOAD(xt), offset), DW_MVE_LOAD(w)));
            }
          }
        }
        DW_MVE_STORE(y, piconas_mve_output(piconas_mve_requantize(acc, r), out_offset, act));
      }
    }
  }
}

/* The channel-group loops above over every channel (a frame of its own, not live while the
 * window kernel runs). */
static __attribute__((noinline)) void dw_mve_channels(
    const piconas_dw_conv_params *params, const piconas_per_channel_quant_params *quant,
    const piconas_dims *input_dims, const int8_t *input, const piconas_dims *filter_dims,
    const int8_t *filter, const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  const dw_mve_layer l = {params, input_dims, filter_dims, output_dims, input, filter, output};
  const int32_t C = input_dims->c, full_groups = C & ~3;
  int32_t c;
  for (c = 0; c < full_groups; c += 4) {
    dw_mve_group(&l, c, vctp32q(4), 0, quant->multiplier, quant->shift, bias);
  }
  if (c < C) {
    dw_mve_group(&l, c, vctp32q((uint32_t)(C - c)), 1, quant->multiplier, quant->shift, bias);
  }
}

void piconas_depthwise_conv2d_mve_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
  /* Small images: window gathers over a padded plane (depthwise_conv2d_window_mve_s8.c). */
  if (!piconas_depthwise_conv2d_window_mve_s8(params, quant, input_dims, input, filter_dims, filter,
                                              bias, output_dims, output)) {
    dw_mve_channels(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                    output);
  }
}

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_depthwise_conv2d_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
