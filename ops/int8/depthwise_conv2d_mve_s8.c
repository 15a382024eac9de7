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
  const int is3x3 = KH == 3 && KW == 3;
  int32x4_t sum = vdupq_n_s32(0), full;
  int32x4_t w0 = sum, w1 = sum, w2 = sum, w3 = sum, w4 = sum, w5 = sum, w6 = sum, w7 = sum,
            w8 = sum; /* the 3x3 taps' weights, kept for the whole channel group */
  int32_t t, b, oy, ox, ky, kx;
  for (t = 0; t < KH * KW; ++t) sum = vaddq_s32(sum, DW_MVE_LOAD(l->filter + (ptrdiff_t)t * C + c));
  full = vmlaq_n_s32(bias_v, sum, offset);
  if (is3x3) {
    const int8_t *w = l->filter + c;
    w0 = DW_MVE_LOAD(w);
    w1 = DW_MVE_LOAD(w + C);
    w2 = DW_MVE_LOAD(w + 2 * C);
    w3 = DW_MVE_LOAD(w + 3 * C);
    w4 = DW_MVE_LOAD(w + 4 * C);
    w5 = DW_MVE_LOAD(w + 5 * C);
    w6 = DW_MVE_LOAD(w + 6 * C);
    w7 = DW_MVE_LOAD(w + 7 * C);
    w8 = DW_MVE_LOAD(w + 8 * C);
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
        if (ky0 == 0 && ky1 == KH && ox >= ox_lo && ox < ox_hi && is3x3) {
          x += at;
          acc = vaddq_s32(full, vmulq_s32(DW_MVE_LOAD(x), w0));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + dx), w1));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + 2 * dx), w2));
          x += dy;
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x), w3));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + dx), w4));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + 2 * dx), w5));
          x += dy;
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x), w6));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + dx), w7));
          acc = vaddq_s32(acc, vmulq_s32(DW_MVE_LOAD(x + 2 * dx), w8));
        } else if (ky0 == 0 && ky1 == KH && ox >= ox_lo && ox < ox_hi) {
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
        acc = piconas_mve_output(piconas_mve_requantize(acc, r), p->output_offset, p->activation);
        vstrbq_p_s32(y, acc, lanes);
      }
    }
  }
}

void piconas_depthwise_conv2d_mve_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
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

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_depthwise_conv2d_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
