/*
 * conv1x1_inplace_test.c: the in-place 1x1 convolution
 * (ops/int8/conv2d_1x1_inplace_s8.h) on the MCU itself (QEMU): random 1x1
 * layers run out of place by the portable reference variant
 * (piconas_conv2d_generic_s8) and in place on one buffer by
 * piconas_conv2d_1x1_inplace_s8 (the output over the input for C_out <= C_in,
 * the input at the output's tail for C_out > C_in), strips of 1..N pixels; a
 * one-pixel wrong placement must be refused. Exit status 0 when all are
 * byte-identical. Built and run by tests/int8/mcu/run.sh (ctest
 * int8_mcu_<core>).
 */
#include <stdint.h>

#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/conv2d_s8.h"
#include "semihost.h"

#define MAX_PIXELS 30
#define MAX_CH 20
#define GUARD 8

static int8_t x[MAX_PIXELS * MAX_CH], w[MAX_CH * MAX_CH], y_ref[MAX_PIXELS * MAX_CH];
static int8_t buf[MAX_PIXELS * MAX_CH + 2 * GUARD];
static int32_t bias[MAX_CH], mult[MAX_CH], shift[MAX_CH];
static int32_t scratch[256];
static uint32_t state = 1111u;

static int32_t rnd(int32_t lo, int32_t hi) {
  state = state * 1664525u + 1013904223u;
  return (int32_t)((uint32_t)lo + (state >> 1) % ((uint32_t)hi - (uint32_t)lo + 1u));
}

/* One random layer; returns 1 on a mismatch or a failed call. */
static int one_case(void) {
  piconas_conv_params p;
  piconas_per_channel_quant_params q;
  piconas_dims in, f, out;
  piconas_s8_context ctx;
  int32_t i, pixels, in_bytes, out_bytes, in_at, strip, size;
  in.n = out.n = 1;
  in.h = out.h = rnd(1, 5);
  in.w = out.w = rnd(1, 6);
  in.c = f.c = rnd(1, MAX_CH);
  out.c = f.n = rnd(1, MAX_CH);
  f.h = f.w = 1;
  pixels = in.h * in.w;
  in_bytes = pixels * in.c;
  out_bytes = pixels * out.c;
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.stride.h = p.stride.w = 1;
  p.padding.h = p.padding.w = 0;
  p.dilation.h = p.dilation.w = 1;
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  for (i = 0; i < in_bytes; ++i) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < in.c * out.c; ++i) w[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < out.c; ++i) {
    mult[i] = 0x40000000 + rnd(0, 0x3FFFFFFF);
    shift[i] = rnd(-10, 1);
    bias[i] = rnd(-5000, 5000);
  }
  q.multiplier = mult;
  q.shift = shift;
  ctx.buf = scratch;
  ctx.size = (int32_t)sizeof(scratch);
  if (piconas_conv2d_generic_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_ref) != 0) return 1;
  strip = rnd(0, 3) == 0 ? pixels : rnd(1, pixels);
  in_at = out.c > in.c ? out_bytes - in_bytes : 0;
  size = in_bytes > out_bytes ? in_bytes : out_bytes;
  for (i = 0; i < size + 2 * GUARD; ++i) buf[i] = 77;
  for (i = 0; i < in_bytes; ++i) buf[GUARD + in_at + i] = x[i];
  if (piconas_conv2d_1x1_inplace_s8(&ctx, &p, &q, &in, buf + GUARD + in_at, &f, w, bias, &out,
                                    buf + GUARD, strip) != 0)
    return 1;
  for (i = 0; i < out_bytes; ++i)
    if (buf[GUARD + i] != y_ref[i]) return 1;
  for (i = 0; i < GUARD; ++i)
    if (buf[i] != 77 || buf[GUARD + size + i] != 77) return 1;
  /* One byte too late for C_out >= C_in: the output would overwrite unread
   * input. */
  if (out.c >= in.c && pixels > 1 &&
      piconas_conv2d_1x1_inplace_s8(&ctx, &p, &q, &in, buf + GUARD + in_at - 1, &f, w, bias, &out,
                                    buf + GUARD, strip) != PICONAS_S8_ERR_ARGUMENT)
    return 1;
  return 0;
}

int main(void) {
  int i, failures = 0;
  for (i = 0; i < 300; ++i) failures += one_case();
  sh_write0(failures == 0 ? "conv1x1_inplace_test: 300 random layers bit-exact\n"
                          : "conv1x1_inplace_test: FAILED\n");
  return failures == 0 ? 0 : 1;
}
