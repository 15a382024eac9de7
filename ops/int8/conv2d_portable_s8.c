/* int8 2-D convolution, the portable variants (conv2d_s8.h: piconas_conv2d_1x1_s8,
 * piconas_conv2d_generic_s8; what Cortex-M0/M3 run and the fallback of every core).
 * Both run one "column" of depth K = KH*KW*C_in raw int8 input values per output pixel (1x1:
 * the input pixel itself; generic: an im2col copy whose taps outside the image hold the input
 * zero point, i.e. x + offset = 0) against four filter rows at a time. The input offset is
 * folded into the bias once per call (bias + offset * sum of the row), so the inner loop is a
 * plain int8 dot product; sums are formed modulo 2^32 (uint32_t), exact because the final
 * accumulator fits int32 (piconas_s8_accumulator_ok). Output channels run in chunks of
 * CONV_CHUNK whose folded biases and requantization constants (requant32_s8.h: 32-bit
 * multiplies only, when the layer qualifies; else MBQM) sit in a small stack table. On Armv6-M
 * (Cortex-M0/M0+) the dot product is an assembly loop (conv_portable_dot4). */
#include <stddef.h>

#include "conv2d_s8.h"
#include "conv2d_variants_s8.h"
#include "int8_checks.h"
#include "requant32_s8.h"
#include "requantize.h"

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
  const int status = piconas_conv2d_check_args_s8(params, quant, input_dims, input, filter_dims,
                                                  filter, bias, output_dims, output);
  conv_portable_args a;
  int32_t b, oy, ox, oc_begin;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!piconas_conv2d_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL || ctx->size < piconas_conv2d_1x1_buffer_size(input_dims) ||
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
  const int status = piconas_conv2d_check_args_s8(params, quant, input_dims, input, filter_dims,
                                                  filter, bias, output_dims, output);
  conv_portable_args a;
  int32_t b, oy, ox, oc_begin;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (ctx == NULL || ctx->buf == NULL ||
      ctx->size < piconas_conv2d_generic_buffer_size(filter_dims) ||
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
