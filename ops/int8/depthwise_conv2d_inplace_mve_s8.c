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
 * (x + input_offset = 0) into the other lanes (VPSEL). Four pixels' sums are requantized as
 * one vector (mve_s8.h) and stored by a scatter at stride C. */
#include "mve_s8.h"

#if PICONAS_S8_MVE

#include <stddef.h>

#include "int8_checks.h"

enum {
  DWI_LANES = 16,
  DWI_MAX_GROUPS = 4, /* gathers per pixel (K <= 8: two rows or more per gather) */
  DWI_MAX_EDGE = 16   /* output rows / columns at each border with a mask of their own */
};

/* The layer's constants, the same for every channel. */
typedef struct {
  int32_t groups;                                      /* gathers per pixel */
  ptrdiff_t group_offset[DWI_MAX_GROUPS];              /* plane offset of each group's first row */
  uint8x16_t taps;                                     /* lane -> plane offset within a group */
  uint16_t full_mask;                                  /* the lanes that hold a tap */
  uint16_t all_rows[DWI_MAX_GROUPS];                   /* full_mask per group: an interior row */
  uint32_t weight_index[DWI_MAX_GROUPS][DWI_LANES];    /* lane -> filter offset (tap * C) */
  uint16_t weight_mask[DWI_MAX_GROUPS];                /* lanes with a weight of their own */
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

/* Lanes whose tap lies inside [0, size) along one axis: lane i is tap (i / kw) of the row axis
 * (starting at row `first`) or tap (i % kw) of the column axis; taps >= k are none. */
static uint16_t dwi_mask(int32_t origin, int32_t dilation, int32_t size, int32_t kw, int32_t lanes,
                         int rows_axis, int32_t first, int32_t k) {
  uint16_t m = 0;
  int32_t i;
  for (i = 0; i < lanes; ++i) {
    const int32_t t = rows_axis ? first + i / kw : i % kw;
    const int32_t at = origin + t * dilation;
    if (at >= 0 && at < size && t < k) m |= (uint16_t)(1u << i);
  }
  return m;
}

/* Fills l; 0 when a border is too wide for the mask tables (the caller then runs the portable
 * variant). */
static int dwi_layer_of(const piconas_dw_conv_params *p, const piconas_dims *in,
                        const piconas_dims *f, const piconas_dims *out, dwi_layer *l) {
  const int32_t KH = f->h, KW = f->w, W = in->w, C = in->c;
  const int32_t dh = p->dilation.h, dw = p->dilation.w;
  int32_t rows = DWI_LANES / KW, g, i, o;
  uint8_t taps[DWI_LANES];
  rows = rows < KH ? rows : KH;
  while (rows > 1 && (int64_t)(rows - 1) * dh * W + (int64_t)(KW - 1) * dw > 255) --rows;
  l->groups = (KH + rows - 1) / rows;
  /* 8-bit gather offsets within a window; 16-bit ones (7 * C) for the plane copy. */
  if (KW > DWI_LANES || (KW - 1) * dw > 255 || l->groups > DWI_MAX_GROUPS || 7 * C > 65535) {
    return 0;
  }
  dwi_interior(p->padding.h, p->stride.h, dh, KH, in->h, out->h, &l->y_lo, &l->y_end);
  dwi_interior(p->padding.w, p->stride.w, dw, KW, W, out->w, &l->x_lo, &l->x_end);
  if (l->y_lo > DWI_MAX_EDGE || out->h - l->y_end > DWI_MAX_EDGE || l->x_lo > DWI_MAX_EDGE ||
      out->w - l->x_end > DWI_MAX_EDGE) {
    return 0;
  }
  l->full_mask = (uint16_t)((1u << (rows * KW)) - 1u);
  for (g = 0; g < DWI_MAX_GROUPS; ++g) l->all_rows[g] = l->full_mask;
  for (i = 0; i < DWI_LANES; ++i) {
    taps[i] = (uint8_t)(i < rows * KW ? (i / KW) * dh * W + (i % KW) * dw : 0);
  }
  l->taps = vldrbq_u8(taps);
  for (g = 0; g < l->groups; ++g) {
    const int32_t first = g * rows < KH - rows ? g * rows : KH - rows;
    l->group_offset[g] = (ptrdiff_t)first * dh * W;
    l->weight_mask[g] = 0;
    for (i = 0; i < DWI_LANES; ++i) {
      const int32_t r = first + i / KW;
      /* Rows the group before already covers get zero weights. */
      const int own = i < rows * KW && r >= g * rows;
      l->weight_index[g][i] = own ? (uint32_t)((r * KW + i % KW) * C) : 0u;
      if (own) l->weight_mask[g] |= (uint16_t)(1u << i);
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
 * own), four lanes per 32-bit-offset gather. */
static void dwi_weights(const dwi_layer *l, const int8_t *filter, int32_t c, int8_t *packed) {
  int32_t g, q;
  for (g = 0; g < l->groups; ++g) {
    for (q = 0; q < 4; ++q) {
      const mve_pred16_t own = (mve_pred16_t)(((l->weight_mask[g] >> (4 * q)) & 1u) * 0x000Fu |
                                              ((l->weight_mask[g] >> (4 * q + 1)) & 1u) * 0x00F0u |
                                              ((l->weight_mask[g] >> (4 * q + 2)) & 1u) * 0x0F00u |
                                              ((l->weight_mask[g] >> (4 * q + 3)) & 1u) * 0xF000u);
      const uint32x4_t at = vldrwq_u32(&l->weight_index[g][4 * q]);
      vstrbq_s32(packed + 16 * g + 4 * q, vldrbq_gather_offset_z_s32(filter + c, at, own));
    }
  }
}

/* The requantization and output stage of one channel (mve_s8.h's, with scalar operands). */
typedef struct {
  int32_t multiplier, left, right, offset, min, max;
} dwi_out;

/* Requantizes the sums of four output pixels and stores the first n at y, y + C, ... */
static inline __attribute__((always_inline)) void dwi_store(int32x4_t acc, int32_t n,
                                                            const dwi_out *o, uint32x4_t slots,
                                                            int8_t *y) {
  int32x4_t h = vqrdmulhq_n_s32(vshlq_r_s32(acc, o->left), o->multiplier);
  if (o->right > 0) h = vaddq_s32(h, vshrq_n_s32(h, 31)); /* half away from zero below 0 */
  h = vaddq_n_s32(vrshlq_n_s32(h, -o->right), o->offset);
  h = vminq_s32(vmaxq_s32(h, vdupq_n_s32(o->min)), vdupq_n_s32(o->max));
  vstrbq_scatter_offset_p_s32(y, slots, h, vctp32q((uint32_t)n));
}

/* acc += sum(w * x) over the window whose tap (0, 0) is at x, inside the image: G gathers
 * (groups at x, x + o1, ...) and G VMLADAVAs. */
#define DWI_INTERIOR(G, x, acc)                                                      \
  do {                                                                               \
    acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, taps), w0);                   \
    if (G > 1) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o1, taps), w1); \
    if (G > 2) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o2, taps), w2); \
    if (G > 3) acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8((x) + o3, taps), w3); \
  } while (0)

/* The same at the border: per group, the lanes inside the image (row mask & column mask) are
 * gathered and the others take the zero point. */
#define DWI_BORDER_GROUP(x, m, w, acc)                            \
  do {                                                            \
    const mve_pred16_t in_ = (mve_pred16_t)(m);                   \
    const int8x16_t v_ = vldrbq_gather_offset_z_s8(x, taps, in_); \
    acc = vmladavaq_s8(acc, vpselq_s8(v_, zp, in_), w);           \
  } while (0)

/* Output column ox of the row (window at x), interior or border. */
#define DWI_ANY(G, x, ox, acc)                                                      \
  do {                                                                              \
    if (row_in && (ox) >= x_lo && (ox) < x_end) {                                   \
      DWI_INTERIOR(G, x, acc);                                                      \
    } else {                                                                        \
      const uint32_t cm_ = (ox) < x_lo    ? l->col_mask[ox]                         \
                           : (ox) < x_end ? l->full_mask                            \
                                          : l->col_mask[DWI_MAX_EDGE + (ox)-x_end]; \
      DWI_BORDER_GROUP(x, rm0 &cm_, w0, acc);                                       \
      if (G > 1) DWI_BORDER_GROUP((x) + o1, rm1 & cm_, w1, acc);                    \
      if (G > 2) DWI_BORDER_GROUP((x) + o2, rm2 & cm_, w2, acc);                    \
      if (G > 3) DWI_BORDER_GROUP((x) + o3, rm3 & cm_, w3, acc);                    \
    }                                                                               \
  } while (0)

/* x += step, opaque to the compiler: without it GCC 12 keeps a pointer per pixel and group of
 * the unrolled loop and spills them. */
#define DWI_NEXT(x, step)  \
  do {                     \
    x += (step);           \
    __asm__("" : "+r"(x)); \
  } while (0)

/* Every output pixel of channel c from its plane, four columns of a row per requantization;
 * G = l->groups <= 4, a constant where inlined. Everything the pixel loop reads is a local. */
static inline __attribute__((always_inline)) void dwi_channel(
    const dwi_layer *l, const piconas_dw_conv_params *p, const piconas_dims *in,
    const piconas_dims *out, const int8_t *packed, int32_t full, const dwi_out *o,
    const int8_t *plane, int8_t *y, int32_t G) {
  const int32_t C = in->c, OW = out->w, sw = p->stride.w, x_lo = l->x_lo, x_end = l->x_end;
  const uint32x4_t slots = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)C);
  const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
  const uint8x16_t taps = l->taps;
  const ptrdiff_t o1 = l->group_offset[G > 1 ? 1 : 0], o2 = l->group_offset[G > 2 ? 2 : 0];
  const ptrdiff_t o3 = l->group_offset[G > 3 ? 3 : 0];
  const int8x16_t w0 = vldrbq_s8(packed), w1 = vldrbq_s8(packed + 16);
  const int8x16_t w2 = vldrbq_s8(packed + 32), w3 = vldrbq_s8(packed + 48);
  int32_t oy, ox;
  for (oy = 0; oy < out->h; ++oy, y += (ptrdiff_t)OW * C) {
    const int row_in = oy >= l->y_lo && oy < l->y_end;
    const uint16_t *rm = oy < l->y_lo ? l->row_mask[oy]
                         : row_in     ? l->all_rows
                                      : l->row_mask[DWI_MAX_EDGE + oy - l->y_end];
    const uint32_t rm0 = rm[0], rm1 = rm[G > 1 ? 1 : 0], rm2 = rm[G > 2 ? 2 : 0];
    const uint32_t rm3 = rm[G > 3 ? 3 : 0];
    const int8_t *x = plane + (ptrdiff_t)(oy * p->stride.h - p->padding.h) * in->w - p->padding.w;
    for (ox = 0; ox < OW; ox += 4) {
      int32_t a0 = full, a1 = full, a2 = full, a3 = full;
      int32x4_t acc;
      if (row_in && ox >= x_lo && ox + 4 <= x_end) {
        DWI_INTERIOR(G, x, a0);
        DWI_NEXT(x, sw);
        DWI_INTERIOR(G, x, a1);
        DWI_NEXT(x, sw);
        DWI_INTERIOR(G, x, a2);
        DWI_NEXT(x, sw);
        DWI_INTERIOR(G, x, a3);
        DWI_NEXT(x, sw);
      } else {
        DWI_ANY(G, x, ox, a0);
        DWI_NEXT(x, sw);
        if (ox + 1 < OW) DWI_ANY(G, x, ox + 1, a1);
        DWI_NEXT(x, sw);
        if (ox + 2 < OW) DWI_ANY(G, x, ox + 2, a2);
        DWI_NEXT(x, sw);
        if (ox + 3 < OW) DWI_ANY(G, x, ox + 3, a3);
        DWI_NEXT(x, sw);
      }
      acc = vsetq_lane_s32(a0, vdupq_n_s32(a1), 0);
      acc = vsetq_lane_s32(a2, acc, 2);
      acc = vsetq_lane_s32(a3, acc, 3);
      dwi_store(acc, OW - ox, o, slots, y + (ptrdiff_t)ox * C);
    }
  }
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
  dwi_layer l;
  int32_t c, g;
  if (!dwi_layer_of(params, input_dims, filter_dims, output_dims, &l)) return 0;
  for (c = 0; c < C; ++c) {
    int32_t sum = 0;
    dwi_out o;
    dwi_channel_plane(data, C, c, pixels, plane);
    dwi_weights(&l, filter, c, packed);
    for (g = 0; g < l.groups; ++g) sum = vaddvaq_s8(sum, vldrbq_s8(packed + 16 * g));
    sum = (bias != NULL ? bias[c] : 0) + params->input_offset * sum;
    o.multiplier = quant->multiplier[c];
    o.left = quant->shift[c] > 0 ? quant->shift[c] : 0;
    o.right = quant->shift[c] < 0 ? -quant->shift[c] : 0;
    o.offset = params->output_offset;
    o.min = params->activation.min;
    o.max = params->activation.max;
    switch (l.groups) {
      case 1:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, 1);
        break;
      case 2:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, 2);
        break;
      case 3:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, 3);
        break;
      default:
        dwi_channel(&l, params, input_dims, output_dims, packed, sum, &o, plane, data + c, 4);
        break;
    }
  }
  return 1;
}

#else
/* Not an empty translation unit on cores without MVE (ISO C). */
typedef int piconas_depthwise_conv2d_inplace_mve_s8_unused;
#endif /* PICONAS_S8_MVE */
