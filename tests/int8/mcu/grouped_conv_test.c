/*
 * grouped_conv_test.c: the grouped convolution (ops/int8/conv2d_grouped_s8.h)
 * on the MCU itself (QEMU): random grouped layers (groups 2-4, 1-5 channels
 * per group, kernels 1-3, strides 1-2, padding 0-1) run by
 * piconas_conv2d_grouped_s8 (whose per-group conv is the SIMD variant where the
 * core prefers it) and, as the oracle, by the portable reference variant
 * piconas_conv2d_generic_s8 on the dense filter with zeros outside each output
 * channel's group. Exit status 0 when all are byte-identical. Built and run by
 * tests/int8/mcu/run.sh (ctest int8_mcu_<core>).
 */
#include <stdint.h>

#include "ops/int8/conv2d_grouped_s8.h"
#include "ops/int8/conv2d_s8.h"
#include "semihost.h"

#define MAX_HW 7
#define MAX_CH 20 /* 4 groups x 5 channels */
#define MAX_K 3

static int8_t x[MAX_HW * MAX_HW * MAX_CH], y[MAX_HW * MAX_HW * MAX_CH];
static int8_t y_ref[MAX_HW * MAX_HW * MAX_CH];
static int8_t w[MAX_CH * MAX_K * MAX_K * 5], dense[MAX_CH * MAX_K * MAX_K * MAX_CH];
static int32_t bias[MAX_CH], mult[MAX_CH], shift[MAX_CH];
static int32_t scratch[256];
static uint32_t state = 1717u;

static int32_t rnd(int32_t lo, int32_t hi) {
  state = state * 1664525u + 1013904223u;
  return (int32_t)((uint32_t)lo + (state >> 1) % ((uint32_t)hi - (uint32_t)lo + 1u));
}

/* One random layer; returns 1 on a mismatch or a failed call. */
static int one_case(int32_t *grouped_calls) {
  piconas_conv_params p;
  piconas_per_channel_quant_params q;
  piconas_dims in, f, fd, out;
  piconas_s8_context ctx;
  int32_t i, o, k, ci, groups, in_g, out_g, taps, size;
  groups = rnd(2, 4);
  in_g = rnd(1, 5);
  out_g = rnd(1, 5);
  in.n = out.n = 1;
  in.h = rnd(1, MAX_HW);
  in.w = rnd(1, MAX_HW);
  in.c = groups * in_g;
  f.n = fd.n = out.c = groups * out_g;
  f.h = fd.h = rnd(1, MAX_K);
  f.w = fd.w = rnd(1, MAX_K);
  f.c = in_g;
  fd.c = in.c;
  p.stride.h = rnd(1, 2);
  p.stride.w = rnd(1, 2);
  p.padding.h = rnd(0, 1);
  p.padding.w = rnd(0, 1);
  p.dilation.h = p.dilation.w = 1;
  out.h = (in.h + 2 * p.padding.h - f.h) / p.stride.h + 1;
  out.w = (in.w + 2 * p.padding.w - f.w) / p.stride.w + 1;
  if (out.h < 1 || out.w < 1) return 0; /* the kernel does not fit the image: no layer */
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  taps = f.h * f.w;
  for (i = 0; i < in.h * in.w * in.c; ++i) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < out.c * taps * in_g; ++i) w[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < out.c * taps * in.c; ++i) dense[i] = 0;
  for (o = 0; o < out.c; ++o)
    for (k = 0; k < taps; ++k)
      for (ci = 0; ci < in_g; ++ci)
        dense[(o * taps + k) * in.c + o / out_g * in_g + ci] = w[(o * taps + k) * in_g + ci];
  for (i = 0; i < out.c; ++i) {
    mult[i] = 0x40000000 + rnd(0, 0x3FFFFFFF);
    shift[i] = rnd(-10, 1);
    bias[i] = rnd(-5000, 5000);
  }
  q.multiplier = mult;
  q.shift = shift;
  ctx.buf = scratch;
  ctx.size = (int32_t)sizeof(scratch);
  size = piconas_conv2d_grouped_s8_get_buffer_size(&p, &in, &f, &out, groups);
  if (size < 0 || size > ctx.size) return 1;
  if (piconas_conv2d_generic_s8(&ctx, &p, &q, &in, x, &fd, dense, bias, &out, y_ref) != 0) return 1;
  for (i = 0; i < out.h * out.w * out.c; ++i) y[i] = 99;
  if (piconas_conv2d_grouped_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y, groups) != 0) return 1;
  for (i = 0; i < out.h * out.w * out.c; ++i)
    if (y[i] != y_ref[i]) return 1;
  ++*grouped_calls;
  return 0;
}

int main(void) {
  int i, failures = 0;
  int32_t layers = 0;
  for (i = 0; i < 300; ++i) failures += one_case(&layers);
  sh_write0(failures == 0 && layers > 200
                ? "grouped_conv_test: random grouped layers bit-exact with the dense reference\n"
                : "grouped_conv_test: FAILED\n");
  return failures == 0 && layers > 200 ? 0 : 1;
}
