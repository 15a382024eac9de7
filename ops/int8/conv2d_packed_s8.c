/* int8 convolution from an export-time packed filter (see conv2d_packed_s8.h). */
#include "conv2d_packed_s8.h"

#include <stddef.h>

#include "conv2d_s8.h"
#include "int8_checks.h"
#include "simd_s8.h"

/* Depth rounded up to the group of 4. */
static int32_t packed_depth(const piconas_dims *f) { return (f->h * f->w * f->c + 3) & ~3; }

static int packed_filter_dims_ok(const piconas_dims *f) {
  return piconas_s8_dims_ok(f) && (int64_t)f->h * f->w * f->c <= PICONAS_S8_MAX_MACS;
}

int32_t piconas_conv2d_packed_weights_size(const piconas_dims *filter_dims) {
  if (filter_dims == NULL || !packed_filter_dims_ok(filter_dims)) return -1;
  return (int32_t)(((int64_t)filter_dims->n + 1) / 2 * 2 * packed_depth(filter_dims));
}

int32_t piconas_conv2d_packed_s8_get_buffer_size(const piconas_dims *filter_dims) {
  if (filter_dims == NULL || !packed_filter_dims_ok(filter_dims)) return -1;
  return 5 * packed_depth(filter_dims) * (int32_t)sizeof(int16_t);
}

int piconas_conv2d_packed_applies(const piconas_per_channel_quant_params *quant, const int32_t *bias,
                                  const piconas_dims *filter_dims) {
  int32_t c;
  if (quant == NULL || quant->multiplier == NULL || quant->shift == NULL ||
      filter_dims == NULL || !packed_filter_dims_ok(filter_dims) ||
      !piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, filter_dims->n,
                                (int64_t)filter_dims->h * filter_dims->w * filter_dims->c)) {
    return 0;
  }
  for (c = 0; c < filter_dims->n; ++c) {
    if (quant->shift[c] < PICONAS_S8_PACKED_MIN_SHIFT) return 0;
  }
  return 1;
}

int piconas_conv2d_pack_s8(const piconas_dims *filter_dims, const int8_t *filter, int8_t *packed) {
  int32_t pair, g, i, o;
  if (filter == NULL || packed == NULL || filter_dims == NULL ||
      !packed_filter_dims_ok(filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  {
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t groups = packed_depth(filter_dims) / 4;
    const int32_t cout = filter_dims->n;
    int8_t *dst = packed;
    for (pair = 0; pair < cout; pair += 2) {
      for (g = 0; g < groups; ++g) {
        /* Word 0 holds k0 and k2 of the group, word 1 k1 and k3; channels alternate per byte. */
        for (i = 0; i < 4; ++i) {
          const int32_t k = 4 * g + (i & 1) + 2 * (i >> 1);
          for (o = 0; o < 2; ++o) {
            const int32_t oc = pair + o;
            const int32_t byte = (i & 1) * 4 + (i >> 1) * 2 + o;
            dst[byte] = oc < cout && k < depth ? filter[(ptrdiff_t)oc * depth + k] : 0;
          }
        }
        dst += 8;
      }
    }
  }
  return PICONAS_S8_OK;
}

#if PICONAS_S8_SIMD_AVAILABLE

#if defined(__GNUC__)
#define PICONAS_S8_PACKED_INLINE static inline __attribute__((always_inline))
#else
#define PICONAS_S8_PACKED_INLINE static inline
#endif

/* The four columns: word j of pixel p at col[4 * j + p]; per group of 4 depth values the words
 * are (x0, x2) and (x1, x3) (the SXTB16 order of the weights), x = input + offset, 0 outside
 * the image and beyond the depth. */
typedef struct {
  const int8_t *packed;
  const int32_t *bias;
  const int32_t *multiplier;
  const int32_t *shift;
  int32_t groups; /* packed depth / 4 */
  int32_t cout;
  int32_t round_base; /* 2 * output_offset + 1: the rounding constant is round_base << right */
  piconas_activation act;
  int full; /* the clamp is the whole int8 range: one SSAT */
  uint32_t offset2;
  int32_t offset;
} packed_args;

#if PICONAS_S8_DSP_ASM
/* The weight word of the packed pair (channels o and o + 1 at 4 depths) into u: from the pointer
 * register w, or (a frame pointer leaves too few registers) from w kept in memory. */
/* clang-format off */
#define PICONAS_PACKED_LOAD_REG "ldr %[u], [%[w]], #4\n\t"
#define PICONAS_PACKED_LOAD_MEM \
  "ldr %[x], %[w]\n\t"          \
  "ldr %[u], [%[x]], #4\n\t"    \
  "str %[x], %[w]\n\t"
/* The word in u against the widened columns 0..3 at c (two LDRD): 8 MACs per channel. */
#define PICONAS_PACKED_WORD_ASM                 \
  "ldrd %[x], %[y], [%[c]], #8\n\t"            \
  "sxtb16 %[t], %[u]\n\t"                      \
  "smlad %[a00], %[t], %[x], %[a00]\n\t"       \
  "smlad %[a01], %[t], %[y], %[a01]\n\t"       \
  "sxtb16 %[u], %[u], ror #8\n\t"              \
  "smlad %[a10], %[u], %[x], %[a10]\n\t"       \
  "smlad %[a11], %[u], %[y], %[a11]\n\t"       \
  "ldrd %[x], %[y], [%[c]], #8\n\t"            \
  "smlad %[a02], %[t], %[x], %[a02]\n\t"       \
  "smlad %[a03], %[t], %[y], %[a03]\n\t"       \
  "smlad %[a12], %[u], %[x], %[a12]\n\t"       \
  "smlad %[a13], %[u], %[y], %[a13]\n\t"
/* clang-format on */
#endif

/* acc[o][p] += row o of the pair . column p over all groups. */
PICONAS_S8_PACKED_INLINE void packed_dot(const uint32_t *w, const uint32_t *col, int32_t groups,
                                         int32_t acc[2][4]) {
  int32_t a00 = acc[0][0], a01 = acc[0][1], a02 = acc[0][2], a03 = acc[0][3];
  int32_t a10 = acc[1][0], a11 = acc[1][1], a12 = acc[1][2], a13 = acc[1][3];
#if PICONAS_S8_DSP_ASM
  /* 8 accumulators, 2 pointers and 4 temporaries fill the 14 allocatable registers; the end
   * pointer is compared from memory. 29 instructions per 32 MACs. With a frame pointer (13
   * registers) w lives in memory too and is loaded and stored per weight word: 35. Tested
   * against the reference under QEMU (tests/int8/mcu). */
  const uint32_t *end = w + 2 * groups;
  uint32_t u, t, x, y;
  __asm__ volatile(
      PICONAS_S8_ASM_IF_REG("%[w]")
      "1:\n\t"
      PICONAS_PACKED_LOAD_REG PICONAS_PACKED_WORD_ASM
      PICONAS_PACKED_LOAD_REG PICONAS_PACKED_WORD_ASM
      "ldr %[x], %[end]\n\t"
      "cmp %[w], %[x]\n\t"
      "bne 1b\n\t"
      ".else\n\t"
      "1:\n\t"
      PICONAS_PACKED_LOAD_MEM PICONAS_PACKED_WORD_ASM
      PICONAS_PACKED_LOAD_MEM PICONAS_PACKED_WORD_ASM
      "ldr %[x], %[w]\n\t"
      "ldr %[y], %[end]\n\t"
      "cmp %[x], %[y]\n\t"
      "bne 1b\n\t"
      ".endif"
      : [a00] "+r"(a00), [a01] "+r"(a01), [a02] "+r"(a02), [a03] "+r"(a03), [a10] "+r"(a10),
        [a11] "+r"(a11), [a12] "+r"(a12), [a13] "+r"(a13), [w] "+rm"(w), [c] "+r"(col),
        [u] "=&r"(u), [t] "=&r"(t), [x] "=&r"(x), [y] "=&r"(y)
      : [end] "m"(end)
      : "cc", "memory");
#else
  int32_t j;
  for (j = 0; j < 2 * groups; ++j, col += 4) {
    const uint32_t t = piconas_sxtb16(w[j]), u = piconas_sxtb16_ror8(w[j]);
    a00 = piconas_smlad(t, col[0], a00);
    a01 = piconas_smlad(t, col[1], a01);
    a02 = piconas_smlad(t, col[2], a02);
    a03 = piconas_smlad(t, col[3], a03);
    a10 = piconas_smlad(u, col[0], a10);
    a11 = piconas_smlad(u, col[1], a11);
    a12 = piconas_smlad(u, col[2], a12);
    a13 = piconas_smlad(u, col[3], a13);
  }
#endif
  acc[0][0] = a00;
  acc[0][1] = a01;
  acc[0][2] = a02;
  acc[0][3] = a03;
  acc[1][0] = a10;
  acc[1][1] = a11;
  acc[1][2] = a12;
  acc[1][3] = a13;
}

/* Requantization of simd_s8.h with the output offset folded into the rounding constant:
 * (2h + 2^right + offset * 2^(right + 1) - (h < 0)) >> (right + 1) = requantized + offset
 * (a multiple of 2^(right + 1) added before the floor); no overflow for shift >= -21. The
 * result is clamped to the activation range (full: the whole int8 range, one SSAT). */
PICONAS_S8_PACKED_INLINE int8_t packed_out(int32_t acc, int32_t left1, int32_t m, uint32_t round,
                                           int32_t right1, int full, piconas_activation act) {
  const int32_t h = piconas_smmulr((int32_t)((uint32_t)acc << left1), m);
  const int32_t z = (int32_t)((uint32_t)h * 2u + round + (uint32_t)(h >> 31)) >> right1;
  if (full) {
#if PICONAS_S8_DSP
    return (int8_t)__ssat(z, 8);
#else
    return (int8_t)(z < -128 ? -128 : z > 127 ? 127 : z);
#endif
  }
  return (int8_t)(z < act.min ? act.min : z > act.max ? act.max : z);
}

/* Output channel oc of the four pixels (one branch per 4 outputs picks the clamp). */
PICONAS_S8_PACKED_INLINE void packed_store(const packed_args *a, int32_t oc, const int32_t acc[4],
                                           int8_t *const y[4]) {
  const int32_t shift = a->shift[oc];
  const int32_t left1 = (shift > 0 ? shift : 0) + 1;
  const int32_t right = shift < 0 ? -shift : 0;
  const uint32_t round = (uint32_t)a->round_base << right;
  const int32_t m = a->multiplier[oc];
  if (a->full) {
    y[0][oc] = packed_out(acc[0], left1, m, round, right + 1, 1, a->act);
    y[1][oc] = packed_out(acc[1], left1, m, round, right + 1, 1, a->act);
    y[2][oc] = packed_out(acc[2], left1, m, round, right + 1, 1, a->act);
    y[3][oc] = packed_out(acc[3], left1, m, round, right + 1, 1, a->act);
  } else {
    y[0][oc] = packed_out(acc[0], left1, m, round, right + 1, 0, a->act);
    y[1][oc] = packed_out(acc[1], left1, m, round, right + 1, 0, a->act);
    y[2][oc] = packed_out(acc[2], left1, m, round, right + 1, 0, a->act);
    y[3][oc] = packed_out(acc[3], left1, m, round, right + 1, 0, a->act);
  }
}

/* All output channels of the four pixels whose columns are in col (y[p]: their outputs; a
 * repeated pixel receives the same values twice). */
static void packed_pixels(const packed_args *a, const uint32_t *col, int8_t *const y[4]) {
  const uint32_t *w = (const uint32_t *)(const void *)a->packed;
  int32_t oc;
  for (oc = 0; oc < a->cout; oc += 2, w += 2 * a->groups) {
    const int pair = oc + 1 < a->cout;
    const int32_t b0 = a->bias != NULL ? a->bias[oc] : 0;
    const int32_t b1 = a->bias != NULL && pair ? a->bias[oc + 1] : 0;
    int32_t acc[2][4];
    acc[0][0] = acc[0][1] = acc[0][2] = acc[0][3] = b0;
    acc[1][0] = acc[1][1] = acc[1][2] = acc[1][3] = b1;
    packed_dot(w, col, a->groups, acc);
    packed_store(a, oc, acc[0], y);
    if (pair) packed_store(a, oc + 1, acc[1], y);
  }
}

/* Column p from the natural-order values tmp[0..4*groups) (x + offset, 0 outside). */
static void packed_scatter(const int16_t *tmp, int32_t groups, uint32_t *col, int32_t p) {
  int32_t g;
  for (g = 0; g < groups; ++g) {
    const uint32_t lo = piconas_read_s16x2(tmp + 4 * g), hi = piconas_read_s16x2(tmp + 4 * g + 2);
    col[8 * g + p] = piconas_pkhbt(lo, hi);
    col[8 * g + 4 + p] = piconas_pkhtb(hi, lo);
  }
}

/* Column p of output pixel (iy0, ix0) of one image; tmp: packed depth int16 of scratch whose
 * values past the depth are 0. */
static void packed_fill(const packed_args *a, uint32_t *col, int32_t p, int16_t *tmp,
                        const int8_t *image, const piconas_dims *in, const piconas_dims *f,
                        const piconas_conv_params *prm, int32_t iy0, int32_t ix0) {
  const int32_t cin = in->c;
  int32_t k;
  if (f->h == 1 && f->w == 1 && iy0 >= 0 && ix0 >= 0 && iy0 < in->h && ix0 < in->w &&
      (cin & 3) == 0) {
    /* One whole pixel, groups of 4 channels: straight into the column. */
    const int8_t *src = image + ((ptrdiff_t)iy0 * in->w + ix0) * cin;
    uint32_t *dst = col + p;
    for (k = 0; k < cin; k += 4, dst += 8) {
      const uint32_t v = piconas_read_s8x4(src + k);
      dst[0] = piconas_sxtab16(a->offset2, v);
      dst[4] = piconas_sxtab16_ror8(a->offset2, v);
    }
    return;
  }
  {
    const ptrdiff_t row_step = (ptrdiff_t)prm->dilation.h * in->w * cin;
    const ptrdiff_t tap_step = (ptrdiff_t)prm->dilation.w * cin;
    ptrdiff_t row = ((ptrdiff_t)iy0 * in->w + ix0) * cin;
    int16_t *dst = tmp;
    int32_t ky_begin, ky_end, kx_begin, kx_end, ky, kx;
    piconas_s8_tap_range(iy0, prm->dilation.h, f->h, in->h, &ky_begin, &ky_end);
    piconas_s8_tap_range(ix0, prm->dilation.w, f->w, in->w, &kx_begin, &kx_end);
    if (ky_begin == 0 && ky_end == f->h && kx_begin == 0 && kx_end == f->w) {
      /* The whole window inside the image (most pixels): no per-tap bounds. */
      for (ky = 0; ky < f->h; ++ky, row += row_step) {
        const int8_t *src = image + row;
        if (cin == 1) { /* the stem of a grey-scale model: no inner loop */
          for (kx = 0; kx < f->w; ++kx, src += tap_step) *dst++ = (int16_t)(*src + a->offset);
          continue;
        }
        for (kx = 0; kx < f->w; ++kx, src += tap_step - cin) {
          for (k = 0; k < cin; ++k) *dst++ = (int16_t)(*src++ + a->offset);
        }
      }
      packed_scatter(tmp, a->groups, col, p);
      return;
    }
    for (ky = 0; ky < f->h; ++ky, row += row_step) {
      const int row_inside = ky >= ky_begin && ky < ky_end;
      ptrdiff_t tap = row;
      for (kx = 0; kx < f->w; ++kx, tap += tap_step, dst += cin) {
        if (row_inside && kx >= kx_begin && kx < kx_end) {
          const int8_t *src = image + tap;
          for (k = 0; k < cin; ++k) dst[k] = (int16_t)((int32_t)src[k] + a->offset);
        } else {
          for (k = 0; k < cin; ++k) dst[k] = 0;
        }
      }
    }
    packed_scatter(tmp, a->groups, col, p);
  }
}

/* Every argument check of piconas_conv2d_packed_s8 but the tensors' pointers. */
static int packed_check(const piconas_conv_params *p, const piconas_per_channel_quant_params *quant,
                        const piconas_dims *in, const piconas_dims *f, const int32_t *bias,
                        const piconas_dims *out) {
  if (p == NULL || in == NULL || f == NULL || out == NULL || !piconas_s8_dims_ok(in) ||
      !packed_filter_dims_ok(f) || !piconas_s8_dims_ok(out) || in->n != out->n || f->c != in->c ||
      f->n != out->c || !piconas_s8_tile_ok(p->stride, 1) || !piconas_s8_tile_ok(p->dilation, 1) ||
      !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(quant, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (piconas_s8_accumulator_ok(bias, f->n, (int64_t)f->h * f->w * f->c) != PICONAS_S8_OK) {
    return PICONAS_S8_ERR_OVERFLOW;
  }
  return piconas_conv2d_packed_applies(quant, bias, f) ? PICONAS_S8_OK : PICONAS_S8_ERR_ARGUMENT;
}

int piconas_conv2d_packed_s8_check(const piconas_conv_params *params,
                                   const piconas_per_channel_quant_params *quant,
                                   const piconas_dims *input_dims, const piconas_dims *filter_dims,
                                   const int32_t *bias, const piconas_dims *output_dims) {
  return packed_check(params, quant, input_dims, filter_dims, bias, output_dims);
}

/* The guard of both entry points (tensor pointers, scratch), then the convolution. */
static int packed_run(const piconas_s8_context *ctx, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *packed,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  const piconas_dims *in = input_dims, *f = filter_dims, *out = output_dims;
  const piconas_conv_params *p = params;
  packed_args a;
  if (p == NULL || quant == NULL || input == NULL || packed == NULL || output == NULL ||
      !piconas_s8_dims_ok(in) || !packed_filter_dims_ok(f) || !piconas_s8_dims_ok(out) ||
      !piconas_s8_tile_ok(p->stride, 1) || ((uintptr_t)packed & 3u) != 0) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < piconas_conv2d_packed_s8_get_buffer_size(f) ||
      ((uintptr_t)ctx->buf & 3u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
  a.packed = packed;
  a.bias = bias;
  a.multiplier = quant->multiplier;
  a.shift = quant->shift;
  a.groups = packed_depth(f) / 4;
  a.cout = f->n;
  a.round_base = 2 * p->output_offset + 1;
  a.act = p->activation;
  a.full = p->activation.min == -128 && p->activation.max == 127;
  a.offset2 = piconas_dup16(p->input_offset);
  a.offset = p->input_offset;
  {
    uint32_t *col = (uint32_t *)ctx->buf;
    int16_t *tmp = (int16_t *)(void *)(col + 8 * a.groups);
    const int32_t pixels = out->n * out->h * out->w;
    int32_t b = 0, oy = 0, ox = 0, done, q;
    int8_t *y[4];
    for (q = f->h * f->w * f->c; q < 4 * a.groups; ++q) tmp[q] = 0; /* the depth padding */
    for (done = 0; done < pixels;) {
      for (q = 0; q < 4; ++q) {
        /* Past the last pixel, the last pixel again (same column, same output bytes). */
        y[q] = output + (((ptrdiff_t)b * out->h + oy) * out->w + ox) * out->c;
        packed_fill(&a, col, q, tmp, input + (ptrdiff_t)b * in->h * in->w * in->c, in, f, p,
                    oy * p->stride.h - p->padding.h, ox * p->stride.w - p->padding.w);
        if (++done < pixels && ++ox == out->w) {
          ox = 0;
          if (++oy == out->h) oy = 0, ++b;
        }
      }
      packed_pixels(&a, col, y);
    }
  }
  return PICONAS_S8_OK;
}

int piconas_conv2d_packed_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                             const piconas_per_channel_quant_params *quant,
                             const piconas_dims *input_dims, const int8_t *input,
                             const piconas_dims *filter_dims, const int8_t *packed,
                             const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  const int status = packed_check(params, quant, input_dims, filter_dims, bias, output_dims);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  return packed_run(ctx, params, quant, input_dims, input, filter_dims, packed, bias, output_dims,
                    output);
}

int piconas_conv2d_packed_prechecked_s8(const piconas_s8_context *ctx,
                                        const piconas_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims, const int8_t *input,
                                        const piconas_dims *filter_dims, const int8_t *packed,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *output) {
  return packed_run(ctx, params, quant, input_dims, input, filter_dims, packed, bias, output_dims,
                    output);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
