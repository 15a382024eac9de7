/*
 * activation_test.c: the int8 hard-swish, channel multiply, elementwise / pixel-broadcast
 * multiply and logistic (ops/int8/hardswish_s8.h, channel_mul_s8.h, mul_s8.h, logistic_s8.h) on
 * the MCU itself (QEMU), each against a naive int64 twin written here from docs/int8.md (the
 * closed rounding forms of tests/int8/reference_mbv3_s8.h, no shared code), on every
 * input byte of random parameter sets and on random multiply layers (the multiply with extreme
 * shifts too, both of its requantization paths). The logistic's table is built on the MCU (its
 * 64-bit products through libgcc on Cortex-M0) and looked up there.
 * Exit status 0 when all are byte-identical. Built and run by
 * tests/int8/mcu/run.sh.
 */
#include <stdint.h>

#include "ops/int8/channel_mul_s8.h"
#include "ops/int8/hardswish_s8.h"
#include "ops/int8/logistic_s8.h"
#include "ops/int8/mul_s8.h"
#include "semihost.h"

static uint32_t state = 4242u;

static int32_t rnd(int32_t lo, int32_t hi) {
  state = state * 1664525u + 1013904223u;
  return lo + (int32_t)((state >> 8) % (uint32_t)(hi - lo + 1));
}

static int64_t floor_shift(int64_t v, int n) {
  return v >= 0 ? v >> n : -((-v + ((int64_t)1 << n) - 1) >> n);
}

static int32_t srdhm16(int32_t a, int32_t b) {
  if (a == -32768 && b == -32768) return 32767;
  return (int32_t)floor_shift((int64_t)a * b + (1 << 14), 15);
}

static int32_t sdhm16(int32_t a, int32_t b) {
  int64_t ab, m;
  if (a == -32768 && b == -32768) return 32767;
  ab = (int64_t)a * b;
  m = (ab < 0 ? -ab : ab) >> 15;
  return (int32_t)(ab < 0 ? -m : m);
}

static int32_t rdbpot(int64_t v, int n) {
  int64_t m;
  if (n == 0) return (int32_t)v;
  m = ((v < 0 ? -v : v) + ((int64_t)1 << (n - 1))) >> n;
  return (int32_t)(v < 0 ? -m : m);
}

static int32_t sat16(int64_t v) { return (int32_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v)); }

static int8_t clamp8(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static int8_t hardswish_twin(const piconas_hardswish_params *p, int8_t q) {
  const int32_t hires = (q + p->input_offset) * 128;
  const int32_t pre = srdhm16(hires, p->output_multiplier);
  int32_t r = hires;
  if (p->reluish_shift > 0) {
    r = sat16((int64_t)r * ((int64_t)1 << (p->reluish_shift - 1)));
    r = sat16((int64_t)srdhm16(r, p->reluish_multiplier) * 2);
  } else {
    r = rdbpot(srdhm16(r, p->reluish_multiplier), -p->reluish_shift);
  }
  r = (r + 32768) / 2;
  return clamp8((int64_t)rdbpot(sdhm16(r, pre), -p->output_shift) + p->output_offset, -128, 127);
}

static int32_t mbqm(int32_t x, int32_t m, int32_t s) {
  const int32_t shifted = (int32_t)(uint32_t)((uint64_t)(uint32_t)x << (s > 0 ? s : 0));
  int64_t high;
  if (shifted == INT32_MIN && m == INT32_MIN) return rdbpot(INT32_MAX, s > 0 ? 0 : -s);
  high = floor_shift((int64_t)shifted * m + ((int64_t)1 << 30), 31);
  return rdbpot(high, s > 0 ? 0 : -s);
}

static int hardswish_case(void) {
  piconas_hardswish_params p;
  int8_t x[256], y[256];
  int32_t i;
  p.input_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.reluish_multiplier = rnd(0, 32767);
  p.output_multiplier = rnd(0, 32767);
  p.reluish_shift = rnd(-15, 15);
  p.output_shift = rnd(-15, 0);
  for (i = 0; i < 256; ++i) x[i] = (int8_t)(i - 128);
  if (piconas_hardswish_s8(&p, x, y, 256) != 0) return 1;
  for (i = 0; i < 256; ++i)
    if (y[i] != hardswish_twin(&p, x[i])) return 1;
  return 0;
}

static int channel_mul_case(void) {
  piconas_channel_mul_params p;
  int8_t x[300], g[30], y[300];
  const int32_t pixels = rnd(1, 10), channels = rnd(1, 30);
  int32_t i;
  p.input1_offset = rnd(-127, 128);
  p.input2_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.multiplier = 0x40000000 + rnd(0, 0x3FFFFFFF);
  p.shift = rnd(-31, 15);
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  for (i = 0; i < pixels * channels; ++i) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < channels; ++i) g[i] = (int8_t)rnd(-128, 127);
  if (piconas_channel_mul_s8(&p, x, g, y, pixels, channels) != 0) return 1;
  for (i = 0; i < pixels * channels; ++i) {
    const int32_t product = (x[i] + p.input1_offset) * (g[i % channels] + p.input2_offset);
    if (y[i] != clamp8((int64_t)mbqm(product, p.multiplier, p.shift) + p.output_offset,
                       p.activation.min, p.activation.max))
      return 1;
  }
  return 0;
}

static int8_t mul_twin(const piconas_mul_params *p, int8_t a, int8_t b) {
  const int32_t product = (a + p->input1_offset) * (b + p->input2_offset);
  return clamp8((int64_t)mbqm(product, p->multiplier, p->shift) + p->output_offset,
                p->activation.min, p->activation.max);
}

/* Elementwise (pixel_broadcast 0) or a one-channel gate per pixel (1). */
static int mul_case(int pixel_broadcast) {
  static const int32_t shifts[] = {-31, -30, -29, -20, -8, 0, 7, 13, 14, 15};
  piconas_mul_params p;
  int8_t x[300], g[300], y[300];
  const int32_t pixels = rnd(1, 10), channels = rnd(1, 30);
  int32_t i;
  p.input1_offset = rnd(-127, 128);
  p.input2_offset = rnd(-127, 128);
  p.output_offset = rnd(-128, 127);
  p.multiplier = rnd(0, 3) == 0 ? 0x7FFFFFFF : 0x40000000 + rnd(0, 0x3FFFFFFF);
  p.shift = shifts[rnd(0, 9)];
  p.activation.min = rnd(0, 1) ? -128 : p.output_offset;
  p.activation.max = 127;
  for (i = 0; i < pixels * channels; ++i) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < pixels * channels; ++i) g[i] = (int8_t)rnd(-128, 127);
  if (pixel_broadcast) {
    if (piconas_pixel_mul_s8(&p, x, g, y, pixels, channels) != 0) return 1;
  } else if (piconas_mul_s8(&p, x, g, y, pixels * channels) != 0) {
    return 1;
  }
  for (i = 0; i < pixels * channels; ++i)
    if (y[i] != mul_twin(&p, x[i], g[pixel_broadcast ? i / channels : i])) return 1;
  return 0;
}

/* SRDHM in closed form: floor((a b + 2^30) / 2^31); INT32_MIN * INT32_MIN saturates. */
static int32_t srdhm(int64_t a, int64_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)floor_shift(a * b + ((int64_t)1 << 30), 31);
}

static int32_t sat32(int64_t v) {
  return (int32_t)(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v));
}

/* gemmlowp's logistic of a Q4.27 value, Q0.31 out (docs/int8.md, logistic), in int64. */
static int32_t logistic_q31_twin(int32_t a) {
  static const int32_t exp_of_bit[6] = {1672461947, 1302514674, 790015084,
                                        290630308,  39332535,   720401};
  const int64_t n = a < 0 ? a : -(int64_t)a; /* -|a| */
  const int64_t quarter = (int64_t)1 << 25;
  const int64_t frac = n - floor_shift(n, 25) * quarter - quarter; /* [-1/4, 0) */
  const int64_t rest = frac - n;
  int64_t x, x2, x3, x4, e, d, r;
  int k;
  if (a == 0) return 1 << 30;
  x = frac * 16 + ((int64_t)1 << 28);
  x2 = srdhm(x, x);
  x3 = srdhm(x2, x);
  x4 = srdhm(x2, x2);
  e = 1895147668 + (int64_t)srdhm(1895147668,
                                  x + rdbpot(srdhm(rdbpot(x4, 2) + x3, 715827883) + x2, 1));
  for (k = 0; k < 6; ++k)
    if ((rest >> (25 + k)) & 1) e = srdhm(e, exp_of_bit[k]);
  d = (e + INT32_MAX + 1) / 2;
  r = 1515870810 + (int64_t)srdhm(d, -1010580540);
  for (k = 0; k < 3; ++k) r += sat32((int64_t)srdhm(r, ((int64_t)1 << 29) - srdhm(d, r)) * 4);
  r = sat32(r * 2);
  return (int32_t)(a > 0 ? r : INT32_MAX - r);
}

static int8_t logistic_twin(const piconas_logistic_params *p, int8_t q) {
  const int32_t x = q - p->input_zero_point;
  const int64_t radius = ((int64_t)15 << 27) >> p->input_left_shift;
  if (x <= -radius) return -128;
  if (x >= radius) return 127;
  return clamp8(
      (int64_t)rdbpot(logistic_q31_twin(mbqm(x, p->input_multiplier, p->input_left_shift)), 23) -
          128,
      -128, 127);
}

/* Shifts of real scales (16..28: s_in from 2^-12 to 2) mostly, else any accepted one. */
static int logistic_case(void) {
  piconas_logistic_params p;
  int8_t table[256], x[300], y[300];
  const int32_t size = rnd(1, 300);
  int32_t i;
  p.input_zero_point = rnd(-128, 127);
  p.input_multiplier = 0x40000000 + rnd(0, 0x3FFFFFFF);
  p.input_left_shift = rnd(0, 3) == 0 ? rnd(0, 31) : rnd(16, 28);
  if (piconas_logistic_s8_table(&p, table) != 0) return 1;
  for (i = 0; i < 256; ++i)
    if (table[i] != logistic_twin(&p, (int8_t)(i - 128))) return 1;
  for (i = 0; i < size; ++i) x[i] = (int8_t)rnd(-128, 127);
  if (piconas_logistic_s8(table, x, y, size) != 0) return 1;
  for (i = 0; i < size; ++i)
    if (y[i] != logistic_twin(&p, x[i])) return 1;
  return 0;
}

int main(void) {
  int i, failures = 0;
  for (i = 0; i < 200; ++i)
    failures +=
        hardswish_case() + channel_mul_case() + mul_case(0) + mul_case(1) + logistic_case();
  sh_write0(failures == 0 ? "activation_test: 200 hard-swish, 200 channel-multiply, 200 "
                            "elementwise, 200 pixel-broadcast multiply and 200 logistic cases "
                            "bit-exact\n"
                          : "activation_test: FAILED\n");
  return failures == 0 ? 0 : 1;
}
