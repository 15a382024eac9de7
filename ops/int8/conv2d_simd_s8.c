/* int8 2-D convolution, the SIMD variants and their entry points (conv2d_s8.h: *_simd_s8,
 * *_simd_prechecked_s8): the Armv7E-M DSP instructions (emulated in C where absent, simd_s8.h),
 * on Cortex-M55 the MVE kernels of mve_s8.h.
 * Both run the same 2x2-blocked matrix product: two output pixels (their inputs + offset as
 * int16 "columns" of depth K = KH*KW*C_in in the scratch) times two filter rows per step.
 * In each column, every full group of 4 values is stored as (x0, x2, x1, x3), which is what
 * SXTB16 makes of 4 filter bytes (w0, w2) and SXTB16 ROR #8 (w1, w3): one 32-bit load of 4
 * weights and two SMLAD per pixel do 4 MACs, with no widening copy of the filter. The K % 4
 * remainder is kept in natural order and done with scalar MACs. */
#include <stddef.h>

#include "conv2d_s8.h"
#include "conv2d_variants_s8.h"
#include "int8_checks.h"
#include "mve_s8.h"
#include "simd_s8.h"

#if PICONAS_S8_SIMD_AVAILABLE

#if defined(__GNUC__)
#define PICONAS_S8_CONV_INLINE static inline __attribute__((always_inline))
#else
#define PICONAS_S8_CONV_INLINE static inline
#endif

typedef struct {
  const int8_t *filter;
  const int32_t *bias;
  const int32_t *multiplier;
  const int32_t *shift;
  const piconas_s8_requant *requant; /* of channels oc_begin..oc_end - 1 */
  const int32_t *chunk_bias;         /* of the same channels, 0 without bias */
  int32_t oc_begin;
  int32_t oc_end;
  piconas_s8_out_stage out;
  int32_t depth; /* K */
  int32_t cout;
  uint32_t offset2;
  int32_t offset;
} conv_simd_args;

/* acc[p][o] += column p . filter row o over the whole depth, for np pixels and no rows. */
PICONAS_S8_CONV_INLINE void conv_simd_dot(const conv_simd_args *a, const int16_t *col0,
                                          const int16_t *col1, const int8_t *w0, const int8_t *w1,
                                          int32_t acc[2][2]) {
  const int32_t k4 = a->depth & ~3;
  int32_t k;
  int32_t a00 = acc[0][0], a01 = acc[0][1], a10 = acc[1][0], a11 = acc[1][1];
#if PICONAS_S8_DSP_ASM
  /* GCC keeps all loads of an iteration live at once and spills pointers out of this loop;
   * the same loop as the C below in one block: 4 pointers + end + 4 accumulators + 5 temps
   * in the 14 registers, 20 instructions per 16 MACs (with a frame pointer, 13 registers: end
   * in memory, 21). Tested against the reference under QEMU (tests/int8/mcu). */
  if (k4 > 0) {
    const int8_t *w0_end = w0 + k4;
    uint32_t u, v, x, y, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[u], [%[w0]], #4\n\t"
        "ldr %[x], [%[c0]], #4\n\t"
        "ldr %[y], [%[c1]], #4\n\t"
        "sxtb16 %[t], %[u]\n\t"
        "smlad %[a00], %[t], %[x], %[a00]\n\t"
        "smlad %[a10], %[t], %[y], %[a10]\n\t"
        "ldr %[v], [%[w1]], #4\n\t"
        "sxtb16 %[t], %[v]\n\t"
        "smlad %[a01], %[t], %[x], %[a01]\n\t"
        "smlad %[a11], %[t], %[y], %[a11]\n\t"
        "ldr %[x], [%[c0]], #4\n\t"
        "ldr %[y], [%[c1]], #4\n\t"
        "sxtb16 %[t], %[u], ror #8\n\t"
        "smlad %[a00], %[t], %[x], %[a00]\n\t"
        "smlad %[a10], %[t], %[y], %[a10]\n\t"
        "sxtb16 %[t], %[v], ror #8\n\t"
        "smlad %[a01], %[t], %[x], %[a01]\n\t"
        "smlad %[a11], %[t], %[y], %[a11]\n\t"
        PICONAS_S8_ASM_IF_REG("%[end]")
        "cmp %[w0], %[end]\n\t"
        ".else\n\t"
        "ldr %[t], %[end]\n\t"
        "cmp %[w0], %[t]\n\t"
        ".endif\n\t"
        "bne 1b"
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w0] "+r"(w0),
          [w1] "+r"(w1), [c0] "+r"(col0), [c1] "+r"(col1), [u] "=&r"(u), [v] "=&r"(v), [x] "=&r"(x),
          [y] "=&r"(y), [t] "=&r"(t)
        : [end] "rm"(w0_end)
        : "cc", "memory");
  }
#else
  for (k = 0; k < k4; k += 4) {
    const uint32_t u = piconas_read_s8x4(w0 + k);
    const uint32_t v = piconas_read_s8x4(w1 + k);
    uint32_t x = piconas_read_s16x2(col0 + k), y = piconas_read_s16x2(col1 + k), t;
    t = piconas_sxtb16(u);
    a00 = piconas_smlad(t, x, a00);
    a10 = piconas_smlad(t, y, a10);
    t = piconas_sxtb16(v);
    a01 = piconas_smlad(t, x, a01);
    a11 = piconas_smlad(t, y, a11);
    x = piconas_read_s16x2(col0 + k + 2);
    y = piconas_read_s16x2(col1 + k + 2);
    t = piconas_sxtb16_ror8(u);
    a00 = piconas_smlad(t, x, a00);
    a10 = piconas_smlad(t, y, a10);
    t = piconas_sxtb16_ror8(v);
    a01 = piconas_smlad(t, x, a01);
    a11 = piconas_smlad(t, y, a11);
  }
  w0 += k4;
  w1 += k4;
  col0 += k4;
  col1 += k4;
#endif
  /* The pointers are at k4 now: the depth % 4 tail. */
  for (k = 0; k < a->depth - k4; ++k) {
    a00 += (int32_t)w0[k] * col0[k];
    a01 += (int32_t)w1[k] * col0[k];
    a10 += (int32_t)w0[k] * col1[k];
    a11 += (int32_t)w1[k] * col1[k];
  }
  acc[0][0] = a00;
  acc[0][1] = a01;
  acc[1][0] = a10;
  acc[1][1] = a11;
}

/* All output channels of two pixels (one pixel: col1 aliases col0 and y1 aliases y0, which
 * then receives the same values twice: no branch per output). The arguments are copied to
 * locals: the int8 stores could alias anything reached by pointer. */
static void conv_simd_pixels(const conv_simd_args *a, const int16_t *col0, const int16_t *col1,
                             int8_t *y0, int8_t *y1) {
  const conv_simd_args s = *a;
  const int full = piconas_s8_out_stage_full(s.out);
  int32_t oc;
  for (oc = s.oc_begin; oc < s.oc_end; oc += 2) {
    /* An odd last row pairs with itself; its second result is dropped. */
    const int32_t oc1 = oc + 1 < s.oc_end ? oc + 1 : oc;
    int32_t acc[2][2];
    piconas_s8_requant r, r1;
    acc[0][0] = acc[1][0] = s.chunk_bias[oc - s.oc_begin];
    acc[0][1] = acc[1][1] = s.chunk_bias[oc1 - s.oc_begin];
    conv_simd_dot(&s, col0, col1, s.filter + (ptrdiff_t)oc * s.depth,
                  s.filter + (ptrdiff_t)oc1 * s.depth, acc);
    r = s.requant[oc - s.oc_begin];
    r1 = s.requant[oc1 - s.oc_begin];
    /* An odd last row stores its first result twice (no branch per output). */
    if (full) {
      y0[oc1] = piconas_s8_store_full(piconas_s8_requantize(acc[0][1], r1), s.out);
      y1[oc1] = piconas_s8_store_full(piconas_s8_requantize(acc[1][1], r1), s.out);
      y0[oc] = piconas_s8_store_full(piconas_s8_requantize(acc[0][0], r), s.out);
      y1[oc] = piconas_s8_store_full(piconas_s8_requantize(acc[1][0], r), s.out);
    } else {
      y0[oc1] = piconas_s8_store(piconas_s8_requantize(acc[0][1], r1), s.out);
      y1[oc1] = piconas_s8_store(piconas_s8_requantize(acc[1][1], r1), s.out);
      y0[oc] = piconas_s8_store(piconas_s8_requantize(acc[0][0], r), s.out);
      y1[oc] = piconas_s8_store(piconas_s8_requantize(acc[1][0], r), s.out);
    }
  }
}

/* n input bytes + offset into col in the (x0, x2, x1, x3) group order; n % 4 tail natural. */
static void conv_simd_widen(const conv_simd_args *a, const int8_t *src, int32_t n, int16_t *col) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t v = piconas_read_s8x4(src + i);
    piconas_write_s16x2(col + i, piconas_sxtab16(a->offset2, v));
    piconas_write_s16x2(col + i + 2, piconas_sxtab16_ror8(a->offset2, v));
  }
  for (; i < n; ++i) col[i] = (int16_t)((int32_t)src[i] + a->offset);
}

static void conv_simd_setup(conv_simd_args *a, const piconas_conv_params *params,
                            const piconas_per_channel_quant_params *quant, const piconas_dims *f,
                            const int8_t *filter, const int32_t *bias) {
  a->filter = filter;
  a->bias = bias;
  a->multiplier = quant->multiplier;
  a->shift = quant->shift;
  a->requant = NULL;
  a->chunk_bias = NULL;
  a->oc_begin = 0;
  a->oc_end = f->n;
  a->out = piconas_s8_out_stage_of(params->output_offset, params->activation);
  a->depth = f->h * f->w * f->c;
  a->cout = f->n;
  a->offset2 = piconas_dup16(params->input_offset);
  a->offset = params->input_offset;
}

/* im2col of the window of one output pixel in the SIMD group order; taps outside the image
 * are 0 (skipped). Offsets walk by constant steps (no multiply per tap); a single input
 * channel (the stem of a grey-scale model) is copied without an inner loop. */
static void conv_simd_fill_column(const conv_simd_args *a, int16_t *col, const int8_t *image,
                                  const piconas_dims *in, const piconas_dims *f,
                                  const piconas_conv_params *p, int32_t iy0, int32_t ix0) {
  const int32_t cin = in->c;
  const int32_t k4 = a->depth & ~3;
  const int32_t offset = a->offset;
  const ptrdiff_t row_step = (ptrdiff_t)p->dilation.h * in->w * cin;
  const ptrdiff_t tap_step = (ptrdiff_t)p->dilation.w * cin;
  ptrdiff_t row = ((ptrdiff_t)iy0 * in->w + ix0) * cin;
  int16_t *dst = col;
  int32_t ky_begin, ky_end, kx_begin, kx_end, ky, kx, k;
  piconas_s8_tap_range(iy0, p->dilation.h, f->h, in->h, &ky_begin, &ky_end);
  piconas_s8_tap_range(ix0, p->dilation.w, f->w, in->w, &kx_begin, &kx_end);
  for (ky = 0; ky < f->h; ++ky, row += row_step) {
    const int row_inside = ky >= ky_begin && ky < ky_end;
    ptrdiff_t tap = row;
    for (kx = 0; kx < f->w; ++kx, tap += tap_step, dst += cin) {
      if (row_inside && kx >= kx_begin && kx < kx_end) {
        const int8_t *src = image + tap;
        if (cin == 1) {
          dst[0] = (int16_t)((int32_t)src[0] + offset);
        } else if ((cin & 3) == 0) {
          conv_simd_widen(a, src, cin, dst); /* groups align with taps: already in order */
        } else {
          for (k = 0; k < cin; ++k) dst[k] = (int16_t)((int32_t)src[k] + offset);
        }
      } else {
        for (k = 0; k < cin; ++k) dst[k] = 0;
      }
    }
  }
  if ((cin & 3) != 0) {
    /* Natural order -> (x0, x2, x1, x3) per group of 4: PKHBT / PKHTB of the two words. */
    for (k = 0; k < k4; k += 4) {
      const uint32_t lo = piconas_read_s16x2(col + k), hi = piconas_read_s16x2(col + k + 2);
      piconas_write_s16x2(col + k, piconas_pkhbt(lo, hi));
      piconas_write_s16x2(col + k + 2, piconas_pkhtb(hi, lo));
    }
  }
}

#define CONV_SIMD_TABLE 64

/* The paths of conv_simd_run. On Cortex-M55: the MVE 1x1 kernel; the window kernel, else
 * im2col (ANY, the checked entry points); im2col only; the window kernel only. Elsewhere all
 * but 1X1 are the im2col path. */
enum { CONV_PATH_ANY, CONV_PATH_1X1, CONV_PATH_IM2COL, CONV_PATH_WINDOW };

/* Both SIMD variants: im2col of two output pixels at a time, then conv_simd_pixels. A 1x1
 * layer (path CONV_PATH_1X1) widens the one input pixel under each output pixel, no tap
 * bookkeeping. Inlined into each entry point, so that one called with a constant path (the
 * _prechecked variants the exporter picks) links only that path. */
PICONAS_S8_CONV_INLINE int conv_simd_run(const piconas_s8_context *ctx,
                                         const piconas_conv_params *params,
                                         const piconas_per_channel_quant_params *quant,
                                         const piconas_dims *input_dims, const int8_t *input,
                                         const piconas_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const piconas_dims *output_dims,
                                         int8_t *output, int path) {
  const int pointwise = path == CONV_PATH_1X1;
  conv_simd_args a;
  conv_simd_setup(&a, params, quant, filter_dims, filter, bias);
  if (ctx == NULL || ctx->buf == NULL ||
      ctx->size < 2 * piconas_conv2d_generic_buffer_size(filter_dims) ||
      ((uintptr_t)ctx->buf & 1u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
#if PICONAS_S8_MVE
  if (path == CONV_PATH_1X1) {
    piconas_conv2d_1x1_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                              output_dims, output);
    return PICONAS_S8_OK;
  }
  if (path != CONV_PATH_IM2COL &&
      piconas_conv2d_window_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                                   output_dims, output)) {
    return PICONAS_S8_OK;
  }
  if (path == CONV_PATH_WINDOW) {
    return PICONAS_S8_ERR_ARGUMENT; /* the layer does not fit the window kernel */
  }
  piconas_conv2d_im2col_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                               output_dims, output, (int8_t *)ctx->buf);
  return PICONAS_S8_OK;
#endif
  {
    /* Output channels in chunks of up to CONV_SIMD_TABLE: the requantization constants of a
     * chunk are computed once into a small stack table, then every pixel pair runs over it. */
    piconas_s8_requant table[CONV_SIMD_TABLE];
    int32_t bias_table[CONV_SIMD_TABLE];
    int16_t *cols[2];
    int8_t *ys[2];
    int32_t b, oy, ox, oc;
    cols[0] = (int16_t *)ctx->buf;
    cols[1] = cols[0] + a.depth;
    a.requant = table;
    a.chunk_bias = bias_table;
    for (a.oc_begin = 0; a.oc_begin < a.cout; a.oc_begin = a.oc_end) {
      int n = 0;
      a.oc_end = a.cout - a.oc_begin > CONV_SIMD_TABLE ? a.oc_begin + CONV_SIMD_TABLE : a.cout;
      for (oc = a.oc_begin; oc < a.oc_end; ++oc) {
        table[oc - a.oc_begin] = piconas_s8_requant_of(a.multiplier[oc], a.shift[oc]);
        bias_table[oc - a.oc_begin] = a.bias != NULL ? a.bias[oc] : 0;
      }
      for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c;
        for (oy = 0; oy < output_dims->h; ++oy) {
          const int32_t iy0 = oy * params->stride.h - params->padding.h;
          for (ox = 0; ox < output_dims->w; ++ox) {
            const int32_t ix0 = ox * params->stride.w - params->padding.w;
            ys[n] = output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w + ox) * a.cout;
            if (pointwise) {
              conv_simd_widen(&a, image + ((ptrdiff_t)iy0 * input_dims->w + ix0) * input_dims->c,
                              a.depth, cols[n]);
            } else {
              conv_simd_fill_column(&a, cols[n], image, input_dims, filter_dims, params, iy0, ix0);
            }
            if (++n == 2) {
              conv_simd_pixels(&a, cols[0], cols[1], ys[0], ys[1]);
              n = 0;
            }
          }
        }
      }
      if (n == 1) {
        conv_simd_pixels(&a, cols[0], cols[0], ys[0], ys[0]);
      }
    }
  }
  return PICONAS_S8_OK;
}

/* The checked SIMD entry points: every argument check, then conv_simd_run. */
static int conv_simd(const piconas_s8_context *ctx, const piconas_conv_params *params,
                     const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                     const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                     const int32_t *bias, const piconas_dims *output_dims, int8_t *output,
                     int pointwise) {
  const int status = piconas_conv2d_check_args_s8(params, quant, input_dims, input, filter_dims,
                                                  filter, bias, output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if ((pointwise && !piconas_conv2d_is_1x1(params, input_dims, filter_dims, output_dims)) ||
      !piconas_conv2d_simd_applies(quant, bias, filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return conv_simd_run(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                       output_dims, output, pointwise ? CONV_PATH_1X1 : CONV_PATH_ANY);
}

/* The guard of the prechecked entry points: pointers only (the exporter checked the rest). */
static int conv_pointers_ok(const piconas_conv_params *params,
                            const piconas_per_channel_quant_params *quant, const piconas_dims *in,
                            const int8_t *input, const piconas_dims *f, const int8_t *filter,
                            const piconas_dims *out, const int8_t *output) {
  return params != NULL && quant != NULL && in != NULL && input != NULL && f != NULL &&
         filter != NULL && out != NULL && output != NULL;
}

int piconas_conv2d_1x1_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output) {
  return conv_simd(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                   output, 1);
}

int piconas_conv2d_im2col_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output) {
  return conv_simd(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                   output, 0);
}

int piconas_conv2d_1x1_simd_prechecked_s8(const piconas_s8_context *ctx,
                                          const piconas_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const piconas_dims *input_dims, const int8_t *input,
                                          const piconas_dims *filter_dims, const int8_t *filter,
                                          const int32_t *bias, const piconas_dims *output_dims,
                                          int8_t *output) {
  if (!conv_pointers_ok(params, quant, input_dims, input, filter_dims, filter, output_dims,
                        output)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return conv_simd_run(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                       output_dims, output, CONV_PATH_1X1);
}

int piconas_conv2d_im2col_simd_prechecked_s8(const piconas_s8_context *ctx,
                                             const piconas_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims, const int8_t *input,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *output) {
  if (!conv_pointers_ok(params, quant, input_dims, input, filter_dims, filter, output_dims,
                        output)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return conv_simd_run(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                       output_dims, output, CONV_PATH_IM2COL);
}

int piconas_conv2d_window_simd_prechecked_s8(const piconas_s8_context *ctx,
                                             const piconas_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims, const int8_t *input,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *output) {
#if PICONAS_S8_MVE
  if (!conv_pointers_ok(params, quant, input_dims, input, filter_dims, filter, output_dims,
                        output)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return conv_simd_run(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                       output_dims, output, CONV_PATH_WINDOW);
#else
  return piconas_conv2d_im2col_simd_prechecked_s8(ctx, params, quant, input_dims, input,
                                                  filter_dims, filter, bias, output_dims, output);
#endif
}

int piconas_conv2d_simd_applies(const piconas_per_channel_quant_params *quant, const int32_t *bias,
                                const piconas_dims *filter_dims) {
  return quant != NULL && quant->multiplier != NULL && quant->shift != NULL &&
         piconas_s8_dims_ok(filter_dims) &&
         piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, filter_dims->n,
                                  (int64_t)filter_dims->h * filter_dims->w * filter_dims->c);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
