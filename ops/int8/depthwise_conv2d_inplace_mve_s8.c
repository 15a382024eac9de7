/* int8 in-place depthwise convolution with MVE (Cortex-M55), see mve_s8.h and
 * depthwise_conv2d_inplace_s8.h.
 *
 * Per channel c, as the portable variant: input channel c is copied to the scratch plane
 * (H*W bytes, the kernel contract's scratch), then every output pixel of channel c is computed
 * from the plane and written to the channel-c slots of data. One output pixel is a dot product
 * over its window: the window's rows are gathered from the plane into one int8x16 vector,
 * `rows` kernel rows of KW bytes each (VLDRB gather with 8-bit offsets r*W + k), and VMLADAVA
 * multiplies them with the same lanes of the channel's weights, 16 MACs per instruction
 * (3x3: the whole window in one gather and one VMLADAVA; 5x5: two; 7x7: four). The last group
 * of rows starts at row KH - rows (overlapping the one before, whose rows get zero weights
 * there), so every lane reads a tap of the window. With the input offset folded into
 * full = bias + input_offset * sum(w), an interior pixel is full + sum(w * x); a pixel at the
 * border predicates the gather to its taps inside the image and puts the input zero point
 * (x + input_offset = 0) into the other lanes (VPSEL). The sums of an output row go to a stack
 * row, then are requantized four per vector (mve_s8.h's arithmetic) and stored by a scatter at
 * stride C. QEMU counts a gather as one instruction; a real Cortex-M55 takes about a cycle per
 * lane for it. */
#include "mve_s8.h"

#if PICONAS_S8_MVE

#include <stddef.h>

#include "int8_checks.h"

enum {
  DWI_LANES = 16,
  DWI_MAX_GROUPS = 4, /* gathers per pixel (K <= 8: two rows or more per gather) */
  DWI_MAX_EDGE = 8,   /* output rows / columns at each border with a mask of their own */
  DWI_MAX_ROW = 64    /* output columns (one row of int32 sums on the stack) */
};

/* The layer's constants, the same for every channel. */
typedef struct {
  int32_t groups;                                      /* gathers per pixel */
  ptrdiff_t group_offset[DWI_MAX_GROUPS];              /* plane offset of each group's first row */
  uint8_t taps[DWI_LANES];                             /* lane -> plane offset within a group */
  uint16_t full_mask;                                  /* the lanes that hold a tap */
  uint16_t all_rows[DWI_MAX_GROUPS];                   /* full_mask per group: an interior row */
  uint32_t weight_index[DWI_MAX_GROUPS][DWI_LANES];    /* lane -> filter offset (tap * C) */
  mve_pred16_t weight_pred[DWI_MAX_GROUPS][4];         /* 4 lanes each: a weight of their own */
  int32_t y_lo, y_end, x_lo, x_end;                    /* interior output rows / columns */
  uint16_t row_mask[2 * DWI_MAX_EDGE][DWI_MAX_GROUPS]; /* border rows: top, then bottom */
  uint16_t col_mask[2 * DWI_MAX_EDGE];                 /* border columns: left, then right */
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
static uint16_t dwi_mask(int32_t origin, int32_t dilation, int32_t size, int32_t kw, int32_t used,
                         int rows_axis, int32_t first, int32_t k) {
  uint16_t m = 0;
  int32_t i;
  for (i = 0; i < used; ++i) {
    const int32_t t = rows_axis ? first + i / kw : i % kw;
    const int32_t at = origin + t * dilation;
    if (at >= 0 && at < size && t < k) m |= (uint16_t)(1u << i);
  }
  return m;
}

/* Fills l; 0 when the window or a border does not fit the lanes and tables (the caller then
 * runs the portable variant). */
static int dwi_layer_of(const piconas_dw_conv_params *p, const piconas_dims *in,
                        const piconas_dims *f, const piconas_dims *out, dwi_layer *l) {
  const int32_t KH = f->h, KW = f->w, W = in->w, C = in->c;
  const int32_t dh = p->dilation.h, dw = p->dilation.w;
  int32_t rows = DWI_LANES / KW, g, i, o;
  rows = rows < KH ? rows : KH;
  while (rows > 1 && (int64_t)(rows - 1) * dh * W + (int64_t)(KW - 1) * dw > 255) --rows;
  /* 8-bit gather offsets within a window; 16-bit ones (7 * C) for the plane copy. */
  if (KW > DWI_LANES || (KW - 1) * dw > 255 || (KH + rows - 1) / rows > DWI_MAX_GROUPS ||
      7 * C > 65535 || out->w > DWI_MAX_ROW) {
    return 0;
  }
  l->groups = (KH + rows - 1) / rows;
  dwi_interior(p->padding.h, p->stride.h, dh, KH, in->h, out->h, &l->y_lo, &l->y_end);
  dwi_interior(p->padding.w, p->stride.w, dw, KW, W, out->w, &l->x_lo, &l->x_end);
  if (l->y_lo > DWI_MAX_EDGE || out->h - l->y_end > DWI_MAX_EDGE || l->x_lo > DWI_MAX_EDGE ||
      out->w - l->x_end > DWI_MAX_EDGE) {
    return 0;
  }
  l->full_mask = (uint16_t)((1u << (rows * KW)) - 1u);
  for (g = 0; g < DWI_MAX_GROUPS; ++g) l->all_rows[g] = l->full_mask;
  for (i = 0; i < DWI_LANES; ++i) {
    l->taps[i] = (uint8_t)(i < rows * KW ? (i / KW) * dh * W + (i % KW) * dw : 0);
  }
  for (g = 0; g < l->groups; ++g) {
    const int32_t first = g * rows < KH - rows ? g * rows : KH - rows;
    l->group_offset[g] = (ptrdiff_t)first * dh * W;
    for (i = 0; i < 4; ++i) l->weight_pred[g][i] = 0;
    for (i = 0; i < DWI_LANES; ++i) {
      const int32_t r = first + i / KW;
      /* Rows the group before already covers get zero weights. */
      const int own = i < rows * KW && r >= g * rows;
      l->weight_index[g][i] = own ? (uint32_t)((r * KW + i % KW) * C) : 0u;
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
                 vldrbq_gather_offset_z_s32(filter + c, vldrwq_u32(&l->weight_index[g][4 * q]),
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

/* The sums of one output row of one channel into sums[0..OW): the window of column ox has its
 * tap (0, 0) at x = row + ox * sw; interior columns [x_lo, x_end) of an interior row by
 * INTERIOR(x, acc), the others by BORDER(x, cm, acc) with their column mask cm. */
#define DWI_ROW(INTERIOR, BORDER)                                                   \
  do {                                                                              \
    const int8_t *x = row;                                                          \
    int32_t ox = 0;                                                                 \
    while (ox < OW) {                                                               \
      if (row_in && ox >= x_lo && ox < x_end) {                                     \
        for (; ox < x_end; ++ox) {                                                  \
          int32_t a_ = full;                                                        \
          INTERIOR(x, a_);                                                          \
          sums[ox] = a_;                                                            \
          DWI_NEXT(x, sw);                                                          \
        }                                                                           \
      } else {                                                                      \
        const uint32_t cm_ = ox < x_lo    ? l->col_mask[ox]                         \
                             : ox < x_end ? l->full_mask                            \
                                          : l->col_mask[DWI_MAX_EDGE + ox - x_end]; \
        int32_t a_ = full;                                                          \
        BORDER(x, cm_, a_);                                                         \
        sums[ox++] = a_;                                                            \
        DWI_NEXT(x, sw);                                                            \
      }                                                                             \
    }                                                                               \
  } while (0)

/* In place, 16 int8 lanes: groups at x, x + o1, ... (G <= 4, a constant where inlined). */
#define DWI_INTERIOR8(x, acc)                                                        \
  do {                                                                               \
    acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, taps), w0);                   \
    if (G > 1) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o1, taps), w1); \
    if (G > 2) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o2, taps), w2); \
    if (G > 3) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o3, taps), w3); \
  } while (0)

/* At the border, per group: the lanes inside the image (row mask & column mask) are gathered
 * and the others take the zero point. */
#define DWI_GROUP8(x, m, w, acc)                                  \
  do {                                                            \
    const mve_pred16_t in_ = (mve_pred16_t)(m);                   \
    const int8x16_t v_ = vldrbq_gather_offset_z_s8(x, taps, in_); \
    acc = vmladavaq_s8(acc, vpselq_s8(v_, zp, in_), w);           \
  } while (0)
#define DWI_BORDER8(x, cm, acc)                           \
  do {                                                    \
    DWI_GROUP8(x, rm0 &(cm), w0, acc);                    \
    if (G > 1) DWI_GROUP8((x) + o1, rm1 & (cm), w1, acc); \
    if (G > 2) DWI_GROUP8((x) + o2, rm2 & (cm), w2, acc); \
    if (G > 3) DWI_GROUP8((x) + o3, rm3 & (cm), w3, acc); \
  } while (0)

/* Every output pixel of channel c from its plane (in place). */
static inline __attribute__((always_inline)) void dwi_channel(
    const dwi_layer *l, const piconas_dw_conv_params *p, const piconas_dims *in,
    const piconas_dims *out, const int8_t *packed, int32_t full, const dwi_out *o,
    const int8_t *plane, int8_t *y, int32_t *sums, int32_t G) {
  const int32_t C = in->c, OW = out->w, sw = p->stride.w, x_lo = l->x_lo, x_end = l->x_end;
  const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
  const uint8x16_t taps = vldrbq_u8(l->taps);
  const ptrdiff_t o1 = l->group_offset[G > 1 ? 1 : 0], o2 = l->group_offset[G > 2 ? 2 : 0];
  const ptrdiff_t o3 = l->group_offset[G > 3 ? 3 : 0];
  const int8x16_t w0 = vldrbq_s8(packed), w1 = vldrbq_s8(packed + 16);
  const int8x16_t w2 = vldrbq_s8(packed + 32), w3 = vldrbq_s8(packed + 48);
  int32_t oy;
  for (oy = 0; oy < out->h; ++oy, y += (ptrdiff_t)OW * C) {
    const int row_in = oy >= l->y_lo && oy < l->y_end;
    const uint16_t *rm = oy < l->y_lo ? l->row_mask[oy]
                         : row_in     ? l->all_rows
                                      : l->row_mask[DWI_MAX_EDGE + oy - l->y_end];
    const uint32_t rm0 = rm[0], rm1 = rm[G > 1 ? 1 : 0], rm2 = rm[G > 2 ? 2 : 0];
    const uint32_t rm3 = rm[G > 3 ? 3 : 0];
    const int8_t *row = plane + (ptrdiff_t)(oy * p->stride.h - p->padding.h) * in->w - p->padding.w;
    DWI_ROW(DWI_INTERIOR8, DWI_BORDER8);
    dwi_store_row(sums, OW, o, C, y);
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

int piconas_depthwise_conv2d_inplace_mve_s8(const piconas_s8_context *ctx,
                                            const piconas_dw_conv_params *params,
                                            const piconas_per_channel_quant_params *quant,
                                            const piconas_dims *input_dims,
                                            const piconas_dims *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const piconas_dims *output_dims,
                                            int8_t *data) {
  const int32_t C = input_dims->c, pixels = input_dims->h * input_dims->w;
  int8_t *plane = (int8_t *)ctx->buf;
  int8_t packed[DWI_MAX_GROUPS * DWI_LANES] = {0};
  int32_t sums[DWI_MAX_ROW];
  dwi_layer l;
  int32_t c;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, &l)) return 0;
  for (c = 0; c < C; ++c) {
    int32_t sum;
    const dwi_out o = dwi_out_of(params, quant, c);
    dwi_channel_plane(data, C, c, pixels, plane);
    sum = (bias != NULL ? bias[c] : 0) + params->input_offset * dwi_weights(&l, filter, c, packed);
    switch (l.groups) {
      case 1:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, sums, 1);
        break;
      case 2:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, sums, 2);
        break;
      case 3:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, sums, 3);
        break;
      default:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, sums, 4);
        break;
    }
  }
  return 1;
}

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_depthwise_conv2d_inplace_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
