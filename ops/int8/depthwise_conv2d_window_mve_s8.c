/* int8 depthwise convolution (M = 1) with MVE (Cortex-M55) by window gathers, in place (see
 * depthwise_conv2d_inplace_s8.h) and out of place (depthwise_conv2d_s8.h); see mve_s8.h.
 *
 * Per channel c, as the portable variant: input channel c is copied into a plane padded with
 * the input zero point (the rows and columns the windows reach beyond the image: x +
 * input_offset = 0 there), so that every window lies inside it; then every output pixel of
 * channel c is computed from the plane and written to the channel-c slots of the output. The
 * padded plane lives in 320 bytes of stack, in bands of output rows (each band holds the input
 * rows its windows reach). In place, channel c is first copied to the H*W scratch (the output
 * overwrites the input as it goes) and the bands are copied from there.
 * One output pixel is a dot product over its window: the window's rows are gathered from the
 * plane into one int8x16 vector, `rows` kernel rows of KW bytes each (VLDRB gather with 8-bit
 * offsets r*W + k), and VMLADAVA multiplies them with the same lanes of the channel's weights,
 * 16 MACs per instruction (3x3: the whole window in one gather and one VMLADAVA; 5x5: two; 7x7:
 * four). The last group of rows starts at row KH - rows (overlapping the one before, whose rows
 * get zero weights there), so every lane reads a tap of the window. The input offset is folded
 * into full = bias + input_offset * sum(w): a window is full + sum(w * x).
 * The sums of a few output rows go to a buffer on the stack, then are requantized four per
 * vector (mve_s8.h's arithmetic) and stored by a scatter at stride C. A layer whose bands or
 * windows do not fit (a band narrower than the window, output rows over 48 pixels, tap offsets
 * over 255 bytes, KW over 16) runs the portable kernel. Stack: about 0.9 KB in all. QEMU counts
 * a gather as one instruction; a real Cortex-M55 takes about a cycle per lane for it. */
#include "depthwise_conv2d_s8.h"
#include "mve_s8.h"

enum {
  DWI_LANES = 16,
  DWI_MAX_GROUPS = 4,  /* gathers per pixel (K <= 8: two rows or more per gather) */
  DWI_PAD_STACK = 320, /* bytes of a zero-point padded band of the plane on the stack */
  DWI_SUMS_STACK = 48  /* int32 sums on the stack (output rows <= 48) */
};

/* The padded plane's columns. */
static int32_t dwi_plane_w(const piconas_dw_conv_params *p, const piconas_dims *in,
                           const piconas_dims *f, const piconas_dims *out) {
  const int32_t right =
      (out->w - 1) * p->stride.w - p->padding.w + (f->w - 1) * p->dilation.w - (in->w - 1);
  return p->padding.w + in->w + (right > 0 ? right : 0);
}

/* Kernel rows per gather. */
static int32_t dwi_rows(const piconas_dims *f) {
  const int32_t rows = DWI_LANES / (f->w < DWI_LANES ? f->w : DWI_LANES);
  return rows < f->h ? rows : f->h;
}

/* Output rows per band of the padded plane; 0 when not even one fits. */
static int32_t dwi_band_rows(const piconas_dw_conv_params *p, const piconas_dims *f,
                             const piconas_dims *out, int32_t plane_w) {
  const int32_t band_in_rows = DWI_PAD_STACK / plane_w; /* int32: no libgcc division */
  const int32_t window_rows = (f->h - 1) * p->dilation.h + 1;
  const int32_t band_rows =
      band_in_rows >= window_rows ? (band_in_rows - window_rows) / p->stride.h + 1 : 0;
  return band_rows < out->h ? band_rows : out->h;
}

int piconas_depthwise_conv2d_mve_fits(const piconas_dw_conv_params *p, const piconas_dims *in,
                                      const piconas_dims *f, const piconas_dims *out) {
  const int32_t KH = f->h, KW = f->w, plane_w = dwi_plane_w(p, in, f, out);
  const int32_t rows = dwi_rows(f);
  /* 8-bit gather offsets within a window; 16-bit weight offsets (tap * C). */
  return !(KW > DWI_LANES || dwi_band_rows(p, f, out, plane_w) < 1 || out->w > DWI_SUMS_STACK ||
           (int64_t)(KH - 1) * p->dilation.h * plane_w + (int64_t)(KW - 1) * p->dilation.w > 255 ||
           (KH + rows - 1) / rows > DWI_MAX_GROUPS || (int64_t)KH * KW * in->c > 65535);
}

#if PICONAS_S8_MVE

#include <stddef.h>

#include "int8_checks.h"

/* The layer's constants, the same for every channel. */
typedef struct {
  int32_t plane_w;        /* the padded plane's columns */
  int32_t groups;         /* gathers per pixel: 1, 2 or 4 */
  int32_t rows_per_store; /* output rows whose sums the sums buffer holds */
  int32_t band_rows;      /* output rows per band of the padded plane */
  int32_t window_rows;    /* plane rows one output row reads: (KH - 1) * dilation.h + 1 */
  uint8_t taps[DWI_MAX_GROUPS][DWI_LANES];          /* lane -> plane offset from tap (0, 0) */
  uint16_t weight_index[DWI_MAX_GROUPS][DWI_LANES]; /* lane -> filter offset (tap * C) */
  mve_pred16_t weight_pred[DWI_MAX_GROUPS][4];      /* 4 lanes each: a weight of their own */
} dwi_layer;

/* Fills l; 0 when the window or a band does not fit the lanes, offsets and buffers (the caller
 * then runs the portable variant). */
static int dwi_layer_of(const piconas_dw_conv_params *p, const piconas_dims *in,
                        const piconas_dims *f, const piconas_dims *out, dwi_layer *l) {
  const int32_t KH = f->h, KW = f->w, dh = p->dilation.h, dw = p->dilation.w;
  const int32_t plane_w = dwi_plane_w(p, in, f, out), rows = dwi_rows(f);
  int32_t g, i;
  if (!piconas_depthwise_conv2d_mve_fits(p, in, f, out)) {
    return 0;
  }
  l->plane_w = plane_w;
  l->window_rows = (KH - 1) * dh + 1;
  l->band_rows = dwi_band_rows(p, f, out, plane_w);
  l->rows_per_store = DWI_SUMS_STACK / out->w;
  /* 3 groups run as 4, the last with zero weights (fewer specialised pixel loops). */
  l->groups = (KH + rows - 1) / rows == 3 ? 4 : (KH + rows - 1) / rows;
  for (g = 0; g < l->groups; ++g) {
    const int32_t first = g * rows < KH - rows ? g * rows : KH - rows;
    for (i = 0; i < 4; ++i) l->weight_pred[g][i] = 0;
    for (i = 0; i < DWI_LANES; ++i) {
      const int32_t r = first + i / KW;
      /* Rows the group before already covers get zero weights. */
      const int own = i < rows * KW && r >= g * rows;
      l->taps[g][i] =
          (uint8_t)(i < rows * KW ? r * dh * plane_w + (i % KW) * dw : first * dh * plane_w);
      l->weight_index[g][i] = own ? (uint16_t)((r * KW + i % KW) * in->c) : 0u;
      if (own) l->weight_pred[g][i / 4] |= (mve_pred16_t)(0xFu << (4 * (i % 4)));
    }
  }
  return 1;
}

/* The packed weights of channel c, 16 lanes per group (zero where a lane has no weight of its
 * own), four lanes per 32-bit-offset gather; returns their sum. */
static int32_t dwi_weights(const dwi_layer *l, const int8_t *filter, int32_t c, int8_t *packed) {
  int32_t g, q, sum = 0;
  for (g = 0; g < l->groups; ++g) {
    for (q = 0; q < 4; ++q) {
      vstrbq_s32(packed + 16 * g + 4 * q,
                 vldrbq_gather_offset_z_s32(filter + c, vldrhq_u32(&l->weight_index[g][4 * q]),
                                            l->weight_pred[g][q]));
    }
    sum = vaddvaq_s8(sum, vldrbq_s8(packed + 16 * g));
  }
  return sum;
}

/* The requantization and output stage of one channel (mve_s8.h's arithmetic). */
typedef struct {
  int32_t multiplier, left, right, offset, min, max;
} dwi_out;

/* Requantizes the n sums of one channel's output row and stores them at y, y + C, ...: four
 * per vector, a loop of its own so that its constants stay in registers. */
static void dwi_store_row(const int32_t *sums, int32_t n, const dwi_out *o, int32_t C, int8_t *y) {
  const uint32x4_t slots = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)C);
  const int32x4_t min = vdupq_n_s32(o->min), max = vdupq_n_s32(o->max);
  const int32x4_t fix = vdupq_n_s32(o->right > 0 ? -1 : 0);
  const int32_t left = o->left, multiplier = o->multiplier, neg_right = -o->right;
  const int32_t offset = o->offset;
  const ptrdiff_t step = (ptrdiff_t)4 * C;
  int32_t i;
  for (i = 0; i < n; i += 4, y += step) {
    int32x4_t h = vqrdmulhq_n_s32(vshlq_r_s32(vldrwq_s32(sums + i), left), multiplier);
    h = vaddq_s32(h, vandq_s32(vshrq_n_s32(h, 31), fix)); /* half away from zero below 0 */
    h = vminq_s32(vmaxq_s32(vaddq_n_s32(vrshlq_n_s32(h, neg_right), offset), min), max);
    if (i + 4 <= n) {
      vstrbq_scatter_offset_s32(y, slots, h);
    } else {
      vstrbq_scatter_offset_p_s32(y, slots, h, vctp32q((uint32_t)(n - i)));
    }
  }
}

/* x += step, opaque to the compiler: without it GCC 12 keeps a pointer per pixel and group of
 * an unrolled loop and spills them. */
#define DWI_NEXT(x, step)  \
  do {                     \
    x += (step);           \
    __asm__("" : "+r"(x)); \
  } while (0)

/* 16 int8 lanes per gather, group g at offsets t<g> from x (G <= 4, a constant where inlined). */
#define DWI_INTERIOR8(x, acc)                                               \
  do {                                                                      \
    acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t0), w0);            \
    if (G > 1) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t1), w1); \
    if (G > 2) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t2), w2); \
    if (G > 3) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t3), w3); \
  } while (0)

/* Every output pixel of channel c from its padded band (G gathers per pixel, a constant where
 * inlined). */
static inline __attribute__((always_inline)) void dwi_channel(const dwi_layer *l,
                                                              const piconas_dw_conv_params *p,
                                                              const piconas_dims *out,
                                                              const int8_t *packed, int32_t full,
                                                              const dwi_out *o, const int8_t *plane,
                                                              int8_t *y, int32_t *sums, int32_t G) {
  const int32_t C = out->c, OW = out->w, sw = p->stride.w, rows_per_store = l->rows_per_store;
  const uint8x16_t t0 = vldrbq_u8(l->taps[0]), t1 = vldrbq_u8(l->taps[G > 1 ? 1 : 0]);
  const uint8x16_t t2 = vldrbq_u8(l->taps[G > 2 ? 2 : 0]), t3 = vldrbq_u8(l->taps[G > 3 ? 3 : 0]);
  const int8x16_t w0 = vldrbq_s8(packed), w1 = vldrbq_s8(packed + 16);
  const int8x16_t w2 = vldrbq_s8(packed + 32), w3 = vldrbq_s8(packed + 48);
  const ptrdiff_t row_step = (ptrdiff_t)p->stride.h * l->plane_w;
  const int8_t *row = plane;
  int32_t oy, rows_held = 0;
  for (oy = 0; oy < out->h; ++oy, row += row_step) {
    const int8_t *x = row;
    int32_t ox;
    for (ox = 0; ox < OW; ++ox) {
      int32_t a = full;
      DWI_INTERIOR8(x, a);
      sums[ox] = a;
      DWI_NEXT(x, sw);
    }
    sums += OW;
    if (++rows_held == rows_per_store || oy + 1 == out->h) { /* consecutive output pixels */
      dwi_store_row(sums - rows_held * OW, rows_held * OW, o, C, y);
      y += (ptrdiff_t)rows_held * OW * C;
      sums -= rows_held * OW;
      rows_held = 0;
    }
  }
}

/* dwi_channel for G = 1, 2, 4 (3 runs as 4): separate functions, so that only one frame of spill
 * slots is live. */
#define DWI_CHANNEL_G(G)                                                                    \
  static __attribute__((noinline)) void dwi_channel_##G(                                    \
      const dwi_layer *l, const piconas_dw_conv_params *p, const piconas_dims *out,         \
      const int8_t *packed, int32_t full, const dwi_out *o, const int8_t *plane, int8_t *y, \
      int32_t *sums) {                                                                      \
    dwi_channel(l, p, out, packed, full, o, plane, y, sums, G);                             \
  }
DWI_CHANNEL_G(1)
DWI_CHANNEL_G(2)
DWI_CHANNEL_G(4)

typedef void (*dwi_channel_fn)(const dwi_layer *, const piconas_dw_conv_params *,
                               const piconas_dims *, const int8_t *, int32_t, const dwi_out *,
                               const int8_t *, int8_t *, int32_t *);
static const dwi_channel_fn dwi_channel_of[DWI_MAX_GROUPS] = {dwi_channel_1, dwi_channel_2,
                                                              dwi_channel_4, dwi_channel_4};

static dwi_out dwi_out_of(const piconas_dw_conv_params *p,
                          const piconas_per_channel_quant_params *q, int32_t c) {
  dwi_out o;
  o.multiplier = q->multiplier[c];
  o.left = q->shift[c] > 0 ? q->shift[c] : 0;
  o.right = q->shift[c] < 0 ? -q->shift[c] : 0;
  o.offset = p->output_offset;
  o.min = p->activation.min;
  o.max = p->activation.max;
  return o;
}

/* plane[i] = data[i * C + c] for i < pixels (channel c of an NHWC image), 8 per gather. */
static void dwi_channel_plane(const int8_t *data, int32_t C, int32_t c, int32_t pixels,
                              int8_t *plane) {
  const uint16x8_t slots = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)C);
  const ptrdiff_t step = (ptrdiff_t)8 * C;
  const int8_t *x = data + c;
  int32_t i;
  for (i = 0; i + 8 <= pixels; i += 8, x += step) {
    vstrbq_s16(plane + i, vldrbq_gather_offset_s16(x, slots));
  }
  if (i < pixels) {
    const mve_pred16_t lanes = vctp16q((uint32_t)(pixels - i));
    vstrbq_p_s16(plane + i, vldrbq_gather_offset_z_s16(x, slots, lanes), lanes);
  }
}

/* Rows [first, first + rows) of the padded plane of channel c of an [H, W, C] image (C = 1: a
 * plane) into plane: the input zero point everywhere, then the image's pixels (at padding.h,
 * padding.w), 16 bytes per load from a plane, else 8 per gather. */
static void dwi_padded_band(const dwi_layer *l, const piconas_dw_conv_params *p, int32_t H,
                            int32_t W, int32_t C, const int8_t *data, int32_t first, int32_t rows,
                            int8_t *plane) {
  const int32_t size = rows * l->plane_w, lanes = C == 1 ? 16 : 8, W_full = W - W % lanes;
  const uint16x8_t slots = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)C);
  const mve_pred16_t tail =
      C == 1 ? vctp8q((uint32_t)(W - W_full)) : vctp16q((uint32_t)(W - W_full));
  const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
  const ptrdiff_t step = (ptrdiff_t)8 * C;
  int32_t i, r, iy = first - p->padding.h;
  for (i = 0; i + 16 <= size; i += 16) vstrbq_s8(plane + i, zp);
  if (i < size) vstrbq_p_s8(plane + i, zp, vctp8q((uint32_t)(size - i)));
  for (r = 0; r < rows; ++r, ++iy) {
    const int8_t *x = data + (ptrdiff_t)iy * W * C;
    int8_t *dst = plane + (ptrdiff_t)r * l->plane_w + p->padding.w;
    if (iy < 0 || iy >= H) continue;
    if (C == 1) { /* a plane: 16 bytes per load */
      for (i = 0; i < W_full; i += 16) vstrbq_s8(dst + i, vldrbq_s8(x + i));
      if (i < W) vstrbq_p_s8(dst + i, vldrbq_z_s8(x + i, tail), tail);
      continue;
    }
    for (i = 0; i < W_full; i += 8, x += step) {
      vstrbq_s16(dst + i, vldrbq_gather_offset_s16(x, slots));
    }
    if (i < W) vstrbq_p_s16(dst + i, vldrbq_gather_offset_z_s16(x, slots, tail), tail);
  }
}

/* Every channel of one image, from input into output; in place (output == input) channel c is
 * first copied to scratch (H*W bytes), and its bands from there. */
static void dwi_channels(const dwi_layer *l, const piconas_dw_conv_params *params,
                         const piconas_per_channel_quant_params *quant, const piconas_dims *in,
                         const int8_t *input, const int8_t *filter, const int32_t *bias,
                         const piconas_dims *out, int8_t *output, int8_t *scratch) {
  int32_t plane_words[DWI_PAD_STACK / 4], sums[DWI_SUMS_STACK];
  int8_t packed[DWI_MAX_GROUPS * DWI_LANES] = {0};
  const dwi_channel_fn run = dwi_channel_of[l->groups - 1];
  int32_t c, oy;
  for (c = 0; c < in->c; ++c) {
    const dwi_out o = dwi_out_of(params, quant, c);
    const int32_t full =
        (bias != NULL ? bias[c] : 0) + params->input_offset * dwi_weights(l, filter, c, packed);
    const int8_t *src = input + c;
    int32_t src_c = in->c;
    if (scratch != NULL) {
      dwi_channel_plane(input, in->c, c, in->h * in->w, scratch);
      src = scratch;
      src_c = 1;
    }
    for (oy = 0; oy < out->h; oy += l->band_rows) { /* bands of output rows */
      piconas_dims band = *out;
      band.h = out->h - oy < l->band_rows ? out->h - oy : l->band_rows;
      dwi_padded_band(l, params, in->h, in->w, src_c, src, oy * params->stride.h,
                      (band.h - 1) * params->stride.h + l->window_rows, (int8_t *)plane_words);
      run(l, params, &band, packed, full, &o, (const int8_t *)plane_words,
          output + (ptrdiff_t)oy * out->w * out->c + c, sums);
    }
  }
}

int piconas_depthwise_conv2d_mve_s8(const piconas_dw_conv_params *params,
                                    const piconas_per_channel_quant_params *quant,
                                    const piconas_dims *input_dims, const int8_t *input,
                                    const piconas_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const piconas_dims *output_dims,
                                    int8_t *output) {
  dwi_layer l;
  int32_t b;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, &l)) return 0;
  for (b = 0; b < output_dims->n; ++b) {
    dwi_channels(&l, params, quant, input_dims,
                 input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c, filter, bias,
                 output_dims,
                 output + (ptrdiff_t)b * output_dims->h * output_dims->w * output_dims->c, NULL);
  }
  return 1;
}

int piconas_depthwise_conv2d_inplace_mve_s8(const piconas_s8_context *ctx,
                                            const piconas_dw_conv_params *params,
                                            const piconas_per_channel_quant_params *quant,
                                            const piconas_dims *input_dims,
                                            const piconas_dims *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const piconas_dims *output_dims,
                                            int8_t *data) {
  dwi_layer l;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, &l)) return 0;
  dwi_channels(&l, params, quant, input_dims, data, filter, bias, output_dims, data,
               (int8_t *)ctx->buf);
  return 1;
}

#endif /* PICONAS_S8_MVE */
