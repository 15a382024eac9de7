/* int8 depthwise convolution (M = 1) with MVE (Cortex-M55) by window gathers, in place (see
 * depthwise_conv2d_inplace_s8.h) and, where the padded plane fits the stack, out of place
 * (depthwise_conv2d_s8.h); see mve_s8.h.
 *
 * Per channel c, as the portable variant: input channel c is copied to a plane, then every
 * output pixel of channel c is computed from the plane and written to the channel-c slots of
 * data. One output pixel is a dot product over its window: the window's rows are gathered from
 * the plane into one int8x16 vector, `rows` kernel rows of KW bytes each (VLDRB gather with
 * 8-bit offsets r*W + k), and VMLADAVA multiplies them with the same lanes of the channel's
 * weights, 16 MACs per instruction (3x3: the whole window in one gather and one VMLADAVA; 5x5:
 * two; 7x7: four). The last group of rows starts at row KH - rows (overlapping the one before,
 * whose rows get zero weights there), so every lane reads a tap of the window. The input offset
 * is folded into full = bias + input_offset * sum(w): a window inside the plane is
 * full + sum(w * x).
 * Where the plane with its padding (the rows and columns the windows reach beyond the image,
 * filled with the input zero point: x + input_offset = 0) fits in 320 bytes of stack (or in the
 * scratch, when the caller gives more than H*W), every window lies inside it. Otherwise the
 * plane is the bare H*W channel in the scratch and a pixel at the border predicates its gathers
 * to the taps inside the image and puts the zero point into the other lanes (VPSEL).
 * The sums of a few output rows go to a buffer (the stack, or the scratch when the padded plane
 * is on the stack), then are requantized four per vector (mve_s8.h's arithmetic) and stored by
 * a scatter at stride C. Stack: about 1.5 KB in all. QEMU counts a gather as one instruction; a
 * real Cortex-M55 takes about a cycle per lane for it. */
#include "mve_s8.h"

#if PICONAS_S8_MVE

#include <stddef.h>

#include "depthwise_conv2d_s8.h"
#include "int8_checks.h"

enum {
  DWI_LANES = 16,
  DWI_MAX_GROUPS = 4,  /* gathers per pixel (K <= 8: two rows or more per gather) */
  DWI_MAX_EDGE = 4,    /* output rows / columns at each border with a mask of their own */
  DWI_PAD_STACK = 320, /* bytes of a zero-point padded plane on the stack */
  DWI_SUMS_STACK = 48  /* int32 sums on the stack out of place (output rows <= 48) */
};

/* The layer's constants, the same for every channel. */
typedef struct {
  int32_t padded;           /* the plane has the padding (input zero point) around it */
  int32_t plane_h, plane_w; /* H, W; or the padded plane's rows and columns */
  int32_t row0, col0;       /* plane position of output (0, 0)'s tap (0, 0) */
  int32_t groups;           /* gathers per pixel */
  int32_t rows_per_store;   /* output rows whose sums the sums buffer holds */
  int32_t band_rows;        /* output rows per band of the padded plane */
  int32_t window_rows;      /* plane rows one output row reads: (KH - 1) * dilation.h + 1 */
  uint8_t taps[DWI_MAX_GROUPS][DWI_LANES];            /* lane -> plane offset from tap (0, 0) */
  int16_t full_mask;                                  /* the lanes that hold a tap */
  int16_t all_rows[DWI_MAX_GROUPS];                   /* full_mask per group: an interior row */
  uint16_t weight_index[DWI_MAX_GROUPS][DWI_LANES];   /* lane -> filter offset (tap * C) */
  mve_pred16_t weight_pred[DWI_MAX_GROUPS][4];        /* 4 lanes each: a weight of their own */
  int32_t y_lo, y_end, x_lo, x_end;                   /* interior output rows / columns */
  int16_t row_mask[2 * DWI_MAX_EDGE][DWI_MAX_GROUPS]; /* border rows: top, then bottom */
  int16_t col_mask[2 * DWI_MAX_EDGE];                 /* border columns: left, then right */
} dwi_layer;

/* Output positions [*lo, *end) along one axis whose taps all lie inside the input. */
static void dwi_interior(int32_t pad, int32_t stride, int32_t dilation, int32_t k, int32_t in,
                         int32_t out, int32_t *lo, int32_t *end) {
  const int32_t last = in - 1 + pad - (k - 1) * dilation;
  int32_t e = last < 0 ? 0 : last / stride + 1;
  *lo = (pad + stride - 1) / stride;
  *lo = *lo < out ? *lo : out;
  e = e < out ? e : out;
  *end = e > *lo ? e : *lo;
}

/* Lanes whose tap lies inside [0, size) along one axis: lane i < used is tap (i / kw) of the
 * row axis (starting at row `first`) or tap (i % kw) of the column axis; taps >= k are none. */
static int16_t dwi_mask(int32_t origin, int32_t dilation, int32_t size, int32_t kw, int32_t used,
                        int rows_axis, int32_t first, int32_t k) {
  uint32_t m = 0;
  int32_t i;
  for (i = 0; i < used; ++i) {
    const int32_t t = rows_axis ? first + i / kw : i % kw;
    const int32_t at = origin + t * dilation;
    if (at >= 0 && at < size && t < k) m |= 1u << i;
  }
  return (int16_t)(uint16_t)m; /* int16: masks ANDed as int need no sign extension */
}

/* Fills l; 0 when the window or a border does not fit the lanes and tables (the caller then
 * runs the portable variant). With a padded plane of at most pad_bytes (every window inside
 * it: the rows and columns the windows reach beyond the image hold the input zero point), every
 * pixel is an interior one. */
static int dwi_layer_of(const piconas_dw_conv_params *p, const piconas_dims *in,
                        const piconas_dims *f, const piconas_dims *out, int32_t pad_bytes,
                        int bands, dwi_layer *l) {
  const int32_t KH = f->h, KW = f->w, W = in->w, C = in->c;
  const int32_t dh = p->dilation.h, dw = p->dilation.w;
  const int32_t below = (out->h - 1) * p->stride.h - p->padding.h + (KH - 1) * dh - (in->h - 1);
  const int32_t right = (out->w - 1) * p->stride.w - p->padding.w + (KW - 1) * dw - (W - 1);
  const int32_t padded_h = p->padding.h + in->h + (below > 0 ? below : 0);
  const int32_t padded_w = p->padding.w + W + (right > 0 ? right : 0);
  int32_t rows = DWI_LANES / KW, g, i, o;
  /* Output rows per band of the padded plane (all of them without bands). */
  const int32_t band_in_rows = padded_w > 0 ? pad_bytes / padded_w : 0; /* int32: no libgcc */
  const int32_t band_rows =
      band_in_rows > (KH - 1) * dh ? (band_in_rows - (KH - 1) * dh - 1) / p->stride.h + 1 : 0;
  l->band_rows = band_rows < out->h ? band_rows : out->h;
  l->window_rows = (KH - 1) * dh + 1;
  l->padded = (bands ? l->band_rows >= 1 : (int64_t)padded_h * padded_w <= pad_bytes) &&
              (int64_t)(KH - 1) * dh * padded_w + (int64_t)(KW - 1) * dw <= 255;
  l->plane_h = l->padded ? padded_h : in->h;
  l->plane_w = l->padded ? padded_w : W;
  l->row0 = l->padded ? 0 : -p->padding.h;
  l->col0 = l->padded ? 0 : -p->padding.w;
  rows = rows < KH ? rows : KH;
  /* 8-bit gather offsets within a window; 16-bit weight offsets (tap * C) and plane copy. */
  if (KW > DWI_LANES || (int64_t)(KH - 1) * dh * l->plane_w + (int64_t)(KW - 1) * dw > 255 ||
      (KH + rows - 1) / rows > DWI_MAX_GROUPS || (int64_t)KH * KW * C > 65535) {
    return 0;
  }
  /* 3 groups run as 4, the last with zero weights (fewer specialised pixel loops). */
  l->groups = (KH + rows - 1) / rows == 3 ? 4 : (KH + rows - 1) / rows;
  if (l->padded) {
    l->y_lo = l->x_lo = 0;
    l->y_end = out->h;
    l->x_end = out->w;
  } else {
    dwi_interior(p->padding.h, p->stride.h, dh, KH, in->h, out->h, &l->y_lo, &l->y_end);
    dwi_interior(p->padding.w, p->stride.w, dw, KW, W, out->w, &l->x_lo, &l->x_end);
  }
  if (l->y_lo > DWI_MAX_EDGE || out->h - l->y_end > DWI_MAX_EDGE || l->x_lo > DWI_MAX_EDGE ||
      out->w - l->x_end > DWI_MAX_EDGE) {
    return 0;
  }
  l->full_mask = (int16_t)(uint16_t)((1u << (rows * KW)) - 1u);
  for (g = 0; g < DWI_MAX_GROUPS; ++g) l->all_rows[g] = l->full_mask;
  for (g = 0; g < l->groups; ++g) {
    const int32_t first = g * rows < KH - rows ? g * rows : KH - rows;
    for (i = 0; i < DWI_LANES; ++i) {
      l->taps[g][i] = (uint8_t)(i < rows * KW ? (first + i / KW) * dh * l->plane_w + (i % KW) * dw
                                              : first * dh * l->plane_w);
    }
    for (i = 0; i < 4; ++i) l->weight_pred[g][i] = 0;
    for (i = 0; i < DWI_LANES; ++i) {
      const int32_t r = first + i / KW;
      /* Rows the group before already covers get zero weights. */
      const int own = i < rows * KW && r >= g * rows;
      l->weight_index[g][i] = own ? (uint16_t)((r * KW + i % KW) * C) : 0u;
      if (own) l->weight_pred[g][i / 4] |= (mve_pred16_t)(0xFu << (4 * (i % 4)));
    }
    for (o = 0; o < l->y_lo; ++o) {
      l->row_mask[o][g] =
          dwi_mask(o * p->stride.h - p->padding.h, dh, in->h, KW, rows * KW, 1, first, KH);
    }
    for (o = l->y_end; o < out->h; ++o) {
      l->row_mask[DWI_MAX_EDGE + o - l->y_end][g] =
          dwi_mask(o * p->stride.h - p->padding.h, dh, in->h, KW, rows * KW, 1, first, KH);
    }
  }
  for (o = 0; o < l->x_lo; ++o) {
    l->col_mask[o] = dwi_mask(o * p->stride.w - p->padding.w, dw, W, KW, rows * KW, 0, 0, KW);
  }
  for (o = l->x_end; o < out->w; ++o) {
    l->col_mask[DWI_MAX_EDGE + o - l->x_end] =
        dwi_mask(o * p->stride.w - p->padding.w, dw, W, KW, rows * KW, 0, 0, KW);
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

/* The sums of one output row of one channel into sums[0..OW) (sums: the row's place in a
 * buffer that holds rows_per_store rows before they are requantized): the
 * window of column ox has its tap (0, 0) at x = row + ox * sw; interior columns [x_lo, x_end) of an
 * interior row by INTERIOR(x, acc), the others by BORDER(x, cm, acc) with their column mask cm. */
#define DWI_ROW(INTERIOR, BORDER)                                                  \
  do {                                                                             \
    const int8_t *x = row;                                                         \
    int32_t ox = 0;                                                                \
    while (ox < OW) {                                                              \
      if (row_in && ox >= x_lo && ox < x_end) {                                    \
        for (; ox < x_end; ++ox) {                                                 \
          int32_t a_ = full;                                                       \
          INTERIOR(x, a_);                                                         \
          sums[ox] = a_;                                                           \
          DWI_NEXT(x, sw);                                                         \
        }                                                                          \
      } else {                                                                     \
        const int32_t cm_ = ox < x_lo    ? l->col_mask[ox]                         \
                            : ox < x_end ? l->full_mask                            \
                                         : l->col_mask[DWI_MAX_EDGE + ox - x_end]; \
        int32_t a_ = full;                                                         \
        BORDER(x, cm_, a_);                                                        \
        sums[ox++] = a_;                                                           \
        DWI_NEXT(x, sw);                                                           \
      }                                                                            \
    }                                                                              \
  } while (0)

/* 16 int8 lanes per gather, group g at offsets t<g> from x (G <= 4, a constant where inlined). */
#define DWI_INTERIOR8(x, acc)                                               \
  do {                                                                      \
    acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t0), w0);            \
    if (G > 1) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t1), w1); \
    if (G > 2) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t2), w2); \
    if (G > 3) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, t3), w3); \
  } while (0)

/* At the border, per group: the lanes inside the image (row mask & column mask) are gathered
 * and the others take the zero point. */
#define DWI_GROUP8(x, t, m, w, acc)                            \
  do {                                                         \
    const mve_pred16_t in_ = (mve_pred16_t)(m);                \
    const int8x16_t v_ = vldrbq_gather_offset_z_s8(x, t, in_); \
    acc = vmladavaq_s8(acc, vpselq_s8(v_, zp, in_), w);        \
  } while (0)
#define DWI_BORDER8(x, cm, acc)                       \
  do {                                                \
    DWI_GROUP8(x, t0, rm0 &(cm), w0, acc);            \
    if (G > 1) DWI_GROUP8(x, t1, rm1 &(cm), w1, acc); \
    if (G > 2) DWI_GROUP8(x, t2, rm2 &(cm), w2, acc); \
    if (G > 3) DWI_GROUP8(x, t3, rm3 &(cm), w3, acc); \
  } while (0)

/* Every output pixel of channel c from its plane (in place). */
static inline __attribute__((always_inline)) void dwi_channel(
    const dwi_layer *l, const piconas_dw_conv_params *p, const piconas_dims *in,
    const piconas_dims *out, const int8_t *packed, int32_t full, const dwi_out *o,
    const int8_t *plane, int8_t *y, int32_t *sums, int32_t G) {
  const int32_t C = in->c, OW = out->w, sw = p->stride.w, x_lo = l->x_lo, x_end = l->x_end;
  const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
  const uint8x16_t t0 = vldrbq_u8(l->taps[0]), t1 = vldrbq_u8(l->taps[G > 1 ? 1 : 0]);
  const uint8x16_t t2 = vldrbq_u8(l->taps[G > 2 ? 2 : 0]), t3 = vldrbq_u8(l->taps[G > 3 ? 3 : 0]);
  const int8x16_t w0 = vldrbq_s8(packed), w1 = vldrbq_s8(packed + 16);
  const int8x16_t w2 = vldrbq_s8(packed + 32), w3 = vldrbq_s8(packed + 48);
  const int32_t rows_per_store = l->rows_per_store;
  int32_t oy, rows_held = 0;
  if (l->padded) { /* every window inside the plane: no masks */
    const ptrdiff_t row_step = (ptrdiff_t)p->stride.h * l->plane_w;
    const int8_t *row = plane;
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
      if (++rows_held == rows_per_store || oy + 1 == out->h) {
        dwi_store_row(sums - rows_held * OW, rows_held * OW, o, C, y);
        y += (ptrdiff_t)rows_held * OW * C;
        sums -= rows_held * OW;
        rows_held = 0;
      }
    }
    return;
  }
  for (oy = 0; oy < out->h; ++oy) {
    const int row_in = oy >= l->y_lo && oy < l->y_end;
    const int16_t *rm = oy < l->y_lo ? l->row_mask[oy]
                        : row_in     ? l->all_rows
                                     : l->row_mask[DWI_MAX_EDGE + oy - l->y_end];
    const int32_t rm0 = rm[0], rm1 = rm[G > 1 ? 1 : 0], rm2 = rm[G > 2 ? 2 : 0];
    const int32_t rm3 = rm[G > 3 ? 3 : 0];
    const int8_t *row = plane + (ptrdiff_t)(oy * p->stride.h + l->row0) * l->plane_w + l->col0;
    DWI_ROW(DWI_INTERIOR8, DWI_BORDER8);
    sums += OW;
    if (++rows_held == rows_per_store || oy + 1 == out->h) { /* consecutive output pixels */
      dwi_store_row(sums - rows_held * OW, rows_held * OW, o, C, y);
      y += (ptrdiff_t)rows_held * OW * C;
      sums -= rows_held * OW;
      rows_held = 0;
    }
  }
}

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

/* dwi_channel for G = 1, 2, 4 (3 runs as 4): separate functions, so that only one frame of spill
 * slots is live. */
#define DWI_CHANNEL_G(G)                                                             \
  static __attribute__((noinline)) void dwi_channel_##G(                             \
      const dwi_layer *l, const piconas_dw_conv_params *p, const piconas_dims *in,   \
      const piconas_dims *out, const int8_t *packed, int32_t full, const dwi_out *o, \
      const int8_t *plane, int8_t *y, int32_t *sums) {                               \
    dwi_channel(l, p, in, out, packed, full, o, plane, y, sums, G);                  \
  }
DWI_CHANNEL_G(1)
DWI_CHANNEL_G(2)
DWI_CHANNEL_G(4)

typedef void (*dwi_channel_fn)(const dwi_layer *, const piconas_dw_conv_params *,
                               const piconas_dims *, const piconas_dims *, const int8_t *, int32_t,
                               const dwi_out *, const int8_t *, int8_t *, int32_t *);
static const dwi_channel_fn dwi_channel_of[DWI_MAX_GROUPS] = {dwi_channel_1, dwi_channel_2,
                                                              dwi_channel_4, dwi_channel_4};

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

/* Rows [first, first + rows) of channel c of an NHWC image with its padding into plane: the
 * input zero point everywhere, then the image's pixels (at padding.h, padding.w), 8 bytes per
 * gather. */
static void dwi_padded_band(const dwi_layer *l, const piconas_dw_conv_params *p,
                            const piconas_dims *in, const int8_t *data, int32_t c, int32_t first,
                            int32_t rows, int8_t *plane) {
  const int32_t C = in->c, W = in->w, W8 = W & ~7, size = rows * l->plane_w;
  const uint16x8_t slots = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)C);
  const mve_pred16_t tail = vctp16q((uint32_t)(W - W8));
  const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
  const ptrdiff_t step = (ptrdiff_t)8 * C;
  int32_t i, r, iy = first - p->padding.h;
  for (i = 0; i + 16 <= size; i += 16) vstrbq_s8(plane + i, zp);
  if (i < size) vstrbq_p_s8(plane + i, zp, vctp8q((uint32_t)(size - i)));
  for (r = 0; r < rows; ++r, ++iy) {
    const int8_t *x = data + (ptrdiff_t)iy * W * C + c;
    int8_t *row = plane + (ptrdiff_t)r * l->plane_w + p->padding.w;
    if (iy < 0 || iy >= in->h) continue;
    for (i = 0; i < W8; i += 8, x += step) {
      vstrbq_s16(row + i, vldrbq_gather_offset_s16(x, slots));
    }
    if (i < W) vstrbq_p_s16(row + i, vldrbq_gather_offset_z_s16(x, slots, tail), tail);
  }
}

/* Every channel of one image: its plane (padded or not, as l says) from input, then its output
 * pixels into output (the same buffer in place: only channel-c slots are written while channel
 * c runs, and the plane holds its input). */
static void dwi_channels(const dwi_layer *l, const piconas_dw_conv_params *params,
                         const piconas_per_channel_quant_params *quant, const piconas_dims *in,
                         const int8_t *input, const int8_t *filter, const int32_t *bias,
                         const piconas_dims *out, int8_t *output, int8_t *plane, int32_t *sums) {
  int8_t packed[DWI_MAX_GROUPS * DWI_LANES] = {0};
  int32_t c, oy;
  for (c = 0; c < in->c; ++c) {
    const dwi_out o = dwi_out_of(params, quant, c);
    const int32_t full =
        (bias != NULL ? bias[c] : 0) + params->input_offset * dwi_weights(l, filter, c, packed);
    if (!l->padded) {
      dwi_channel_plane(input, in->c, c, in->h * in->w, plane);
      dwi_channel_of[l->groups - 1](l, params, in, out, packed, full, &o, plane, output + c, sums);
      continue;
    }
    for (oy = 0; oy < out->h; oy += l->band_rows) { /* bands of output rows */
      piconas_dims band = *out;
      band.h = out->h - oy < l->band_rows ? out->h - oy : l->band_rows;
      dwi_padded_band(l, params, in, input, c, oy * params->stride.h,
                      (band.h - 1) * params->stride.h + l->window_rows, plane);
      dwi_channel_of[l->groups - 1](l, params, in, &band, packed, full, &o, plane,
                                    output + (ptrdiff_t)oy * out->w * out->c + c, sums);
    }
  }
}

static int dwi_out_of_place(const piconas_dw_conv_params *params,
                            const piconas_per_channel_quant_params *quant,
                            const piconas_dims *input_dims, const int8_t *input,
                            const piconas_dims *filter_dims, const int8_t *filter,
                            const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  int32_t plane_words[DWI_PAD_STACK / 4], sums[DWI_SUMS_STACK];
  dwi_layer l;
  int32_t b;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, DWI_PAD_STACK, 1, &l) ||
      !l.padded || output_dims->w > DWI_SUMS_STACK) {
    return 0;
  }
  l.rows_per_store = DWI_SUMS_STACK / output_dims->w;
  for (b = 0; b < output_dims->n; ++b) {
    dwi_channels(&l, params, quant, input_dims,
                 input + (ptrdiff_t)b * input_dims->h * input_dims->w * input_dims->c, filter, bias,
                 output_dims,
                 output + (ptrdiff_t)b * output_dims->h * output_dims->w * output_dims->c,
                 (int8_t *)plane_words, sums);
  }
  return 1;
}

void piconas_depthwise_conv2d_mve_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
  if (!dwi_out_of_place(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                        output)) {
    piconas_depthwise_conv2d_generic_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                                        output_dims, output);
  }
}

int piconas_depthwise_conv2d_inplace_mve_s8(const piconas_s8_context *ctx,
                                            const piconas_dw_conv_params *params,
                                            const piconas_per_channel_quant_params *quant,
                                            const piconas_dims *input_dims,
                                            const piconas_dims *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const piconas_dims *output_dims,
                                            int8_t *data) {
  /* The unpadded plane goes to the scratch and the sums to the stack; a padded plane larger than
   * the scratch goes to the stack and the sums to the scratch. */
  int32_t stack_words[DWI_PAD_STACK / 4];
  int8_t *plane = (int8_t *)ctx->buf;
  int32_t *sums = stack_words, sums_cap = DWI_PAD_STACK / 4;
  dwi_layer l;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims,
                    ctx->size > DWI_PAD_STACK ? ctx->size : DWI_PAD_STACK, 0, &l)) {
    return 0;
  }
  if (l.padded && l.plane_h * l.plane_w > ctx->size) {
    plane = (int8_t *)stack_words;
    sums = (int32_t *)ctx->buf;
    sums_cap = ((uintptr_t)ctx->buf & 3u) == 0 ? ctx->size / 4 : 0;
    if (sums_cap < output_dims->w) { /* then without padding */
      if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, 0, 0, &l)) return 0;
      plane = (int8_t *)ctx->buf;
      sums = stack_words;
      sums_cap = DWI_PAD_STACK / 4;
    }
  }
  if (sums_cap < output_dims->w) return 0;
  l.rows_per_store = sums_cap / output_dims->w;
  dwi_channels(&l, params, quant, input_dims, data, filter, bias, output_dims, data, plane, sums);
  return 1;
}

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_depthwise_conv2d_window_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
