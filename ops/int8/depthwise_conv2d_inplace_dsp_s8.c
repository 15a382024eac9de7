
/* int8 in-place depthwise convolution, the SIMD variant (depthwise_conv2d_inplace_variants_s8.h)
 * with the Armv7E-M DSP instructions (emulated in C where absent, simd_s8.h): planar, over the
 * copied input plane.
 * Per channel the weights are packed once into halfword pairs: for kernel row ky and tap group
 * g (taps 4g..4g+3, zero beyond KW) wa = (w[4g], w[4g+2]), wb = (w[4g+1], w[4g+3]) (3x3:
 * wb = (w1, w1)), and the input offset is folded into the bias (bias + offset * sum(w), the same
 * int32 sum). Each output row is a left border, a run of horizontal pixel pairs, and a right
 * border. In the run one 32-bit load of plane bytes ix..ix+3 gives, through SXTB16 and its
 * ROR #8 form, e02 = (x0, x2) and e13 = (x1, x3), and SMLADs add the taps; in a 3x3 stride-1
 * layer the same word serves both pixels: pixel 0 takes e02.wa + e13.lo * w1, pixel 1
 * e13.wa + e02.hi * w1 (one load, two SXTs, four MACs per kernel row and pair). Kernel rows in
 * the vertical padding (top and bottom output rows) read plane row 0 with zero weights and
 * leave the folded bias, so those rows run pairs too; only pixels whose window reaches into the
 * horizontal padding take a scalar loop over their in-image taps. Requantization: simd_s8.h's,
 * constants once per channel; applies when its accumulator bound holds
 * (piconas_s8_simd_quant_ok). */
#include <stddef.h>

#include "depthwise_conv2d_inplace_variants_s8.h"
#include "int8_checks.h"
#include "simd_s8.h"

#if PICONAS_S8_SIMD_AVAILABLE


enum { DW_INPLACE_MAX_GROUPS = DW_INPLACE_MAX_K / 4 };

#if defined(__GNUC__)
#define PICONAS_DW_INPLACE_NOINLINE static __attribute__((noinline))
#else
#define PICONAS_DW_INPLACE_NOINLINE static
#endif

/* What a run of pixel pairs of one output row needs. */
typedef struct {
  const int8_t *rows[DW_INPLACE_MAX_K]; /* plane row of each kernel row (row 0 when padding) */
  uint32_t wa[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS]; /* zero for kernel rows in padding */
  uint32_t wb[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS];
  int32_t kh;     /* KH */
  int32_t groups; /* tap groups per kernel row: ceil(KW / 4) */
  int32_t stride; /* stride.w */
  int32_t bias;   /* bias + input offset * sum of the weights of the in-image kernel rows */
  int32_t y_step; /* C: bytes between output pixels */
  piconas_s8_requant r;
  piconas_s8_out_stage out;
} dw_run;

static uint32_t pack_taps(const int8_t *w, int32_t channels, int32_t kw, int32_t k0, int32_t k1) {
  const int32_t lo = k0 < kw ? w[(ptrdiff_t)k0 * channels] : 0;
  const int32_t hi = k1 < kw ? w[(ptrdiff_t)k1 * channels] : 0;
  return piconas_pkhbt((uint32_t)lo, (uint32_t)hi);
}

static int8_t dw_run_out(int32_t acc, const dw_run *d) {
  return piconas_s8_store(piconas_s8_requantize(acc, d->r), d->out);
}

/* One kernel row of a 3x3 stride-1 pair at x. */
#define PICONAS_DW_ROW_S1(x, wa, wb)                                          \
  do {                                                                        \
    const uint32_t v_ = piconas_read_s8x4(x);                                 \
    const uint32_t e02_ = piconas_sxtb16(v_), e13_ = piconas_sxtb16_ror8(v_); \
    a0 = piconas_smlabb(e13_, wb, piconas_smlad(e02_, wa, a0));               \
    a1 = piconas_smlatt(e02_, wb, piconas_smlad(e13_, wa, a1));               \
  } while (0)

/* One kernel row of a 3x3 pair of any stride: windows at x and x + s. */
#define PICONAS_DW_ROW_3(x, wa, wb)                                                              \
  do {                                                                                           \
    const uint32_t u_ = piconas_read_s8x4(x), v_ = piconas_read_s8x4((x) + s);                   \
    a0 = piconas_smlabb(piconas_sxtb16_ror8(u_), wb, piconas_smlad(piconas_sxtb16(u_), wa, a0)); \
    a1 = piconas_smlabb(piconas_sxtb16_ror8(v_), wb, piconas_smlad(piconas_sxtb16(v_), wa, a1)); \
  } while (0)

/* `pairs` pairs of a 3x3 row, the first pair's windows at column ix and ix + stride; ROW is
 * PICONAS_DW_ROW_S1 (stride 1) or PICONAS_DW_ROW_3 (any stride). */
#define PICONAS_DW_RUN_3X3(ROW)                                                     \
  const uint32_t wa0 = d->wa[0][0], wa1 = d->wa[1][0], wa2 = d->wa[2][0];           \
  const uint32_t wb0 = d->wb[0][0], wb1 = d->wb[1][0], wb2 = d->wb[2][0];           \
  const int8_t *x0 = d->rows[0] + ix, *x1 = d->rows[1] + ix, *x2 = d->rows[2] + ix; \
  const int32_t step = d->y_step, s = d->stride;                                    \
  for (; pairs > 0; --pairs) {                                                      \
    int32_t a0 = d->bias, a1 = d->bias;                                             \
    ROW(x0, wa0, wb0);                                                              \
    ROW(x1, wa1, wb1);                                                              \
    ROW(x2, wa2, wb2);                                                              \
    y[0] = dw_run_out(a0, d);                                                       \
    y[step] = dw_run_out(a1, d);                                                    \
    y += 2 * step;                                                                  \
    x0 += 2 * s;                                                                    \
    x1 += 2 * s;                                                                    \
    x2 += 2 * s;                                                                    \
  }

PICONAS_DW_INPLACE_NOINLINE void dw_run_3x3_s1(const dw_run *d, int32_t ix, int32_t pairs,
                                               int8_t *y){PICONAS_DW_RUN_3X3(PICONAS_DW_ROW_S1)}

PICONAS_DW_INPLACE_NOINLINE void dw_run_3x3(const dw_run *d, int32_t ix, int32_t pairs,
                                            int8_t *y){PICONAS_DW_RUN_3X3(PICONAS_DW_ROW_3)}

/* `pairs` pairs of any KH, KW <= 8 and stride s, the first pair's windows at column ix and
 * ix + s; each kernel row reads up to column ix + s + 4 * groups - 1 (zero weights there). */
PICONAS_DW_INPLACE_NOINLINE void dw_run_any(const dw_run *d, int32_t ix, int32_t pairs, int8_t *y) {
  const int32_t s = d->stride, step = d->y_step;
  int32_t ky, g;
  for (; pairs > 0; --pairs) {
    int32_t a0 = d->bias, a1 = d->bias;
    for (ky = 0; ky < d->kh; ++ky) {
      const int8_t *x = d->rows[ky] + ix;
      for (g = 0; g < d->groups; ++g) {
        const uint32_t u = piconas_read_s8x4(x + 4 * g), v = piconas_read_s8x4(x + s + 4 * g);
        const uint32_t wa = d->wa[ky][g], wb = d->wb[ky][g];
        a0 = piconas_smlad(piconas_sxtb16(u), wa, a0);
        a0 = piconas_smlad(piconas_sxtb16_ror8(u), wb, a0);
        a1 = piconas_smlad(piconas_sxtb16(v), wa, a1);
        a1 = piconas_smlad(piconas_sxtb16_ror8(v), wb, a1);
      }
    }
    y[0] = dw_run_out(a0, d);
    y[step] = dw_run_out(a1, d);
    y += 2 * step;
    ix += 2 * s;
  }
}

/* `quads` runs of four pixels of any KH, KW <= 8 and stride s (the windows at ix, ix + s,
 * ix + 2s, ix + 3s): each widened weight pair serves four pixels. */
PICONAS_DW_INPLACE_NOINLINE void dw_run_quad(const dw_run *d, int32_t ix, int32_t quads,
                                             int8_t *y) {
  const int32_t s = d->stride, step = d->y_step;
  int32_t ky, g;
  for (; quads > 0; --quads) {
    int32_t a0 = d->bias, a1 = d->bias, a2 = d->bias, a3 = d->bias;
    for (ky = 0; ky < d->kh; ++ky) {
      const int8_t *x = d->rows[ky] + ix;
      for (g = 0; g < d->groups; ++g, x += 4) {
        const uint32_t wa = d->wa[ky][g], wb = d->wb[ky][g];
        uint32_t u = piconas_read_s8x4(x);
        a0 = piconas_smlad(piconas_sxtb16_ror8(u), wb, piconas_smlad(piconas_sxtb16(u), wa, a0));
        u = piconas_read_s8x4(x + s);
        a1 = piconas_smlad(piconas_sxtb16_ror8(u), wb, piconas_smlad(piconas_sxtb16(u), wa, a1));
        u = piconas_read_s8x4(x + 2 * s);
        a2 = piconas_smlad(piconas_sxtb16_ror8(u), wb, piconas_smlad(piconas_sxtb16(u), wa, a2));
        u = piconas_read_s8x4(x + 3 * s);
        a3 = piconas_smlad(piconas_sxtb16_ror8(u), wb, piconas_smlad(piconas_sxtb16(u), wa, a3));
      }
    }
    y[0] = dw_run_out(a0, d);
    y[step] = dw_run_out(a1, d);
    y[2 * step] = dw_run_out(a2, d);
    y[3 * step] = dw_run_out(a3, d);
    y += 4 * step;
    ix += 4 * s;
  }
}

/* Output pixels [ox_begin, ox_end) of one row, one by one over their in-image taps; row points
 * at plane row iy0 (possibly outside the plane: only in-image taps are read). */
static void dw_border(const dw_run *d, const piconas_dw_conv_params *p, const int8_t *w,
                      int32_t bias, const piconas_dims *in, int32_t kw, const int8_t *row,
                      int32_t ky0, int32_t ky1, int32_t ox_begin, int32_t ox_end, int8_t *y) {
  int32_t ox, ky, kx;
  for (ox = ox_begin; ox < ox_end; ++ox) {
    const int32_t ix0 = ox * p->stride.w - p->padding.w;
    int32_t kx0, kx1, acc = bias;
    piconas_s8_tap_range(ix0, 1, kw, in->w, &kx0, &kx1);
    for (ky = ky0; ky < ky1; ++ky) {
      for (kx = kx0; kx < kx1; ++kx) {
        acc += (int32_t)w[((ptrdiff_t)ky * kw + kx) * in->c] *
               ((int32_t)row[(ptrdiff_t)ky * in->w + ix0 + kx] + p->input_offset);
      }
    }
    y[(ptrdiff_t)ox * in->c] = dw_run_out(acc, d);
  }
}

/* Plane bytes ix0..ix0+3 of row r as one word, the columns outside [0, W) replaced by zp4's
 * bytes (the input zero point: adds nothing to the folded bias). With W >= 4 one aligned-or-not
 * load and a shift; else byte by byte. */
static uint32_t border_word(const int8_t *r, int32_t ix0, int32_t in_w, uint32_t zp4) {
  uint32_t u = 0;
  int32_t b;
  if (in_w >= 4 && ix0 > -4) {
    if (ix0 < 0) { /* 1..3 columns of left padding */
      const int32_t shift = -8 * ix0;
      return (piconas_read_s8x4(r) << shift) | (zp4 & ((1u << shift) - 1u));
    }
    if (ix0 + 4 <= in_w) {
      return piconas_read_s8x4(r + ix0);
    }
    if (ix0 < in_w) { /* 1..3 columns left in the row */
      const int32_t keep = in_w - ix0;
      return (piconas_read_s8x4(r + in_w - 4) >> (8 * (4 - keep))) | (zp4 << (8 * keep));
    }
  }
  for (b = 0; b < 4; ++b) {
    const int32_t col = ix0 + b;
    u |= ((uint32_t)col < (uint32_t)in_w ? (uint8_t)r[col] : (zp4 & 0xFFu)) << (8 * b);
  }
  return u;
}

/* Output pixels [ox_begin, ox_end) of a 3x3 row set up in d (any in-image kernel row), window
 * origin ix0 for the first: one word of four plane bytes per kernel row (border_word). */
PICONAS_DW_INPLACE_NOINLINE void dw_border_3x3(const dw_run *d, int32_t in_w, uint32_t zp4,
                                               int32_t ix0, int32_t ox_begin, int32_t ox_end,
                                               int8_t *y) {
  int32_t ox, ky;
  for (ox = ox_begin; ox < ox_end; ++ox, ix0 += d->stride) {
    int32_t acc = d->bias;
    for (ky = 0; ky < 3; ++ky) {
      const uint32_t u = border_word(d->rows[ky], ix0, in_w, zp4);
      acc = piconas_smlabb(piconas_sxtb16_ror8(u), d->wb[ky][0],
                           piconas_smlad(piconas_sxtb16(u), d->wa[ky][0], acc));
    }
    y[(ptrdiff_t)ox * d->y_step] = dw_run_out(acc, d);
  }
}

/* The number of pixel pairs from output column first on whose windows lie inside the image
 * horizontally (window_end columns from ix0), whose reads (reach bytes from ix0 in each kernel
 * row) stay inside the scratch (last_row: offset of the lowest in-image kernel row) and whose
 * second pixel exists. */
static int32_t pair_count(const piconas_dw_conv_params *p, int32_t in_w, int32_t out_w,
                          int32_t first, int64_t window_end, int64_t reach, int64_t last_row,
                          int64_t scratch_size) {
  int64_t by_width = in_w - window_end + p->padding.w;
  int64_t by_scratch = scratch_size - reach - last_row + p->padding.w;
  int32_t last = out_w - 2;
  if (by_width < 0 || by_scratch < 0) {
    return 0;
  }
  by_width = by_width < by_scratch ? by_width : by_scratch;
  by_width = by_width < INT32_MAX ? by_width : INT32_MAX;
  if ((int32_t)by_width / p->stride.w < last) {
    last = (int32_t)by_width / p->stride.w;
  }
  return last >= first ? (last - first) / 2 + 1 : 0;
}

/* Bytes of the stack ring of zero-point padded rows (dw_ring_channel); larger layers take the
 * border code. */
enum { DW_INPLACE_RING_BYTES = 1024 };

/* Ring row: image columns pad_w..pad_w+W-1 of a zero-point filled row from plane row src, or
 * the zero point (src null: vertical padding). The other columns keep the zero point. */
static void dw_ring_row(int8_t *dst, const int8_t *src, int32_t in_w, int8_t z) {
  int32_t j;
  if (src != NULL) {
    for (j = 0; j < in_w; ++j) dst[j] = src[j];
  } else {
    for (j = 0; j < in_w; ++j) dst[j] = z;
  }
}

/* `pairs` pixel pairs with the run of the layer's shape. */
static void dw_run_pairs(const dw_run *d, int is_3x3, int32_t ix, int32_t pairs, int8_t *y) {
  if (is_3x3 && d->stride == 1) {
    dw_run_3x3_s1(d, ix, pairs, y);
  } else if (is_3x3) {
    dw_run_3x3(d, ix, pairs, y);
  } else {
    dw_run_any(d, ix, pairs, y);
  }
}

/* One channel (weights and folded bias in d) from its plane through a ring of KH padded rows of
 * pw bytes (filled with the zero point once per call): every window lies inside the padded rows,
 * so every output pixel runs in quads or pairs (padding taps read the zero point, which adds
 * nothing to the folded bias: no border code) and each input row is copied once. An odd last
 * pixel runs as a pair into t. */
static void dw_ring_channel(dw_run *d, const piconas_dw_conv_params *p, const piconas_dims *in,
                            const piconas_dims *out, int is_3x3, const int8_t *plane,
                            int32_t pw, int8_t *ring, int8_t *y) {
  const int8_t z = (int8_t)(-p->input_offset);
  const int32_t kh = d->kh, ow = out->w, step = d->y_step;
  int32_t oy, ky, next = 0;
  for (oy = 0; oy < out->h; ++oy, y += (ptrdiff_t)ow * step) {
    const int32_t top = oy * p->stride.h;
    for (next = next > top ? next : top; next < top + kh; ++next) {
      const int32_t iy = next - p->padding.h;
      dw_ring_row(ring + (ptrdiff_t)(next % kh) * pw + p->padding.w,
                  iy >= 0 && iy < in->h ? plane + (ptrdiff_t)iy * in->w : NULL, in->w, z);
    }
    for (ky = 0; ky < kh; ++ky) d->rows[ky] = ring + (ptrdiff_t)((top + ky) % kh) * pw;
    if (is_3x3) { /* wb holds (w1, w1) for the pair runs: no quads */
      dw_run_pairs(d, is_3x3, 0, ow / 2, y);
    } else {
      const int32_t quads = ow / 4;
      dw_run_quad(d, 0, quads, y);
      if (ow % 4 >= 2) {
        dw_run_pairs(d, is_3x3, 4 * quads * d->stride, 1, y + (ptrdiff_t)4 * quads * step);
      }
    }
    if (ow % 2 != 0) {
      int8_t t[2];
      d->y_step = 1;
      dw_run_pairs(d, is_3x3, (ow - 1) * d->stride, 1, t);
      d->y_step = step;
      y[(ptrdiff_t)(ow - 1) * step] = t[0];
    }
  }
}

void piconas_depthwise_conv2d_inplace_dsp_run_s8(const piconas_s8_context *ctx,
                                                 const piconas_dw_conv_params *params,
                                                 const piconas_per_channel_quant_params *quant,
                                                 const piconas_dims *input_dims,
                                                 const piconas_dims *filter_dims,
                                                 const int8_t *filter, const int32_t *bias,
                                                 const piconas_dims *output_dims, int8_t *data) {
  const int32_t channels = input_dims->c, ow = output_dims->w, sw = params->stride.w;
  const int32_t kh = filter_dims->h, kw = filter_dims->w, in_w = input_dims->w;
  /* Pixels left of first_pair have windows reaching into the left padding. */
  const int32_t first_pair = (params->padding.w + sw - 1) / sw;
  const int is_3x3 = kh == 3 && kw == 3;
  int8_t *plane = (int8_t *)ctx->buf;
  uint32_t wa[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS], wb[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS];
  int32_t row_sum[DW_INPLACE_MAX_K];
  dw_run d;
  /* The input zero point: the byte whose value plus the input offset is 0. */
  const uint32_t zp4 = (uint8_t)(int8_t)(-params->input_offset) * 0x01010101u;
  int32_t c, oy, ky, kx, g, set_ky0, set_ky1, pairs_by_width;
  int64_t reach, last_pair_ix, ring_pw;
  int8_t ring[DW_INPLACE_RING_BYTES];
  int use_ring;
  d.kh = kh;
  d.groups = (kw + 3) / 4;
  d.stride = sw;
  d.y_step = channels;
  d.out = piconas_s8_out_stage_of(params->output_offset, params->activation);
  reach = is_3x3 && sw == 1 ? 4 : (int64_t)sw + 4 * d.groups;
  /* Pairs whose windows lie inside the image horizontally; rows near the plane's end may take
   * fewer (their reads must stay inside the scratch). */
  pairs_by_width =
      pair_count(params, in_w, ow, first_pair, (int64_t)sw + kw, reach, 0, INT64_MAX / 2);
  last_pair_ix = ((int64_t)first_pair + 2 * ((int64_t)pairs_by_width - 1)) * sw - params->padding.w;
  /* Ring rows: the reads of the last quad, ow rounded up to a multiple of 4. */
  ring_pw = (int64_t)((ow + 3) / 4 * 4 - 1) * sw + 4 * d.groups + 4;
  /* (A strided 3x3 layer measured faster with its border code: its pairs are not shared.) */
  use_ring = (int64_t)kh * ring_pw <= DW_INPLACE_RING_BYTES && (!is_3x3 || sw == 1);
  for (c = 0; use_ring && c < kh * ring_pw; ++c) ring[c] = (int8_t)(-params->input_offset);
  for (c = 0; c < channels; ++c) {
    const int8_t *w = filter + c;
    const int32_t b = bias != NULL ? bias[c] : 0;
    d.r = piconas_s8_requant_of(quant->multiplier[c], quant->shift[c]);
    for (ky = 0; ky < kh; ++ky) {
      const int8_t *wr = w + (ptrdiff_t)ky * kw * channels;
      row_sum[ky] = 0;
      for (kx = 0; kx < kw; ++kx) {
        row_sum[ky] += wr[(ptrdiff_t)kx * channels];
      }
      for (g = 0; g < d.groups; ++g) {
        wa[ky][g] = pack_taps(wr, channels, kw, 4 * g, 4 * g + 2);
        wb[ky][g] = is_3x3 ? pack_taps(wr, channels, kw, 1, 1)
                           : pack_taps(wr, channels, kw, 4 * g + 1, 4 * g + 3);
      }
    }
    piconas_dw_inplace_copy_channel(data + c, channels, input_dims->h * in_w, plane);
    if (use_ring) {
      d.bias = b;
      for (ky = 0; ky < kh; ++ky) {
        d.bias += params->input_offset * row_sum[ky];
        for (g = 0; g < d.groups; ++g) {
          d.wa[ky][g] = wa[ky][g];
          d.wb[ky][g] = wb[ky][g];
        }
      }
      dw_ring_channel(&d, params, input_dims, output_dims, is_3x3, plane, (int32_t)ring_pw, ring,
                      data + c);
      continue;
    }
    set_ky0 = set_ky1 = -1;
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      const int8_t *row = plane + (ptrdiff_t)iy0 * in_w;
      int8_t *y = data + (ptrdiff_t)oy * ow * channels + c;
      const int64_t last_row_offset = (int64_t)iy0 * in_w; /* + (ky1 - 1) * W below */
      int32_t ky0, ky1, pairs = pairs_by_width;
      piconas_s8_tap_range(iy0, 1, kh, input_dims->h, &ky0, &ky1);
      if (ky0 >= ky1) { /* the whole window in the vertical padding */
        dw_border(&d, params, w, b, input_dims, kw, row, ky0, ky1, 0, ow, y);
        continue;
      }
      if (ky0 != set_ky0 || ky1 != set_ky1) { /* weights and bias of the in-image kernel rows */
        set_ky0 = ky0;
        set_ky1 = ky1;
        d.bias = b;
        for (ky = 0; ky < kh; ++ky) {
          const int inside = ky >= ky0 && ky < ky1;
          d.bias += inside ? params->input_offset * row_sum[ky] : 0;
          for (g = 0; g < d.groups; ++g) {
            d.wa[ky][g] = inside ? wa[ky][g] : 0;
            d.wb[ky][g] = inside ? wb[ky][g] : 0;
          }
        }
      }
      for (ky = 0; ky < kh; ++ky) {
        d.rows[ky] = ky >= ky0 && ky < ky1 ? row + (ptrdiff_t)ky * in_w : plane;
      }
      if (pairs > 0 && last_row_offset + (int64_t)(ky1 - 1) * in_w + last_pair_ix + reach >
                           ctx->size) { /* the last rows of the plane: reads past the scratch */
        pairs = pair_count(params, in_w, ow, first_pair, (int64_t)sw + kw, reach,
                           last_row_offset + (int64_t)(ky1 - 1) * in_w, ctx->size);
      }
      if (is_3x3) {
        const int32_t end = pairs > 0 ? first_pair : ow;
        dw_border_3x3(&d, in_w, zp4, -params->padding.w, 0, end, y);
      } else {
        dw_border(&d, params, w, b, input_dims, kw, row, ky0, ky1, 0, pairs > 0 ? first_pair : ow,
                  y);
      }
      if (pairs == 0) {
        continue;
      }
      if (is_3x3 && sw == 1) {
        dw_run_3x3_s1(&d, first_pair * sw - params->padding.w, pairs,
                      y + (ptrdiff_t)first_pair * channels);
      } else if (is_3x3) {
        dw_run_3x3(&d, first_pair * sw - params->padding.w, pairs,
                   y + (ptrdiff_t)first_pair * channels);
      } else {
        dw_run_any(&d, first_pair * sw - params->padding.w, pairs,
                   y + (ptrdiff_t)first_pair * channels);
      }
      if (is_3x3) {
        const int32_t begin = first_pair + 2 * pairs;
        dw_border_3x3(&d, in_w, zp4, begin * sw - params->padding.w, begin, ow, y);
      } else {
        dw_border(&d, params, w, b, input_dims, kw, row, ky0, ky1, first_pair + 2 * pairs, ow, y);
      }
    }
  }
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
