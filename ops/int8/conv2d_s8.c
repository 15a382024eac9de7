/* int8 2-D convolution (see conv2d_s8.h). */
#include "conv2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "mve_s8.h"
#include "requant32_s8.h"
#include "requantize.h"
#include "simd_s8.h"

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
  return 2 * conv_generic_buffer_size(filter_dims); /* the SIMD variant's two columns */
}

int piconas_conv2d_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  /* Checked first, so that the selection reads bias / multipliers of a valid layer only. */
  const int status =
      conv_check(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
  const int pointwise =
      status == PICONAS_S8_OK && conv_is_1x1(params, input_dims, filter_dims, output_dims);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  if (piconas_conv2d_simd_applies(quant, bias, filter_dims)) {
    return pointwise
               ? piconas_conv2d_1x1_simd_s8(ctx, params, quant, input_dims, input, filter_dims,
                                            filter, bias, output_dims, output)
               : piconas_conv2d_im2col_simd_s8(ctx, params, quant, input_dims, input, filter_dims,
                                               filter, bias, output_dims, output);
  }
#endif
  return pointwise ? piconas_conv2d_1x1_s8(ctx, params, quant, input_dims, input, filter_dims,
                                           filter, bias, output_dims, output)
                   : piconas_conv2d_generic_s8(ctx, params, quant, input_dims, input, filter_dims,
                                               filter, bias, output_dims, output);
}

int piconas_conv2d_s8_check(const piconas_conv_params *params,
                            const piconas_per_channel_quant_params *quant,
                            const piconas_dims *input_dims, const piconas_dims *filter_dims,
                            const int32_t *bias, const piconas_dims *output_dims) {
  static const int8_t tensor = 0; /* stands for the tensors: only their pointers are checked */
  if (input_dims == NULL || filter_dims == NULL || output_dims == NULL) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return conv_check(params, quant, input_dims, &tensor, filter_dims, &tensor, bias, output_dims,
                    &tensor);
}

/* ---- portable variants -----------------------------------------------------------------------
 * Both run one "column" of depth K = KH*KW*C_in raw int8 input values per output pixel (1x1:
 * the input pixel itself; generic: an im2col copy whose taps outside the image hold the input
 * zero point, i.e. x + offset = 0) against four filter rows at a time. The input offset is
 * folded into the bias once per call (bias + offset * sum of the row), so the inner loop is a
 * plain int8 dot product; sums are formed modulo 2^32 (uint32_t), exact because the final
 * accumulator fits int32 (piconas_s8_accumulator_ok). Output channels run in chunks of
 * CONV_CHUNK whose folded biases and requantization constants (requant32_s8.h: 32-bit
 * multiplies only, when the layer qualifies; else MBQM) sit in a small stack table. On Armv6-M
 * (Cortex-M0/M0+) the dot product is an assembly loop (conv_portable_dot4). */
#define CONV_CHUNK 16

typedef struct {
  const int8_t *filter;
  const int32_t *multiplier;
  const int32_t *shift;
  int32_t depth; /* K */
  int32_t oc_begin;
  int32_t oc_end;
  int fast; /* requant32 applies */
  piconas_s8_clamp_stage out;
  /* Per channel of the chunk, padded to a multiple of 4 by repeating its last channel: */
  const int8_t *rows[CONV_CHUNK]; /* the filter row */
  uint32_t folded[CONV_CHUNK];    /* bias + offset * sum of the row, modulo 2^32 */
  piconas_s8_rq32 rq[CONV_CHUNK];
} conv_portable_args;

static void conv_portable_setup(conv_portable_args *a, const piconas_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *f, const int8_t *filter, const int32_t *bias) {
  a->filter = filter;
  a->multiplier = quant->multiplier;
  a->shift = quant->shift;
  a->depth = f->h * f->w * f->c;
  a->fast = piconas_s8_rq32_ok(quant->multiplier, quant->shift, bias, f->n, a->depth);
  a->out = piconas_s8_clamp_stage_of(params->output_offset, params->activation);
  a->oc_begin = a->oc_end = 0;
}

/* Tables of output channels [oc_begin, oc_begin + CONV_CHUNK) (fewer at the end). */
static void conv_portable_chunk(conv_portable_args *a, const int32_t *bias, int32_t offset,
                                int32_t cout, int32_t oc_begin) {
  int32_t j, k;
  a->oc_begin = oc_begin;
  a->oc_end = cout - oc_begin > CONV_CHUNK ? oc_begin + CONV_CHUNK : cout;
  for (j = 0; j < CONV_CHUNK; ++j) {
    const int32_t oc = oc_begin + j < a->oc_end ? oc_begin + j : a->oc_end - 1;
    const int8_t *w = a->filter + (ptrdiff_t)oc * a->depth;
    uint32_t sum = 0;
    for (k = 0; k < a->depth; ++k) sum += (uint32_t)(int32_t)w[k];
    a->rows[j] = w;
    a->folded[j] = (uint32_t)(bias != NULL ? bias[oc] : 0) + (uint32_t)offset * sum;
    a->rq[j] = piconas_s8_rq32_of(a->multiplier[oc], a->shift[oc]);
  }
}

/* acc[j] += sum_k w[j][k] * x[k] for the four filter rows w (modulo 2^32), depth >= 1.
 * The comments give the field offsets on Armv6-M (32-bit pointers). */
typedef struct {
  const int8_t *x;    /* 0 */
  const int8_t *w[4]; /* 4, 8, 12, 16 */
  int32_t depth;      /* 20 */
  uint32_t acc[4];    /* 24, 28, 32, 36 */
} conv_dot4_args;
#if defined(__GNUC__) && defined(__ARM_ARCH_6M__)
/* The Armv6-M assembly of conv_portable_dot4 reads the fields at these offsets. */
typedef char conv_dot4_layout_check
    [offsetof(conv_dot4_args, depth) == 20 && offsetof(conv_dot4_args, acc) == 24 ? 1 : -1];
#endif

static void conv_portable_dot4(conv_dot4_args *d) {
#if defined(__GNUC__) && defined(__ARM_ARCH_6M__)
  /* Armv6-M, 15 instructions per 4 MACs (GCC's C form spills the accumulators: 28): the four
   * accumulators in r8-r11, five streams through one index register counting from -depth up
   * to 0 (the pointers at their ends; the increment sets the flags the branch tests). The block
   * saves and restores every register it uses beyond r0-r3 and ip, so it assembles whatever
   * registers the compiler has left (-O0, -Os and a frame pointer in r7 included). */
  __asm__ volatile(
      ".syntax unified\n\t"
      "mov ip, %[d]\n\t"
      "push {r4, r5, r6, r7}\n\t"
      "mov r4, r8\n\t"
      "mov r5, r9\n\t"
      "mov r6, r10\n\t"
      "mov r7, r11\n\t"
      "push {r4, r5, r6, r7}\n\t"
      "mov r0, ip\n\t"
      "ldr r7, [r0, #24]\n\t"
      "mov r8, r7\n\t"
      "ldr r7, [r0, #28]\n\t"
      "mov r9, r7\n\t"
      "ldr r7, [r0, #32]\n\t"
      "mov r10, r7\n\t"
      "ldr r7, [r0, #36]\n\t"
      "mov r11, r7\n\t"
      "ldmia r0!, {r1, r2, r3, r4, r5, r6}\n\t"
      "adds r1, r1, r6\n\t"
      "adds r2, r2, r6\n\t"
      "adds r3, r3, r6\n\t"
      "adds r4, r4, r6\n\t"
      "adds r5, r5, r6\n\t"
      "negs r6, r6\n"
      "1:\n\t"
      "ldrsb r7, [r1, r6]\n\t"
      "ldrsb r0, [r2, r6]\n\t"
      "muls r0, r7, r0\n\t"
      "add r8, r0\n\t"
      "ldrsb r0, [r3, r6]\n\t"
      "muls r0, r7, r0\n\t"
      "add r9, r0\n\t"
      "ldrsb r0, [r4, r6]\n\t"
      "muls r0, r7, r0\n\t"
      "add r10, r0\n\t"
      "ldrsb r0, [r5, r6]\n\t"
      "muls r0, r7, r0\n\t"
      "add r11, r0\n\t"
      "adds r6, r6, #1\n\t"
      "bne 1b\n\t"
      "mov r0, ip\n\t"
      "mov r7, r8\n\t"
      "str r7, [r0, #24]\n\t"
      "mov r7, r9\n\t"
      "str r7, [r0, #28]\n\t"
      "mov r7, r10\n\t"
      "str r7, [r0, #32]\n\t"
      "mov r7, r11\n\t"
      "str r7, [r0, #36]\n\t"
      "pop {r4, r5, r6, r7}\n\t"
      "mov r8, r4\n\t"
      "mov r9, r5\n\t"
      "mov r10, r6\n\t"
      "mov r11, r7\n\t"
      "pop {r4, r5, r6, r7}\n\t"
      ".syntax divided"
      :
      : [d] "l"(d)
      : "r0", "r1", "r2", "r3", "ip", "cc", "memory");
#else
  const int8_t *x = d->x, *w0 = d->w[0], *w1 = d->w[1], *w2 = d->w[2], *w3 = d->w[3];
  int32_t k;
  for (k = 0; k < d->depth; ++k) {
    const int32_t u = x[k];
    d->acc[0] += (uint32_t)(w0[k] * u);
    d->acc[1] += (uint32_t)(w1[k] * u);
    d->acc[2] += (uint32_t)(w2[k] * u);
    d->acc[3] += (uint32_t)(w3[k] * u);
  }
#endif
}

/* Output channels [oc_begin, oc_end) of one pixel from its column (raw int8, depth values).
 * Fields are copied to locals: the int8 stores could alias the struct. */
static void conv_portable_pixel(const conv_portable_args *a, const int8_t *col, int8_t *y) {
  const int32_t depth = a->depth, count = a->oc_end - a->oc_begin;
  const int fast = a->fast;
  const piconas_s8_clamp_stage out = a->out;
  const int8_t *const *rows = a->rows;
  const uint32_t *folded = a->folded;
  const piconas_s8_rq32 *rq = a->rq;
  const int32_t *multiplier = a->multiplier + a->oc_begin;
  const int32_t *shift = a->shift + a->oc_begin;
  conv_dot4_args d;
  int32_t i, j;
  y += a->oc_begin;
  d.x = col;
  d.depth = depth;
  for (i = 0; i < count; i += 4) {
    const int32_t n = count - i < 4 ? count - i : 4;
    for (j = 0; j < 4; ++j) {
      d.w[j] = rows[i + j];
      d.acc[j] = folded[i + j];
    }
    conv_portable_dot4(&d);
    for (j = 0; j < n; ++j) {
      const int32_t c = i + j;
      const int32_t v = fast ? piconas_s8_rq32_apply((int32_t)d.acc[j], &rq[c])
                             : piconas_mbqm((int32_t)d.acc[j], multiplier[c], shift[c]);
      y[c] = piconas_s8_clamp_store(v, &out);
    }
  }
}

int piconas_conv2d_1x1_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                          const piconas_per_channel_quant_params *quant,
                          const piconas_dims *input_dims, const int8_t *input,
                          const piconas_dims *filter_dims, const int8_t *filter,
                          const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  const int status =
      conv_check(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
  conv_portable_args a;
  int32_t b, oy, ox, oc_begin;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!conv_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < conv_1x1_buffer_size(input_dims) ||
      ((uintptr_t)ctx->buf & 1u) != 0) {
    return PICONAS_S8_ERR_BUFFER; /* not used here; kept so that every variant takes one size */
  }
  conv_portable_setup(&a, params, quant, filter_dims, filter, bias);
  for (oc_begin = 0; oc_begin < output_dims->c; oc_begin += CONV_CHUNK) {
    int8_t *y = output;
    conv_portable_chunk(&a, bias, params->input_offset, output_dims->c, oc_begin);
    for (b = 0; b < output_dims->n; ++b) {
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int8_t *x = input + (((ptrdiff_t)b * input_dims->h + oy * params->stride.h) *
                                   input_dims->w * input_dims->c);
        for (ox = 0; ox < output_dims->w; ++ox, y += output_dims->c) {
          conv_portable_pixel(&a, x + (ptrdiff_t)ox * params->stride.w * input_dims->c, y);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

/* im2col of the window of one output pixel into col (KH*KW*C_in raw int8 values); taps outside
 * the image hold the input zero point -offset (x + offset = 0: the same as skipping them). */
static void conv_fill_column(int8_t *col, const int8_t *image, const piconas_dims *in,
                             const piconas_dims *f, const piconas_conv_params *p, int32_t iy0,
                             int32_t ix0) {
  int32_t ky_begin, ky_end, kx_begin, kx_end, ky, kx, ci;
  const int32_t cin = in->c;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  piconas_s8_tap_range(iy0, p->dilation.h, f->h, in->h, &ky_begin, &ky_end);
  piconas_s8_tap_range(ix0, p->dilation.w, f->w, in->w, &kx_begin, &kx_end);
  for (ky = 0; ky < f->h; ++ky) {
    for (kx = 0; kx < f->w; ++kx, col += cin) {
      if (ky >= ky_begin && ky < ky_end && kx >= kx_begin && kx < kx_end) {
        const int8_t *src =
            image +
            ((ptrdiff_t)(iy0 + ky * p->dilation.h) * in->w + (ix0 + kx * p->dilation.w)) * cin;
        for (ci = 0; ci < cin; ++ci) col[ci] = src[ci];
      } else {
        for (ci = 0; ci < cin; ++ci) col[ci] = zero_point;
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
  conv_portable_args a;
  int32_t b, oy, ox, oc_begin;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < conv_generic_buffer_size(filter_dims) ||
      ((uintptr_t)ctx->buf & 1u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
  conv_portable_setup(&a, params, quant, filter_dims, filter, bias);
  for (oc_begin = 0; oc_begin < output_dims->c; oc_begin += CONV_CHUNK) {
    int8_t *col = (int8_t *)ctx->buf;
    int8_t *y = output;
    conv_portable_chunk(&a, bias, params->input_offset, output_dims->c, oc_begin);
    for (b = 0; b < output_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c;
      for (oy = 0; oy < output_dims->h; ++oy) {
        for (ox = 0; ox < output_dims->w; ++ox, y += output_dims->c) {
          conv_fill_column(col, image, input_dims, filter_dims, params,
                           oy * params->stride.h - params->padding.h,
                           ox * params->stride.w - params->padding.w);
          conv_portable_pixel(&a, col, y);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

#if PICONAS_S8_SIMD_AVAILABLE

/* ---- SIMD variants ----------------------------------------------------------------------------
 * Both run the same 2x2-blocked matrix product: two output pixels (their inputs + offset as
 * int16 "columns" of depth K = KH*KW*C_in in the scratch) times two filter rows per step.
 * In each column, every full group of 4 values is stored as (x0, x2, x1, x3), which is what
 * SXTB16 makes of 4 filter bytes (w0, w2) and SXTB16 ROR #8 (w1, w3): one 32-bit load of 4
 * weights and two SMLAD per pixel do 4 MACs, with no widening copy of the filter. The K % 4
 * remainder is kept in natural order and done with scalar MACs. */

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
  if (ctx == NULL || ctx->buf == NULL || ctx->size < 2 * conv_generic_buffer_size(filter_dims) ||
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
  const int status =
      conv_check(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if ((pointwise && !conv_is_1x1(params, input_dims, filter_dims, output_dims)) ||
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
