/*
 * kernel_test.c: the int8 kernels on the MCU itself (QEMU): every SIMD variant (called directly,
 * so on Cortex-M0 their C emulation runs; when a variant does not apply, the wrapper) against the
 * portable reference variant (piconas_*_generic_s8, which tests/int8 checks against the
 * independent int64 reference on the host) on random layers small enough for a 16 KB part:
 * channels around the 4-value SIMD step, 1x1 / 3x3 / other kernels, every stride / padding /
 * dilation, odd pixel and channel counts, batch 2; the conv layers also through their packed
 * filter (conv2d_packed_s8.h). The in-place depthwise (its planar SIMD
 * variant, else its portable one) runs against the out-of-place portable depthwise, on 1x1 to
 * 7x7 kernels, strides 1..3 and paddings 0..3; a 20x20 depthwise layer (3x3 to 7x7, stride 1 or
 * 2) runs the MVE kernel's bands. The add also runs in place over either input. Exit status 0
 * when all are byte-identical.
 * On Cortex-M55 the SIMD entry points run the MVE kernels (ops/int8/mve_s8.h), which cannot run
 * on the host: this test is their only bit-exactness check (channel counts up to 17 exercise the
 * predicated tails; rounding_case the ties of the vector requantization).
 * Built and run by tests/int8/mcu/run.sh (ctest int8_mcu_<core>).
 */
#include <stdint.h>

#include "ops/int8/int8_kernels.h"
#include "semihost.h"

#define MAX_IN 400
#define WIDE_IN 1120 /* the depthwise layers the padded plane does not fit: 14x20x4 */
#define MAX_W 400
#define MAX_OUT 600
#define MAX_CH 20

static int8_t x[WIDE_IN], x2[MAX_IN], w[MAX_W], y_ref[WIDE_IN], y[WIDE_IN];
static int32_t bias[MAX_CH], mult[MAX_CH], shift[MAX_CH];
static int32_t scratch[256];
static int32_t packed_scratch[400], packed_w[300];
static uint32_t state = 2024u;
static int simd_calls, inplace_simd_calls, packed_calls;

static int32_t rnd(int32_t lo, int32_t hi) {
  state = state * 1664525u + 1013904223u;
  return (int32_t)((uint32_t)lo + (state >> 1) % ((uint32_t)hi - (uint32_t)lo + 1u));
}

static void fill(int8_t *p, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) p[i] = (int8_t)rnd(-128, 127);
}

static int differs(int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i)
    if (y[i] != y_ref[i]) return 1;
  return 0;
}

static void clear_y(int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = 99;
}

static int32_t out_size(int32_t in, int32_t k, int32_t s, int32_t p, int32_t d) {
  const int32_t span = in + 2 * p - d * (k - 1) - 1;
  return span < 0 ? 1 : span / s + 1;
}

static int32_t channels(void) { return rnd(0, 2) == 0 ? rnd(1, 9) : 4 * rnd(1, 4) + rnd(-1, 1); }

static void quant(int32_t c, int32_t macs) {
  int32_t i;
  for (i = 0; i < c; ++i) {
    const int32_t limit = 0x7FFFFFFF - macs * 32640;
    bias[i] = rnd(0, 19) == 0 ? (rnd(0, 1) ? limit : -limit) : rnd(-100000, 100000);
    mult[i] = rnd(0, 9) == 0 ? rnd(-0x7FFFFFFF, 0x7FFFFFFF) : 0x40000000 + rnd(0, 0x3FFFFFFF);
    shift[i] = rnd(0, 9) == 0 ? rnd(-31, 31) : rnd(-12, 2);
  }
}

/* One random depthwise layer (M = 1): SIMD vs generic. Returns 1 on a mismatch. */
static int depthwise_case(void) {
  piconas_dw_conv_params p;
  piconas_per_channel_quant_params q = {mult, shift};
  piconas_dims in, f, out;
  int32_t k = rnd(0, 1) ? 3 : rnd(1, 4), k2 = rnd(0, 3) ? k : rnd(1, 4);
  int s1, s2, wide = 0;
  in.n = rnd(1, 2);
  in.c = channels();
  in.h = rnd(1, 6);
  in.w = rnd(1, 8);
  while (in.n * in.h * in.w * in.c > MAX_IN)
    in.w = in.w > 1 ? in.w - 1 : 1, in.h = in.h > 1 ? in.h - 1 : 1;
  f.n = 1;
  f.h = k;
  f.w = k2;
  f.c = in.c;
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.ch_mult = 1;
  p.stride.h = rnd(1, 3);
  p.stride.w = rnd(1, 3);
  p.padding.h = rnd(0, 2);
  p.padding.w = rnd(0, 2);
  p.dilation.h = rnd(0, 3) ? 1 : 2;
  p.dilation.w = rnd(0, 3) ? 1 : 2;
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  if (k == 3 && k2 == 3 && rnd(0, 3) == 0) {
    /* An image the zero-point padded plane does not fit: the interior and border code. */
    in.n = 1;
    in.c = f.c = 4;
    in.h = 14;
    in.w = rnd(19, 20);
    p.padding.h = p.padding.w = rnd(0, 1);
    p.dilation.h = p.dilation.w = 1;
    wide = 1;
  }
  out.n = in.n;
  out.c = in.c;
  out.h = out_size(in.h, f.h, p.stride.h, p.padding.h, p.dilation.h);
  out.w = out_size(in.w, f.w, p.stride.w, p.padding.w, p.dilation.w);
  if (out.n * out.h * out.w * out.c > (wide ? WIDE_IN : MAX_OUT) || f.h * f.w * f.c > MAX_W) {
    return 0;
  }
  fill(x, in.n * in.h * in.w * in.c);
  fill(w, f.h * f.w * f.c);
  quant(out.c, f.h * f.w);
  s1 = piconas_depthwise_conv2d_generic_s8(&p, &q, &in, x, &f, w, bias, &out, y_ref);
  s2 = piconas_depthwise_conv2d_simd_applies(&p, &q, bias, &f)
           ? piconas_depthwise_conv2d_simd_s8(&p, &q, &in, x, &f, w, bias, &out, y)
           : piconas_depthwise_conv2d_s8(&p, &q, &in, x, &f, w, bias, &out, y);
  simd_calls += piconas_depthwise_conv2d_simd_applies(&p, &q, bias, &f);
  if (s1 != 0 || s2 != 0 || differs(out.n * out.h * out.w * out.c)) return 1;
  /* The unchecked entry point on what the exporter checks (nas/deploy/emit_c.cpp). */
  if (piconas_depthwise_conv2d_simd_applies(&p, &q, bias, &f) &&
      piconas_depthwise_conv2d_s8_check(&p, &q, &in, &f, bias, &out) == 0 &&
      piconas_depthwise_conv2d_mve_fits(&p, &in, &f, &out)) {
    clear_y(out.n * out.h * out.w * out.c);
    if (piconas_depthwise_conv2d_simd_prechecked_s8(&p, &q, &in, x, &f, w, bias, &out, y) != 0 ||
        differs(out.n * out.h * out.w * out.c)) {
      return 1;
    }
    clear_y(out.n * out.h * out.w * out.c);
    if (piconas_depthwise_conv2d_simd_plane_fits(&p, &f, &out)
            ? piconas_depthwise_conv2d_simd_plane_prechecked_s8(&p, &q, &in, x, &f, w, bias, &out,
                                                               y) != 0 ||
                  differs(out.n * out.h * out.w * out.c)
            : piconas_depthwise_conv2d_simd_plane_prechecked_s8(&p, &q, &in, x, &f, w, bias, &out,
                                                               y) != PICONAS_S8_ERR_ARGUMENT) {
      return 1;
    }
  }
  if (in.n == 1 && out.h * out.w <= in.h * in.w) {
    /* The in-place variant (its interior pixels by MVE on Cortex-M55) on a copy of the input. */
    piconas_s8_context ctx = {scratch, (int32_t)sizeof scratch};
    int32_t i;
    for (i = 0; i < in.h * in.w * in.c; ++i) y[i] = x[i];
    if (piconas_depthwise_conv2d_inplace_s8(&ctx, &p, &q, &in, &f, w, bias, &out, y) != 0) return 1;
    return differs(out.h * out.w * out.c);
  }
  return 0;
}

/* One random single-channel depthwise layer of 20x20 pixels, 3x3 to 7x7: large enough that the
 * MVE kernel takes its padded plane in several bands of output rows. Returns 1 on a mismatch. */
static int band_case(void) {
  piconas_dw_conv_params p;
  piconas_per_channel_quant_params q = {mult, shift};
  piconas_dims in = {1, 20, 20, 1}, f = {1, 3, 3, 1}, out = {1, 20, 20, 1};
  f.h = f.w = rnd(0, 1) ? 3 : rnd(5, 7); /* 1, 2, 3 (run as 4) and 4 gathers */
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.ch_mult = 1;
  p.stride.h = p.stride.w = rnd(1, 2);
  p.padding.h = p.padding.w = f.h / 2;
  p.dilation.h = p.dilation.w = 1;
  p.activation.min = -128;
  p.activation.max = 127;
  out.h = out_size(in.h, f.h, p.stride.h, p.padding.h, 1);
  out.w = out_size(in.w, f.w, p.stride.w, p.padding.w, 1);
  fill(x, in.h * in.w);
  fill(w, f.h * f.w);
  quant(1, f.h * f.w);
  mult[0] = 0x40000000 + rnd(0, 0x3FFFFFFF);
  shift[0] = rnd(-12, 2);
  bias[0] = rnd(-100000, 100000);
  if (!piconas_depthwise_conv2d_simd_applies(&p, &q, bias, &f)) return 1;
  ++simd_calls;
  return piconas_depthwise_conv2d_generic_s8(&p, &q, &in, x, &f, w, bias, &out, y_ref) != 0 ||
         piconas_depthwise_conv2d_simd_s8(&p, &q, &in, x, &f, w, bias, &out, y) != 0 ||
         differs(out.h * out.w);
}

/* One random in-place depthwise layer (one image, OH*OW <= H*W): in-place vs the out-of-place
 * portable kernel. Returns 1 on a mismatch. */
static int inplace_case(void) {
  piconas_dw_conv_params p;
  piconas_per_channel_quant_params q = {mult, shift};
  piconas_dims in, f, out;
  piconas_s8_context ctx = {scratch, (int32_t)sizeof scratch};
  const int32_t k = rnd(0, 1) ? 3 : rnd(1, 7);
  int32_t i, s1, s2, applies;
  in.n = 1;
  in.c = channels();
  in.h = rnd(1, 9);
  in.w = rnd(1, 12);
  while (in.h * in.w * in.c > MAX_IN)
    in.w = in.w > 1 ? in.w - 1 : 1, in.h = in.h > 1 ? in.h - 1 : 1;
  f.n = 1;
  f.h = k;
  f.w = rnd(0, 3) ? k : rnd(1, 7);
  f.c = in.c;
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.ch_mult = 1;
  p.stride.h = rnd(0, 2) ? 1 : rnd(2, 3);
  p.stride.w = rnd(0, 2) ? 1 : rnd(2, 3);
  p.padding.h = rnd(0, f.h / 2 + 1);
  p.padding.w = rnd(0, f.w / 2 + 1);
  p.dilation.h = rnd(0, 5) ? 1 : 2;
  p.dilation.w = rnd(0, 5) ? 1 : 2;
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  out.n = 1;
  out.c = in.c;
  out.h = out_size(in.h, f.h, p.stride.h, p.padding.h, p.dilation.h);
  out.w = out_size(in.w, f.w, p.stride.w, p.padding.w, p.dilation.w);
  while (out.h * out.w > in.h * in.w) out.h > 1 ? --out.h : --out.w;
  if (f.h * f.w * f.c > MAX_W) return 0;
  ctx.size = piconas_depthwise_conv2d_inplace_s8_get_buffer_size(&in); /* exactly H*W bytes */
  fill(x, in.h * in.w * in.c);
  fill(w, f.h * f.w * f.c);
  quant(out.c, f.h * f.w);
  if (rnd(0, 3) != 0) { /* three layers in four: the SIMD variant's small accumulators */
    for (i = 0; i < out.c; ++i) {
      bias[i] = rnd(-100000, 100000);
      mult[i] = 0x40000000 + rnd(0, 0x3FFFFFFF);
      shift[i] = rnd(-12, 2);
    }
  }
  s1 = piconas_depthwise_conv2d_generic_s8(&p, &q, &in, x, &f, w, bias, &out, y_ref);
  for (i = 0; i < in.h * in.w * in.c; ++i) y[i] = x[i];
  applies = piconas_depthwise_conv2d_inplace_simd_applies(&p, &q, bias, &f);
  s2 = applies ? piconas_depthwise_conv2d_inplace_simd_s8(&ctx, &p, &q, &in, &f, w, bias, &out, y)
               : piconas_depthwise_conv2d_inplace_s8(&ctx, &p, &q, &in, &f, w, bias, &out, y);
  inplace_simd_calls += applies;
  if (s1 != 0 || s2 != 0 || differs(out.h * out.w * out.c)) return 1;
  if (applies &&
      piconas_depthwise_conv2d_inplace_s8_check(&ctx, &p, &q, &in, &f, bias, &out) == 0 &&
      piconas_depthwise_conv2d_mve_fits(&p, &in, &f, &out)) {
    for (i = 0; i < in.h * in.w * in.c; ++i) y[i] = x[i];
    if (piconas_depthwise_conv2d_inplace_simd_prechecked_s8(&ctx, &p, &q, &in, &f, w, bias, &out,
                                                            y) != 0) {
      return 1;
    }
    return differs(out.h * out.w * out.c);
  }
  return 0;
}

/* The export-time packed filter and its kernel (conv2d_packed_s8.h) against y_ref, where the
 * layer fits the static buffers and the kernel applies. Returns 1 on a mismatch. */
static int packed_case(const piconas_conv_params *p, const piconas_per_channel_quant_params *q,
                       const piconas_dims *in, const piconas_dims *f, const int32_t *b,
                       const piconas_dims *out) {
  piconas_s8_context ctx = {packed_scratch, (int32_t)sizeof packed_scratch};
  if (!piconas_conv2d_packed_applies(q, b, f) ||
      piconas_conv2d_packed_weights_size(f) > (int32_t)sizeof packed_w ||
      piconas_conv2d_packed_s8_get_buffer_size(f) > ctx.size) {
    return 0;
  }
  ++packed_calls;
  if (piconas_conv2d_pack_s8(f, w, (int8_t *)packed_w) != 0 ||
      piconas_conv2d_packed_s8(&ctx, p, q, in, x, f, (const int8_t *)packed_w, b, out, y) != 0 ||
      differs(out->n * out->h * out->w * out->c) ||
      piconas_conv2d_packed_s8_check(p, q, in, f, b, out) != 0) {
    return 1;
  }
  clear_y(out->n * out->h * out->w * out->c);
  return piconas_conv2d_packed_prechecked_s8(&ctx, p, q, in, x, f, (const int8_t *)packed_w, b, out,
                                             y) != 0 ||
         differs(out->n * out->h * out->w * out->c);
}

/* One random conv layer (1x1 or any kernel): wrapper (SIMD unless a multiplier is INT32_MIN)
 * vs the portable variant the wrapper used to pick. */
static int conv_case(void) {
  piconas_conv_params p;
  piconas_per_channel_quant_params q = {mult, shift};
  piconas_dims in, f, out;
  piconas_s8_context ctx = {scratch, (int32_t)sizeof scratch};
  const int pointwise = rnd(0, 1);
  int32_t i;
  int s1, s2;
  in.n = rnd(1, 2);
  in.c = channels();
  in.h = rnd(1, 5);
  in.w = rnd(1, 7);
  while (in.n * in.h * in.w * in.c > MAX_IN)
    in.w = in.w > 1 ? in.w - 1 : 1, in.h = in.h > 1 ? in.h - 1 : 1;
  f.n = rnd(0, 2) == 0 ? rnd(1, 5) : 2 * rnd(1, 8) + rnd(0, 1);
  f.h = pointwise ? 1 : rnd(1, 3);
  f.w = pointwise ? 1 : rnd(1, 3);
  f.c = in.c;
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.stride.h = rnd(1, 2);
  p.stride.w = rnd(1, 3);
  p.padding.h = pointwise ? 0 : rnd(0, 2);
  p.padding.w = pointwise ? 0 : rnd(0, 2);
  p.dilation.h = rnd(0, 3) ? 1 : 2;
  p.dilation.w = rnd(0, 3) ? 1 : 2;
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = rnd(0, 3) ? 127 : p.activation.min + 40 > 127 ? 127 : p.activation.min + 40;
  out.n = in.n;
  out.c = f.n;
  out.h = out_size(in.h, f.h, p.stride.h, p.padding.h, p.dilation.h);
  out.w = out_size(in.w, f.w, p.stride.w, p.padding.w, p.dilation.w);
  if (out.n * out.h * out.w * out.c > MAX_OUT || f.n * f.h * f.w * f.c > MAX_W) return 0;
  fill(x, in.n * in.h * in.w * in.c);
  fill(w, f.n * f.h * f.w * f.c);
  quant(out.c, f.h * f.w * f.c);
  if (pointwise && rnd(0, 3) != 0) { /* 1x1 layers the SIMD variant takes, wide ones too */
    for (i = 0; i < out.c; ++i) {
      bias[i] = rnd(-100000, 100000);
      mult[i] = 0x40000000 + rnd(0, 0x3FFFFFFF);
      shift[i] = rnd(-12, 2);
    }
  }
  if (pointwise && p.stride.h == 1 && p.stride.w == 1) {
    s1 = piconas_conv2d_1x1_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_ref);
  } else {
    s1 = piconas_conv2d_generic_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_ref);
  }
  if (!piconas_conv2d_simd_applies(&q, bias, &f)) {
    s2 = piconas_conv2d_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
  } else if (pointwise && p.stride.h == 1 && p.stride.w == 1) {
    s2 = piconas_conv2d_1x1_simd_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
    ++simd_calls;
  } else {
    s2 = piconas_conv2d_im2col_simd_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
    ++simd_calls;
  }
  if (s1 != 0 || s2 != 0 || differs(out.n * out.h * out.w * out.c)) return 1;
  /* The unchecked entry points the exporter picks (nas/deploy/emit_c.cpp): on Cortex-M55 the
   * window kernel only, the im2col kernel only. */
  if (piconas_conv2d_simd_applies(&q, bias, &f) &&
      piconas_conv2d_s8_check(&p, &q, &in, &f, bias, &out) == 0) {
    const int32_t n = out.n * out.h * out.w * out.c;
    clear_y(n);
    if (pointwise && p.stride.h == 1 && p.stride.w == 1) {
      s2 = piconas_conv2d_1x1_simd_prechecked_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
    } else {
      s2 = piconas_conv2d_im2col_simd_prechecked_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
      if (s2 == 0 && !differs(n) && piconas_conv2d_mve_window_fits(&p, &in, &f)) {
        clear_y(n);
        s2 = piconas_conv2d_window_simd_prechecked_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
      }
    }
    if (s2 != 0 || differs(n)) return 1;
  }
  return packed_case(&p, &q, &in, &f, bias, &out);
}

/* Requantization rounding ties: a 1x1 layer of zero weights has accumulator = bias exactly;
 * small biases with the multiplier 2^30 and right shifts of 1-3 put many results exactly on a
 * tie, negative ones too (round half away from zero, not half up as VRSHL alone would). */
static int rounding_case(void) {
  piconas_conv_params p = {0, 0, {1, 1}, {0, 0}, {1, 1}, {-128, 127}};
  piconas_per_channel_quant_params q = {mult, shift};
  piconas_dims in = {1, 1, 3, 0}, f = {0, 1, 1, 0}, out = {1, 1, 3, 0};
  piconas_s8_context ctx = {scratch, (int32_t)sizeof scratch};
  int32_t i;
  in.c = f.c = rnd(1, 20);
  out.c = f.n = rnd(1, MAX_CH);
  p.output_offset = rnd(-20, 20);
  for (i = 0; i < f.n * f.c; ++i) w[i] = 0;
  fill(x, in.w * in.c);
  for (i = 0; i < f.n; ++i) {
    bias[i] = rnd(-900, 900);
    mult[i] = rnd(0, 3) ? 0x40000000 : 0x40000000 + rnd(0, 0x3FFFFFFF);
    shift[i] = rnd(-3, 0);
  }
  ++simd_calls;
  return piconas_conv2d_1x1_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_ref) != 0 ||
         piconas_conv2d_1x1_simd_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y) != 0 ||
         differs(out.w * out.c) || packed_case(&p, &q, &in, &f, bias, &out);
}

/* The add with its output over input 1 (over == 1) or input 2 (over == 2), as the planner's
 * in-place add runs it, against y_ref. Returns 1 on a mismatch. */
static int add_in_place(const piconas_add_params *p, int32_t n, int over) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = over == 1 ? x[i] : x2[i];
  if ((piconas_add_simd_applies(p) ? piconas_add_simd_s8(p, over == 1 ? y : x, over == 2 ? y : x2, y, n)
                                   : piconas_add_s8(p, over == 1 ? y : x, over == 2 ? y : x2, y, n)) != 0) {
    return 1;
  }
  return differs(n);
}

static int add_case(void) {
  piconas_add_params p;
  const int32_t n = rnd(1, 64);
  p.input1_offset = rnd(-127, 128);
  p.input2_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.left_shift = rnd(0, 1) ? 20 : rnd(0, 23);
  p.input1_multiplier = 0x40000000 + rnd(0, 0x3FFFFFFF);
  p.input2_multiplier = rnd(0, 5) ? 0x40000000 + rnd(0, 0x3FFFFFFF) : rnd(-0x7FFFFFFF, 0x7FFFFFFF);
  p.output_multiplier = 0x40000000 + rnd(0, 0x3FFFFFFF);
  p.input1_shift = rnd(-31, 1);
  p.input2_shift = rnd(-31, 1);
  p.output_shift = rnd(-31, 3);
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  fill(x, n);
  fill(x2, n);
  simd_calls += piconas_add_simd_applies(&p);
  return piconas_add_generic_s8(&p, x, x2, y_ref, n) != 0 ||
         (piconas_add_simd_applies(&p) ? piconas_add_simd_s8(&p, x, x2, y, n)
                                       : piconas_add_s8(&p, x, x2, y, n)) != 0 ||
         differs(n) ||
         (piconas_add_simd_applies(&p) && piconas_add_s8_check(&p, n) == 0 &&
          (clear_y(n), piconas_add_simd_prechecked_s8(&p, x, x2, y, n) != 0 || differs(n))) ||
         add_in_place(&p, n, 1) || add_in_place(&p, n, 2);
}

int main(void) {
  int i, failures = 0;
  for (i = 0; i < 300; ++i) {
    const int dw = depthwise_case() + band_case(), cv = conv_case() + rounding_case(),
              ad = add_case(),
              ip = inplace_case();
    if (dw && failures < 3) sh_write0("kernel_test: depthwise SIMD differs from the reference\n");
    if (cv && failures < 3) sh_write0("kernel_test: conv SIMD differs from the reference\n");
    if (ad && failures < 3) sh_write0("kernel_test: add SIMD differs from the reference\n");
    if (ip && failures < 3) sh_write0("kernel_test: in-place depthwise differs from the reference\n");
    failures += dw + cv + ad + ip;
  }
  sh_write0(failures == 0 ? "kernel_test: 1500 random layers bit-exact\n" : "kernel_test: FAILED\n");
  if (simd_calls < 400 || inplace_simd_calls < 120 || packed_calls < 400) {
    sh_write0("kernel_test: too few layers took a SIMD variant\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
