/* int8 depthwise 3x3 convolution (M = 1) with MVE (Cortex-M55) on small images, 4 channels per
 * vector (see mve_s8.h). Where the window-gather kernel (depthwise_conv2d_window_mve_s8.c) pays
 * a padded plane, packed weights and a store loop per channel, which on a 6x6 image costs more
 * than its 36 pixels, this kernel works on groups of 4 channels: the group's input goes into a
 * plane of words (4 channels each) padded with the input zero point, as the DSP plane variant
 * does (depthwise_conv2d_dsp_s8.c), so every window lies inside it; a tap of one pixel is a
 * VLDRB.S32 of one word (4 channels widened to int32 lanes), a VMUL with the tap's 4 weights and
 * a VADD; 4 pixels (consecutive in row order) share each weight load. The input offset is folded
 * into the bias (bias + input_offset * sum of the taps), the requantization is mve_s8.h's, one
 * VSTRB.32 writes the 4 channels of a pixel. A channel count that is not a multiple of 4 runs its
 * last group predicated (zero weights, zero plane bytes, predicated stores). Stack: the 1 KB
 * plane. */
#include "depthwise_conv2d_s8.h"
#include "mve_s8.h"

#if PICONAS_S8_MVE

#include <stddef.h>
#include <string.h>

/* The layer's plane geometry and the constants of one group of 4 channels. */
typedef struct {
  int32_t plane_w;  /* plane columns (words) */
  int32_t step;     /* bytes between the windows of neighbouring output pixels of a row */
  int32_t row_skip; /* bytes from the last window of a row to the first of the next */
  int32_t dy;       /* bytes between kernel rows in the plane */
  int32_t tap[9];   /* byte offset of tap t from the window's tap (0, 0) */
  int32x4_t w[9];   /* the group's weights of tap t, widened */
  int32x4_t folded; /* bias + input_offset * sum of the taps */
  piconas_mve_requant r;
  int32_t offset; /* output offset */
  piconas_activation act;
} dwp_group;

static inline int32x4_t dwp_out(const dwp_group *g, int32x4_t acc) {
  return piconas_mve_output(piconas_mve_requantize(acc, g->r), g->offset, g->act);
}

/* Tap (ky, dx / 4) of four pixels whose windows start at p0 .. p3 (moved to the next kernel row
 * after its 3 taps: dilation 1, the taps of a row 4 bytes apart, immediate offsets): each weight
 * load serves the four. Inline assembly: GCC 12 hoists the loads and products of all taps and
 * spills them. VLDRB.S32 takes a low base register. */
/* clang-format off */
#define DWP_TAP4_ASM(dx, w_off)                      \
  "vldrw.32 %q[w], [%[wt], #" w_off "]\n\t"         \
  "vldrb.s32 %q[v], [%[p0], #" dx "]\n\t"           \
  "vmul.i32 %q[v], %q[v], %q[w]\n\t"                \
  "vadd.i32 %q[a0], %q[a0], %q[v]\n\t"              \
  "vldrb.s32 %q[v], [%[p1], #" dx "]\n\t"           \
  "vmul.i32 %q[v], %q[v], %q[w]\n\t"                \
  "vadd.i32 %q[a1], %q[a1], %q[v]\n\t"              \
  "vldrb.s32 %q[v], [%[p2], #" dx "]\n\t"           \
  "vmul.i32 %q[v], %q[v], %q[w]\n\t"                \
  "vadd.i32 %q[a2], %q[a2], %q[v]\n\t"              \
  "vldrb.s32 %q[v], [%[p3], #" dx "]\n\t"           \
  "vmul.i32 %q[v], %q[v], %q[w]\n\t"                \
  "vadd.i32 %q[a3], %q[a3], %q[v]\n\t"
#define DWP_ROW4_ASM(w0, w1, w2)                                      \
  DWP_TAP4_ASM("0", w0) DWP_TAP4_ASM("4", w1) DWP_TAP4_ASM("8", w2) \
  "add %[p0], %[p0], %[dy]\n\t"                                     \
  "add %[p1], %[p1], %[dy]\n\t"                                     \
  "add %[p2], %[p2], %[dy]\n\t"                                     \
  "add %[p3], %[p3], %[dy]\n\t"
/* clang-format on */

/* Output pixels walked in order (row by row): the window start of the next pixel. */
typedef struct {
  const int8_t *x; /* window start (tap (0, 0)) in the plane */
  int32_t ox;      /* its output column */
} dwp_cursor;

static inline const int8_t *dwp_next(const dwp_group *g, dwp_cursor *k, int32_t ow) {
  const int8_t *x = k->x;
  if (++k->ox == ow) {
    k->ox = 0;
    k->x += g->row_skip;
  } else {
    k->x += g->step;
  }
  return x;
}

/* Every output pixel of one group, four per pass (any four: their windows need not share a row);
 * y at the group's channels of pixel 0, ch bytes between pixels. */
static void dwp_pixels(const dwp_group *g, const int8_t *plane, int32_t oh, int32_t ow, int32_t ch,
                       mve_pred16_t lanes, int8_t *y) {
  const int32_t n = oh * ow;
  dwp_cursor k;
  int32_t i, t;
  k.x = plane;
  k.ox = 0;
  for (i = 0; i + 4 <= n; i += 4, y += 4 * ch) {
    int32x4_t a0 = g->folded, a1 = g->folded, a2 = g->folded, a3 = g->folded, v, w;
    const int8_t *p0 = dwp_next(g, &k, ow), *p1 = dwp_next(g, &k, ow);
    const int8_t *p2 = dwp_next(g, &k, ow), *p3 = dwp_next(g, &k, ow);
    /* clang-format off */
    __asm__(DWP_ROW4_ASM("0", "16", "32") DWP_ROW4_ASM("48", "64", "80")
            DWP_ROW4_ASM("96", "112", "128")
            : [a0] "+w"(a0), [a1] "+w"(a1), [a2] "+w"(a2), [a3] "+w"(a3), [v] "=&w"(v),
              [w] "=&w"(w), [p0] "+l"(p0), [p1] "+l"(p1), [p2] "+l"(p2), [p3] "+l"(p3)
            : [dy] "r"(g->dy), [wt] "r"(g->w)
            : "memory");
    /* clang-format on */
    vstrbq_p_s32(y, dwp_out(g, a0), lanes);
    vstrbq_p_s32(y + ch, dwp_out(g, a1), lanes);
    vstrbq_p_s32(y + 2 * ch, dwp_out(g, a2), lanes);
    vstrbq_p_s32(y + 3 * ch, dwp_out(g, a3), lanes);
  }
  for (; i < n; ++i, y += ch) { /* the last 1-3 pixels */
    const int8_t *x = dwp_next(g, &k, ow);
    int32x4_t a = g->folded;
    for (t = 0; t < 9; ++t) a = vaddq_s32(a, vmulq_s32(vldrbq_s32(x + g->tap[t]), g->w[t]));
    vstrbq_p_s32(y, dwp_out(g, a), lanes);
  }
}

int piconas_depthwise_conv2d_plane_mve_s8(const piconas_dw_conv_params *params,
                                          const piconas_per_channel_quant_params *quant,
                                          const piconas_dims *in, const int8_t *input,
                                          const piconas_dims *f, const int8_t *filter,
                                          const int32_t *bias, const piconas_dims *out,
                                          int8_t *output) {
  uint32_t plane[PICONAS_DW_PLANE_BYTES / 4];
  dwp_group g;
  const int32_t C = in->c, ph = params->padding.h, pw = params->padding.w;
  const int32_t plane_h = (out->h - 1) * params->stride.h + 2 * params->dilation.h + 1;
  const int32_t plane_w = (out->w - 1) * params->stride.w + 2 * params->dilation.w + 1;
  /* The part of the image inside the plane: rows [0, rows), columns [0, cols). */
  const int32_t rows = in->h < plane_h - ph ? in->h : plane_h - ph;
  const int32_t cols = in->w < plane_w - pw ? in->w : plane_w - pw;
  const uint32_t fill = (uint32_t)(uint8_t)(int8_t)-params->input_offset * 0x01010101u;
  int32_t b, c, i, t, iy, ix;
  if (!piconas_depthwise_conv2d_simd_plane_fits(params, f, out)) return 0;
  g.plane_w = plane_w;
  g.step = 4 * params->stride.w;
  g.row_skip = 4 * params->stride.h * plane_w - (out->w - 1) * g.step;
  g.dy = 4 * plane_w; /* dilation 1 (piconas_depthwise_conv2d_simd_plane_fits) */
  for (t = 0; t < 9; ++t) {
    g.tap[t] = 4 * ((t / 3) * params->dilation.h * plane_w + (t % 3) * params->dilation.w);
  }
  g.offset = params->output_offset;
  g.act = params->activation;
  for (i = 0; i < plane_h * plane_w; ++i) plane[i] = fill; /* the border, for every group */
  for (b = 0; b < out->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * in->h * in->w * C;
    int8_t *y_image = output + (ptrdiff_t)b * out->h * out->w * C;
    for (c = 0; c < C; c += 4) {
      const int32_t n = C - c < 4 ? C - c : 4;
      const mve_pred16_t lanes = vctp32q((uint32_t)n);
      int32x4_t sum = vdupq_n_s32(0);
      for (t = 0; t < 9; ++t) {
        g.w[t] = vldrbq_z_s32(filter + (ptrdiff_t)t * C + c, lanes);
        sum = vaddq_s32(sum, g.w[t]);
      }
      g.folded = vaddq_s32(bias != NULL ? vldrwq_z_s32(bias + c, lanes) : vdupq_n_s32(0),
                           vmulq_n_s32(sum, params->input_offset));
      g.r = piconas_mve_requant_of(quant->multiplier + c, quant->shift + c, lanes);
      for (iy = 0; iy < rows; ++iy) {
        const int8_t *x = image + (ptrdiff_t)iy * in->w * C + c;
        uint32_t *row = plane + (iy + ph) * plane_w + pw;
        if (n == 4) {
          for (ix = 0; ix < cols; ++ix, x += C) memcpy(&row[ix], x, 4); /* LDR, STR */
          continue;
        }
        for (ix = 0; ix < cols; ++ix, x += C) {
          uint32_t word = 0; /* the last group's missing channels: zero */
          for (i = 0; i < n; ++i) word |= (uint32_t)(uint8_t)x[i] << (8 * i);
          row[ix] = word;
        }
      }
      dwp_pixels(&g, (const int8_t *)plane, out->h, out->w, C, lanes, y_image + c);
    }
  }
  return 1;
}

#endif /* PICONAS_S8_MVE */
