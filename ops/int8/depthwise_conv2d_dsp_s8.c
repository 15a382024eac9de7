
/* int8 depthwise convolution, the SIMD variant for channel multiplier 1
 * (depthwise_conv2d_variants_s8.h) with the Armv7E-M DSP instructions (emulated in C where
 * absent, simd_s8.h).
 * One 32-bit load gives 4 channels of a tap; SXTAB16 widens channels (0, 2) or, with ROR #8,
 * (1, 3) to int16 pairs and adds the input offset in the same instruction; SXTB16 does the
 * same to the weights; SMLABB / SMLATT accumulate each channel. The interior of a 3x3 layer
 * (both pixels of a horizontal pair with their whole window in the image) runs in a
 * compile-time 3x3 body: two pixels x two channels per pass, every tap unrolled, eight
 * accumulators in registers, and each widened weight word serves both pixels. Border pixels
 * and other kernel sizes take one pixel x four channels over the in-image taps. The arguments
 * are passed as plain values: the int8 output stores could alias anything reached by pointer. */
#include <stddef.h>

#include "depthwise_conv2d_variants_s8.h"
#include "int8_checks.h"
#include "simd_s8.h"

#if PICONAS_S8_SIMD_AVAILABLE


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

/* Channels c..c+3 of a 3x3 layer, prepared once per output row: the weights of each tap widened
 * to int16 pairs (w_c, w_c+2) and (w_c+1, w_c+3), the bias with the input offset folded in
 * (sum_t w_t (x_t + offset) = bias + offset * sum_t w_t + sum_t w_t x_t; no wrap: the sums stay
 * below 2^29 by piconas_s8_simd_quant_ok) and the requantization constants. */
typedef struct {
  uint32_t w[9][2];
  int32_t bias[4];
  piconas_s8_requant r[4];
} dw_group_3x3;

static void dw_group_of(const dw_simd_args *a, const int8_t *w, int32_t c, dw_group_3x3 *g) {
  const int32_t ch = a->channels;
  int32_t t, j;
  for (j = 0; j < 4; ++j) {
    int32_t sum = 0;
    for (t = 0; t < 9; ++t) {
      sum += w[t * ch + c + j];
    }
    g->bias[j] = (a->bias ? a->bias[c + j] : 0) + a->offset * sum;
    g->r[j] = piconas_s8_requant_of(a->multiplier[c + j], a->shift[c + j]);
  }
  for (t = 0; t < 9; ++t) {
    const uint32_t wv = piconas_read_s8x4(w + t * ch + c);
    g->w[t][0] = piconas_sxtb16(wv);
    g->w[t][1] = piconas_sxtb16_ror8(wv);
  }
}

#if PICONAS_S8_DSP_ASM
/* Tap t of one pixel, four channels, from the input word at [x] or [x, dx]: one load, two
 * extensions, one LDRD of the widened weights and four multiply-accumulates. The weights'
 * pointer g may be in memory (a frame pointer leaves 12 registers for the 12 operands and
 * whatever else is live): then one LDR more per tap. The nine taps are one assembly block: GCC
 * would otherwise hoist the loads and spill. */
/* clang-format off */
#define PICONAS_DW_TAP_ASM(addr, t)       \
  "ldr %[x], " addr "\n\t"               \
  "sxtb16 %[x02], %[x]\n\t"              \
  "sxtb16 %[x], %[x], ror #8\n\t"        \
  ".if .Lpiconas_s8_is_reg\n\t"           \
  "ldrd %[w0], %[w1], [%[g], #" #t "]\n\t" \
  ".else\n\t"                             \
  "ldr %[w1], %[g]\n\t"                   \
  "ldrd %[w0], %[w1], [%[w1], #" #t "]\n\t" \
  ".endif\n\t"                            \
  "smlabb %[a0], %[x02], %[w0], %[a0]\n\t" \
  "smlatt %[a2], %[x02], %[w0], %[a2]\n\t" \
  "smlabb %[a1], %[x], %[w1], %[a1]\n\t"   \
  "smlatt %[a3], %[x], %[w1], %[a3]\n\t"
#define PICONAS_DW_ROW_ASM(t0, t1, t2) \
  PICONAS_DW_TAP_ASM("[%[r]]", t0)     \
  PICONAS_DW_TAP_ASM("[%[r], %[dx]]", t1) "add %[r], %[r], %[dx]\n\t" \
  PICONAS_DW_TAP_ASM("[%[r], %[dx]]", t2)
/* clang-format on */
#endif

/* Channels c..c+3 (prepared in g) of rows x n output pixels of a 3x3 layer whose windows lie
 * inside the image (or a zero-point padded plane): x points at tap (0, 0) of the first window
 * plus c, windows step bytes apart in a row, rows x_row bytes apart; outputs at y + c, ch bytes
 * apart in a row, rows y_row bytes apart. */
PICONAS_S8_NOINLINE void dw_run_3x3(const dw_simd_args *a, const dw_group_3x3 *g, const int8_t *x,
                                    int32_t step, int32_t n, int32_t rows, int32_t x_row,
                                    int32_t y_row, int8_t *y) {
  const int32_t dx = a->tap_dx, dy = a->tap_dy, ch = a->channels;
  const piconas_s8_out_stage out = a->out;
  const int full = piconas_s8_out_stage_full(out);
  const int32_t x_skip = x_row - n * step, y_skip = y_row - n * ch;
  /* The assembly leaves x at tap (2, 1) of the window (x + 2 dy + dx): no copy of x, one register
   * fewer (with a frame pointer the block needs all the others). */
  const int32_t x_next = PICONAS_S8_DSP_ASM ? step - 2 * dy - dx : step;
  int32_t i;
  for (; rows > 0; --rows, x += x_skip, y += y_skip) {
    for (i = 0; i < n; ++i) {
      int32_t acc0 = g->bias[0], acc1 = g->bias[1], acc2 = g->bias[2], acc3 = g->bias[3];
#if PICONAS_S8_DSP_ASM
      {
        const int32_t dyx = dy - dx;
        uint32_t xv, x02, w0, w1;
        /* clang-format off */
        __asm__(PICONAS_S8_ASM_IF_REG("%[g]") ".endif\n\t"
                PICONAS_DW_ROW_ASM(0, 8, 16) "add %[r], %[r], %[dyx]\n\t"
                PICONAS_DW_ROW_ASM(24, 32, 40) "add %[r], %[r], %[dyx]\n\t"
                PICONAS_DW_ROW_ASM(48, 56, 64)
                : [a0] "+r"(acc0), [a1] "+r"(acc1), [a2] "+r"(acc2), [a3] "+r"(acc3), [r] "+r"(x),
                  [x] "=&r"(xv), [x02] "=&r"(x02), [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [dx] "r"(dx), [dyx] "r"(dyx), [g] "rm"(g->w)
                : "memory");
        /* clang-format on */
      }
#else
      {
        int32_t t;
        for (t = 0; t < 9; ++t) {
          const uint32_t xv = piconas_read_s8x4(x + (t / 3) * dy + (t % 3) * dx);
          const uint32_t x02 = piconas_sxtb16(xv), x13 = piconas_sxtb16_ror8(xv);
          acc0 = piconas_smlabb(x02, g->w[t][0], acc0);
          acc2 = piconas_smlatt(x02, g->w[t][0], acc2);
          acc1 = piconas_smlabb(x13, g->w[t][1], acc1);
          acc3 = piconas_smlatt(x13, g->w[t][1], acc3);
        }
      }
#endif
      if (full) { /* no activation, or ReLU(6) calibrated to the whole int8 range: one SSAT */
        y[0] = piconas_s8_store_full(piconas_s8_requantize(acc0, g->r[0]), out);
        y[1] = piconas_s8_store_full(piconas_s8_requantize(acc1, g->r[1]), out);
        y[2] = piconas_s8_store_full(piconas_s8_requantize(acc2, g->r[2]), out);
        y[3] = piconas_s8_store_full(piconas_s8_requantize(acc3, g->r[3]), out);
      } else {
        y[0] = piconas_s8_store(piconas_s8_requantize(acc0, g->r[0]), out);
        y[1] = piconas_s8_store(piconas_s8_requantize(acc1, g->r[1]), out);
        y[2] = piconas_s8_store(piconas_s8_requantize(acc2, g->r[2]), out);
        y[3] = piconas_s8_store(piconas_s8_requantize(acc3, g->r[3]), out);
      }
      x += x_next;
      y += ch;
    }
  }
}

/* The output positions [*lo, *hi) along one axis whose window of k taps lies inside the
 * input (an empty range at *lo when there are none). */
static void dw_inside(int32_t in, int32_t out, int32_t k, int32_t stride, int32_t padding,
                      int32_t dilation, int32_t *lo, int32_t *hi) {
  int32_t o = 0;
  while (o < out && (int64_t)o * stride - padding < 0) {
    ++o;
  }
  *lo = o;
  while (o < out && (int64_t)o * stride - padding + (int64_t)(k - 1) * dilation < in) {
    ++o;
  }
  *hi = o;
}

/* One output row in dw_pixel, except channels 0..C - C % 4 of the pixels [lo, hi) (an empty
 * range unless the row has all kernel rows in the image), which dw_run_3x3 computes. */
static void dw_row(const dw_simd_args *a, const piconas_dw_conv_params *p, const piconas_dims *in,
                   const piconas_dims *out, const int8_t *xrow, const int8_t *w, int32_t ky0,
                   int32_t ky1, int32_t lo, int32_t hi, int8_t *y) {
  const int32_t ch = a->channels, kw = a->filter_w;
  int32_t ox;
  for (ox = 0; ox < out->w; ++ox, y += ch) {
    const int32_t ix0 = ox * p->stride.w - p->padding.w;
    const int32_t c_begin = ox >= lo && ox < hi ? ch - ch % 4 : 0;
    int32_t kx0, kx1;
    if (c_begin < ch) {
      piconas_s8_tap_range(ix0, p->dilation.w, kw, in->w, &kx0, &kx1);
      dw_pixel(a, xrow + (ptrdiff_t)ix0 * ch, w, ky0, ky1, kx0, kx1, c_begin, y);
    }
  }
}

/* Small images (e.g. 6x6 x 384 channels, where 20 of 36 pixels touch the border): per group of
 * 4 channels, the group's input is copied into a plane of words padded with the input zero point
 * (a padded tap adds w * (z_in + offset) = 0 to the folded bias), so every output pixel runs
 * in dw_run_3x3; each input word is copied once and read by up to 9 windows. The plane holds
 * the input positions the windows reach, from (-padding.h, -padding.w). */
typedef struct {
  int32_t h, w; /* rows and columns the windows reach */
} dw_plane_shape;

static dw_plane_shape dw_plane_of(const piconas_dw_conv_params *p, const piconas_dims *out) {
  dw_plane_shape s;
  s.h = (out->h - 1) * p->stride.h + 2 * p->dilation.h + 1;
  s.w = (out->w - 1) * p->stride.w + 2 * p->dilation.w + 1;
  return s;
}

static void dw_simd_plane(const dw_simd_args *a, const piconas_dw_conv_params *p,
                          const piconas_dims *in, const int8_t *image, const int8_t *filter,
                          const piconas_dims *out, int8_t *y_image) {
  uint32_t plane[PICONAS_DW_PLANE_BYTES / 4];
  const dw_plane_shape s = dw_plane_of(p, out);
  const int32_t ch = a->channels, ph = p->padding.h, pw = p->padding.w;
  /* The part of the image inside the plane: rows [0, rows), columns [0, cols). */
  const int32_t rows = in->h < s.h - ph ? in->h : s.h - ph;
  const int32_t cols = in->w < s.w - pw ? in->w : s.w - pw;
  const uint32_t fill = (uint32_t)(uint8_t)(int8_t)-a->offset * 0x01010101u;
  dw_simd_args pa = *a;
  int32_t i, c, oy, iy, ix;
  pa.tap_dx = 4 * p->dilation.w;
  pa.tap_dy = 4 * s.w * p->dilation.h;
  for (i = 0; i < s.h * s.w; ++i) {
    plane[i] = fill; /* the border stays zero point for every group */
  }
  for (c = 0; c + 4 <= ch; c += 4) {
    dw_group_3x3 g;
    dw_group_of(a, filter, c, &g);
    for (iy = 0; iy < rows; ++iy) {
      const int8_t *x = image + (ptrdiff_t)iy * in->w * ch + c;
      uint32_t *row = plane + (iy + ph) * s.w + pw;
      for (ix = 0; ix < cols; ++ix, x += ch) {
        row[ix] = piconas_read_s8x4(x);
      }
    }
    dw_run_3x3(&pa, &g, (const int8_t *)plane, 4 * p->stride.w, out->w, out->h,
               4 * p->stride.h * s.w, out->w * ch, y_image + c);
  }
  for (oy = 0; c < ch && oy < out->h; ++oy) { /* channels C - C % 4 .. C - 1 */
    const int32_t iy0 = oy * p->stride.h - ph;
    int32_t ky0, ky1;
    piconas_s8_tap_range(iy0, p->dilation.h, 3, in->h, &ky0, &ky1);
    dw_row(a, p, in, out, image + (ptrdiff_t)iy0 * in->w * ch, filter, ky0, ky1, 0, out->w,
           y_image + (ptrdiff_t)oy * out->w * ch);
  }
}


static dw_simd_args dw_simd_args_of(const piconas_dw_conv_params *params,
                                    const piconas_per_channel_quant_params *quant,
                                    const piconas_dims *input_dims,
                                    const piconas_dims *filter_dims, const int32_t *bias) {
  dw_simd_args a;
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
  return a;
}

void piconas_depthwise_conv2d_dsp_plane_run_s8(const piconas_dw_conv_params *params,
                                               const piconas_per_channel_quant_params *quant,
                                               const piconas_dims *input_dims, const int8_t *input,
                                               const piconas_dims *filter_dims,
                                               const int8_t *filter, const int32_t *bias,
                                               const piconas_dims *output_dims, int8_t *output) {
  const dw_simd_args a = dw_simd_args_of(params, quant, input_dims, filter_dims, bias);
  int32_t b;
  for (b = 0; b < output_dims->n; ++b) {
    dw_simd_plane(&a, params, input_dims,
                  input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c, filter,
                  output_dims,
                  output + (ptrdiff_t)b * output_dims->h * output_dims->w * a.channels);
  }
}

void piconas_depthwise_conv2d_dsp_run_s8(const piconas_dw_conv_params *params,
                                         const piconas_per_channel_quant_params *quant,
                                         const piconas_dims *input_dims, const int8_t *input,
                                         const piconas_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const piconas_dims *output_dims,
                                         int8_t *output) {
  const dw_simd_args a = dw_simd_args_of(params, quant, input_dims, filter_dims, bias);
  int32_t b, oy, lo, hi, top, bottom;
  if (piconas_depthwise_conv2d_simd_plane_fits(params, filter_dims, output_dims)) {
    piconas_depthwise_conv2d_dsp_plane_run_s8(params, quant, input_dims, input, filter_dims, filter,
                                              bias, output_dims, output);
    return;
  }
  /* Output columns [lo, hi) and rows [top, bottom): windows inside the image (3x3 only). */
  lo = hi = top = bottom = 0;
  if (filter_dims->h == 3 && filter_dims->w == 3) {
    dw_inside(input_dims->w, output_dims->w, 3, params->stride.w, params->padding.w,
              params->dilation.w, &lo, &hi);
    dw_inside(input_dims->h, output_dims->h, 3, params->stride.h, params->padding.h,
              params->dilation.h, &top, &bottom);
  }
  for (b = 0; b < output_dims->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c;
    int8_t *y_image = output + (ptrdiff_t)b * output_dims->h * output_dims->w * a.channels;
    int32_t c;
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      int32_t ky0, ky1;
      piconas_s8_tap_range(iy0, params->dilation.h, filter_dims->h, input_dims->h, &ky0, &ky1);
      dw_row(&a, params, input_dims, output_dims,
             image + (ptrdiff_t)iy0 * input_dims->w * input_dims->c, filter, ky0, ky1,
             oy >= top && oy < bottom ? lo : 0, oy >= top && oy < bottom ? hi : 0,
             y_image + (ptrdiff_t)oy * output_dims->w * a.channels);
    }
    /* The interior, four channels at a time over the full rows [top, bottom). */
    for (c = 0; hi > lo && bottom > top && c + 4 <= a.channels; c += 4) {
      const int32_t iy0 = top * params->stride.h - params->padding.h;
      const int32_t ix0 = lo * params->stride.w - params->padding.w;
      dw_group_3x3 g;
      dw_group_of(&a, filter, c, &g);
      dw_run_3x3(&a, &g, image + ((ptrdiff_t)iy0 * input_dims->w + ix0) * a.channels + c,
                 params->stride.w * a.channels, hi - lo, bottom - top,
                 params->stride.h * input_dims->w * a.channels, output_dims->w * a.channels,
                 y_image + ((ptrdiff_t)top * output_dims->w + lo) * a.channels + c);
    }
  }
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
