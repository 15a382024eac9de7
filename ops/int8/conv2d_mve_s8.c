/* int8 1x1 convolution with MVE (Cortex-M55), see mve_s8.h and conv2d_s8.h. */
#include "conv2d_s8.h"
#include "mve_s8.h"

enum { CONV_MVE_WINDOW_MAX_COUT = 64 };

/* Kernel rows per gather of the window kernel, 0 when the layer does not fit it (not even one
 * row fits 16 lanes and 8-bit offsets, more than 3 gathers, too many output channels, too large
 * an image or dilation). Inlined into the window kernel: called there, GCC 12 spilled the pixel
 * loop's gathered vectors (mbv2 stem 1.72 M instructions instead of 1.33 M on Cortex-M55). */
static inline __attribute__((always_inline)) int32_t conv_window_rows(const piconas_conv_params *p,
                                                                      const piconas_dims *in,
                                                                      const piconas_dims *f) {
  const int32_t cin = in->c, KH = f->h, KW = f->w, W = in->w;
  int32_t rows = KH;
  while (rows > 0 &&
         (rows * KW * cin > 16 || KH % rows != 0 ||
          ((int64_t)(rows - 1) * p->dilation.h * W + (int64_t)(KW - 1) * p->dilation.w) * cin +
                  cin - 1 >
              255)) {
    --rows;
  }
  if (rows == 0 || KH / rows > 3 || f->n > CONV_MVE_WINDOW_MAX_COUT || in->h > 200 || W > 200 ||
      (KH - 1) * p->dilation.h > 50 || (KW - 1) * p->dilation.w > 50) {
    return 0;
  }
  return rows;
}

int piconas_conv2d_mve_window_fits(const piconas_conv_params *params,
                                   const piconas_dims *input_dims,
                                   const piconas_dims *filter_dims) {
  return conv_window_rows(params, input_dims, filter_dims) != 0;
}

#if PICONAS_S8_MVE

#include <stddef.h>

#include "int8_checks.h"

/* acc_j = bias_j + input_offset * sum_ci w_j[ci] + sum_ci w_j[ci] * x[ci]: the
 * offset is folded into a per-channel constant, so the inner loop multiplies
 * the raw int8 bytes (VMLADAVA.S8, 16 MACs per instruction). Four output
 * channels per pass share each 16-byte load of the pixel; the last C_in % 16
 * bytes are one predicated step. */
void piconas_conv2d_1x1_mve_s8(const piconas_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output) {
  const int32_t cin = input_dims->c;
  const int32_t cout = filter_dims->n;
  const int32_t cin16 = cin & ~15;
  const mve_pred16_t tail = vctp8q((uint32_t)(cin - cin16));
  const int32_t offset = params->input_offset;
  const int32_t out_offset = params->output_offset;
  const piconas_activation act = params->activation;
  const ptrdiff_t row_step = (ptrdiff_t)params->stride.h * input_dims->w * cin;
  const ptrdiff_t col_step = (ptrdiff_t)params->stride.w * cin;
  int32_t oc;
  for (oc = 0; oc < cout; oc += 4) {
    const int32_t n = cout - oc < 4 ? cout - oc : 4;
    const mve_pred16_t lanes = vctp32q((uint32_t)n);
    /* Rows past the last channel repeat it; their lanes are not stored. */
    const int8_t *w0 = filter + (ptrdiff_t)oc * cin;
    const int8_t *w1 = w0 + (n > 1 ? cin : 0);
    const int8_t *w2 = w0 + (ptrdiff_t)(n > 2 ? 2 : n - 1) * cin;
    const int8_t *w3 = w0 + (ptrdiff_t)(n - 1) * cin;
    const piconas_mve_requant r =
        piconas_mve_requant_of(quant->multiplier + oc, quant->shift + oc, lanes);
    int8_t wt[64];
    /* s_j: the sum of row j's weights, then the constant bias_j + offset * sum.
     */
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, k, b, oy, ox;
    int32x4_t base;
    for (k = 0; k < cin16; k += 16) {
      s0 = vaddvaq_s8(s0, vldrbq_s8(w0 + k));
      s1 = vaddvaq_s8(s1, vldrbq_s8(w1 + k));
      s2 = vaddvaq_s8(s2, vldrbq_s8(w2 + k));
      s3 = vaddvaq_s8(s3, vldrbq_s8(w3 + k));
    }
    vstrbq_s8(wt, vldrbq_z_s8(w0 + cin16, tail));
    vstrbq_s8(wt + 16, vldrbq_z_s8(w1 + cin16, tail));
    vstrbq_s8(wt + 32, vldrbq_z_s8(w2 + cin16, tail));
    vstrbq_s8(wt + 48, vldrbq_z_s8(w3 + cin16, tail));
    if (k < cin) {
      s0 = vaddvaq_s8(s0, vldrbq_z_s8(w0 + k, tail));
      s1 = vaddvaq_s8(s1, vldrbq_z_s8(w1 + k, tail));
      s2 = vaddvaq_s8(s2, vldrbq_z_s8(w2 + k, tail));
      s3 = vaddvaq_s8(s3, vldrbq_z_s8(w3 + k, tail));
    }
    base = vsetq_lane_s32(s0, vdupq_n_s32(0), 0);
    base = vsetq_lane_s32(s1, base, 1);
    base = vsetq_lane_s32(s2, base, 2);
    base = vsetq_lane_s32(s3, base, 3);
    base = vmulq_n_s32(base, offset);
    if (bias != NULL) base = vaddq_s32(base, vldrwq_z_s32(bias + oc, lanes));
    s0 = vgetq_lane_s32(base, 0);
    s1 = vgetq_lane_s32(base, 1);
    s2 = vgetq_lane_s32(base, 2);
    s3 = vgetq_lane_s32(base, 3);
    for (b = 0; b < output_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * cin;
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int8_t *x = image + oy * row_step;
        int8_t *y = output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w) * cout + oc;
        for (ox = 0; ox < output_dims->w; ++ox, x += col_step, y += cout) {
          int32_t a0 = s0, a1 = s1, a2 = s2, a3 = s3;
          int32x4_t acc;
          for (k = 0; k < cin16; k += 16) {
            const int8x16_t v = vldrbq_s8(x + k);
            a0 = vmladavaq_s8(a0, v, vldrbq_s8(w0 + k));
            a1 = vmladavaq_s8(a1, v, vldrbq_s8(w1 + k));
            a2 = vmladavaq_s8(a2, v, vldrbq_s8(w2 + k));
            a3 = vmladavaq_s8(a3, v, vldrbq_s8(w3 + k));
          }
          if (k < cin) { /* the weights' tails zero-padded once per 4 channels */
            const int8x16_t v = vldrbq_z_s8(x + k, tail);
            a0 = vmladavaq_s8(a0, v, vldrbq_s8(wt));
            a1 = vmladavaq_s8(a1, v, vldrbq_s8(wt + 16));
            a2 = vmladavaq_s8(a2, v, vldrbq_s8(wt + 32));
            a3 = vmladavaq_s8(a3, v, vldrbq_s8(wt + 48));
          }
          acc = vsetq_lane_s32(a0, base, 0);
          acc = vsetq_lane_s32(a1, acc, 1);
          acc = vsetq_lane_s32(a2, acc, 2);
          acc = vsetq_lane_s32(a3, acc, 3);
          acc = piconas_mve_output(piconas_mve_requantize(acc, r), out_offset, act);
          vstrbq_p_s32(y, acc, lanes);
        }
      }
    }
  }
}

/* n bytes from src to dst (or the byte pad when src is null), 16 per predicated step. */
static inline void conv_mve_copy(int8_t *dst, const int8_t *src, int32_t n, int8_t pad) {
  int32_t i;
  for (i = 0; i < n; i += 16) {
    const mve_pred16_t p = vctp8q((uint32_t)(n - i));
    vstrbq_p_s8(dst + i, src != NULL ? vldrbq_z_s8(src + i, p) : vdupq_n_s8(pad), p);
  }
}

/* The pixel loops of piconas_conv2d_window_mve_s8, one copy for G = 1..3 groups: always three
 * gathers, those past G with no lanes (zeros, offset 0) and multiplied with the first group's
 * weights. Per output channel one VMLADAVA per group into a row of 4 sums, requantized 4 per
 * vector. */
static void conv_mve_window_run(const piconas_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const piconas_dims *output_dims, int8_t *output,
                                const int32_t *base, const uint8_t *taps, const uint8_t *lane_row,
                                const uint8_t *lane_col, int32_t rows, int32_t L, int32_t G) {
  const int32_t cin = input_dims->c, KH = filter_dims->h, KW = filter_dims->w;
  const int32_t K = KH * KW * cin, cout = filter_dims->n, H = input_dims->h, W = input_dims->w;
  const int32_t dh = params->dilation.h, dw = params->dilation.w;
  const mve_pred16_t used = vctp8q((uint32_t)L);
  const mve_pred16_t used1 = G > 1 ? used : 0, used2 = G > 2 ? used : 0;
  const ptrdiff_t step1 = G > 1 ? (ptrdiff_t)rows * dh * W * cin : 0;
  const ptrdiff_t step2 = G > 2 ? 2 * step1 : 0;
  const int32_t L1 = G > 1 ? L : 0, L2 = G > 2 ? 2 * L : 0;
  const uint8x16_t tap = vldrbq_u8(taps);
  const int8x16_t zp = vdupq_n_s8((int8_t)(-params->input_offset));
  const int8x16_t zp1 = G > 1 ? zp : vdupq_n_s8(0), zp2 = G > 2 ? zp : vdupq_n_s8(0);
  const int32_t out_offset = params->output_offset;
  const int32_t act_min = params->activation.min, act_max = params->activation.max;
  int32_t sums[4];
  int8_t *y = output;
  int32_t b, oy, ox, oc, j;
  for (b = 0; b < output_dims->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * H * W * cin;
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      /* Lanes whose row is inside the image, per group (unsigned: rows above wrap past H). */
      const uint8x16_t row_at = vaddq_n_u8(vldrbq_u8(lane_row), (uint8_t)iy0);
      const uint8x16_t h_vec = vdupq_n_u8((uint8_t)H);
      const mve_pred16_t in0 = vcmphiq_u8(h_vec, row_at) & used;
      const mve_pred16_t in1 = vcmphiq_u8(h_vec, vaddq_n_u8(row_at, (uint8_t)(rows * dh))) & used1;
      const mve_pred16_t in2 =
          vcmphiq_u8(h_vec, vaddq_n_u8(row_at, (uint8_t)(2 * rows * dh))) & used2;
      const int rows_all = iy0 >= 0 && iy0 + (KH - 1) * dh < H;
      for (ox = 0; ox < output_dims->w; ++ox) {
        const int32_t ix0 = ox * params->stride.w - params->padding.w;
        const int8_t *x = image + ((ptrdiff_t)iy0 * W + ix0) * cin;
        const int8_t *w = filter;
        int8x16_t v0, v1 = vdupq_n_s8(0), v2 = vdupq_n_s8(0);
        if (rows_all && ix0 >= 0 && ix0 + (KW - 1) * dw < W) {
          v0 = vldrbq_gather_offset_s8(x, tap);
          if (G > 1) { /* one group (the 1-channel stems) uses v0 only */
            v1 = vldrbq_gather_offset_z_s8(x + step1, tap, used1);
            v2 = vldrbq_gather_offset_z_s8(x + step2, tap, used2);
          }
        } else {
          const mve_pred16_t in_col =
              vcmphiq_u8(vdupq_n_u8((uint8_t)W), vaddq_n_u8(vldrbq_u8(lane_col), (uint8_t)ix0));
          v0 = vpselq_s8(vldrbq_gather_offset_z_s8(x, tap, in0 & in_col), zp, in0 & in_col);
          if (G > 1) {
            v1 = vpselq_s8(vldrbq_gather_offset_z_s8(x + step1, tap, in1 & in_col), zp1,
                           in1 & in_col);
            v2 = vpselq_s8(vldrbq_gather_offset_z_s8(x + step2, tap, in2 & in_col), zp2,
                           in2 & in_col);
          }
        }
        for (oc = 0; oc < cout; oc += 4) {
          const int32_t n = cout - oc < 4 ? cout - oc : 4;
          const mve_pred16_t lanes = vctp32q((uint32_t)n);
          int32x4_t acc;
          if (G == 1) { /* the 1-channel stems: one group */
            for (j = 0; j < n; ++j, w += K) {
              sums[j] = vmladavaq_s8(base[oc + j], v0, vldrbq_z_s8(w, used));
            }
          } else {
            for (j = 0; j < n; ++j, w += K) {
              int32_t a = vmladavaq_s8(base[oc + j], v0, vldrbq_z_s8(w, used));
              a = vmladavaq_s8(a, v1, vldrbq_z_s8(w + L1, used));
              sums[j] = vmladavaq_s8(a, v2, vldrbq_z_s8(w + L2, used));
            }
          }
          acc = piconas_mve_requantize(
              vldrwq_s32(sums),
              piconas_mve_requant_of(quant->multiplier + oc, quant->shift + oc, lanes));
          acc = vaddq_n_s32(acc, out_offset);
          vstrbq_p_s32(
              y + oc, vminq_s32(vmaxq_s32(acc, vdupq_n_s32(act_min)), vdupq_n_s32(act_max)), lanes);
        }
        y += cout;
      }
    }
  }
}

/* A convolution whose window is at most 3 groups of whole kernel rows of at most 16 bytes each
 * (rows * KW * C_in <= 16, e.g. a 3x3 stem on 1 or 3 channels): the window of one output pixel
 * is one VLDRB gather per group straight from the input (8-bit offsets (r*W + k)*C_in + ci from
 * the group's first row), taps outside the image predicated off and set to the input zero point
 * (x + input_offset = 0) by VPSEL, and each output channel's sum is one VMLADAVA per group with
 * its weights (filter row oc, loaded as is). bias + input_offset * sum(w) per output channel is
 * computed once. Returns 0, having written nothing, when the layer does not qualify
 * (piconas_conv2d_mve_window_fits). */
int piconas_conv2d_window_mve_s8(const piconas_conv_params *params,
                                 const piconas_per_channel_quant_params *quant,
                                 const piconas_dims *input_dims, const int8_t *input,
                                 const piconas_dims *filter_dims, const int8_t *filter,
                                 const int32_t *bias, const piconas_dims *output_dims,
                                 int8_t *output) {
  const int32_t cin = input_dims->c, KH = filter_dims->h, KW = filter_dims->w;
  const int32_t K = KH * KW * cin, cout = filter_dims->n, W = input_dims->w;
  const int32_t dh = params->dilation.h, dw = params->dilation.w;
  int32_t base[CONV_MVE_WINDOW_MAX_COUT];
  uint8_t taps[16], lane_row[16], lane_col[16];
  int32_t i, oc, rows, G, L;
  rows = conv_window_rows(params, input_dims, filter_dims);
  if (rows == 0) {
    return 0;
  }
  G = KH / rows;
  L = rows * KW * cin;
  for (i = 0; i < 16; ++i) {
    const int32_t r = i < L ? i / (KW * cin) : 0, k = i < L ? i / cin % KW : 0;
    taps[i] = (uint8_t)(i < L ? (r * dh * W + k * dw) * cin + i % cin : 0);
    lane_row[i] = (uint8_t)(r * dh);
    lane_col[i] = (uint8_t)(k * dw);
  }
  for (oc = 0; oc < cout; ++oc) {
    const int8_t *w = filter + (ptrdiff_t)oc * K;
    int32_t sum = 0;
    for (i = 0; i < K; ++i) sum += w[i];
    base[oc] = (bias != NULL ? bias[oc] : 0) + params->input_offset * sum;
  }
  conv_mve_window_run(params, quant, input_dims, input, filter_dims, filter, output_dims, output,
                      base, taps, lane_row, lane_col, rows, L, G);
  return 1;
}

/* Any convolution: the window of one output pixel copied as raw int8 into col (K = KH*KW*C_in
 * bytes), taps outside the image filled with -input_offset (= z_in, so that x + offset = 0:
 * the same as skipping them), a predicated copy per tap. Then per 4 output channels acc_j =
 * bias_j + offset * sum_k w_j[k] + sum_k w_j[k] * col[k], both sums by VADDVA / VMLADAVA over 16
 * bytes per predicated step. Small and general: the models' dense convolutions are stems, which
 * take piconas_conv2d_window_mve_s8. */
void piconas_conv2d_im2col_mve_s8(const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output, int8_t *col) {
  const int32_t cin = input_dims->c, KH = filter_dims->h, KW = filter_dims->w;
  const int32_t K = KH * KW * cin, cout = filter_dims->n;
  const int32_t offset = params->input_offset;
  const int8_t pad = (int8_t)(-offset);
  int32_t b, oy, ox, ky, kx, oc, k;
  for (b = 0; b < output_dims->n; ++b) {
    const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * cin;
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      for (ox = 0; ox < output_dims->w; ++ox) {
        const int32_t ix0 = ox * params->stride.w - params->padding.w;
        int8_t *y = output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w + ox) * cout;
        int8_t *dst = col;
        for (ky = 0; ky < KH; ++ky) {
          const int32_t iy = iy0 + ky * params->dilation.h;
          for (kx = 0; kx < KW; ++kx, dst += cin) {
            const int32_t ix = ix0 + kx * params->dilation.w;
            const int inside = iy >= 0 && iy < input_dims->h && ix >= 0 && ix < input_dims->w;
            conv_mve_copy(dst, inside ? image + ((ptrdiff_t)iy * input_dims->w + ix) * cin : NULL,
                          cin, pad);
          }
        }
        for (oc = 0; oc < cout; oc += 4) {
          const int32_t n = cout - oc < 4 ? cout - oc : 4;
          const mve_pred16_t lanes = vctp32q((uint32_t)n);
          const int8_t *w0 = filter + (ptrdiff_t)oc * K;
          const int8_t *w1 = w0 + (n > 1 ? K : 0);
          const int8_t *w2 = w0 + (ptrdiff_t)(n > 2 ? 2 : n - 1) * K;
          const int8_t *w3 = w0 + (ptrdiff_t)(n - 1) * K;
          int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          int32x4_t acc, sum;
          for (k = 0; k < K; k += 16) {
            const mve_pred16_t p = vctp8q((uint32_t)(K - k));
            const int8x16_t v = vldrbq_z_s8(col + k, p);
            const int8x16_t u0 = vldrbq_z_s8(w0 + k, p), u1 = vldrbq_z_s8(w1 + k, p);
            const int8x16_t u2 = vldrbq_z_s8(w2 + k, p), u3 = vldrbq_z_s8(w3 + k, p);
            a0 = vmladavaq_s8(a0, v, u0);
            s0 = vaddvaq_s8(s0, u0);
            a1 = vmladavaq_s8(a1, v, u1);
            s1 = vaddvaq_s8(s1, u1);
            a2 = vmladavaq_s8(a2, v, u2);
            s2 = vaddvaq_s8(s2, u2);
            a3 = vmladavaq_s8(a3, v, u3);
            s3 = vaddvaq_s8(s3, u3);
          }
          acc = vsetq_lane_s32(a0, vdupq_n_s32(0), 0);
          acc = vsetq_lane_s32(a1, acc, 1);
          acc = vsetq_lane_s32(a2, acc, 2);
          acc = vsetq_lane_s32(a3, acc, 3);
          sum = vsetq_lane_s32(s0, vdupq_n_s32(0), 0);
          sum = vsetq_lane_s32(s1, sum, 1);
          sum = vsetq_lane_s32(s2, sum, 2);
          sum = vsetq_lane_s32(s3, sum, 3);
          acc = vmlaq_n_s32(acc, sum, offset);
          if (bias != NULL) acc = vaddq_s32(acc, vldrwq_z_s32(bias + oc, lanes));
          acc = piconas_mve_requantize(
              acc, piconas_mve_requant_of(quant->multiplier + oc, quant->shift + oc, lanes));
          vstrbq_p_s32(y + oc, piconas_mve_output(acc, params->output_offset, params->activation),
                       lanes);
        }
      }
    }
  }
}

#endif /* PICONAS_S8_MVE */
