/*
 * pool_test.c: the int8 average pools (ops/int8/avg_pool2d_s8.h), counting the in-image taps
 * and counting the padding taps as the zero point (include_pad), on the MCU itself (QEMU), against a naive int64
 * twin written here from docs/int8.md (no shared code), on random shapes, strides, paddings and
 * clamps. Exit status 0 when all are byte-identical. Built and run by tests/int8/mcu/run.sh.
 */
#include <stdint.h>

#include "ops/int8/avg_pool2d_s8.h"
#include "semihost.h"

static uint32_t state = 2026u;

static int32_t rnd(int32_t lo, int32_t hi) {
  state = state * 1664525u + 1013904223u;
  return lo + (int32_t)((state >> 8) % (uint32_t)(hi - lo + 1));
}

static int8_t twin(const piconas_pool_params *p, const piconas_dims *in, const int8_t *x,
                   piconas_tile k, int32_t oy, int32_t ox, int32_t c, int include_pad,
                   int32_t zero_point) {
  int64_t sum = 0, count = 0, r;
  int32_t ky, kx;
  for (ky = 0; ky < k.h; ++ky)
    for (kx = 0; kx < k.w; ++kx) {
      const int32_t iy = oy * p->stride.h - p->padding.h + ky;
      const int32_t ix = ox * p->stride.w - p->padding.w + kx;
      if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) {
        if (include_pad) sum += zero_point;
        continue;
      }
      sum += x[(iy * in->w + ix) * in->c + c];
      ++count;
    }
  if (include_pad) count = (int64_t)k.h * k.w;
  r = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  return (int8_t)(r < p->activation.min ? p->activation.min
                                        : (r > p->activation.max ? p->activation.max : r));
}

static int pool_case(int include_pad) {
  static int8_t x[8 * 8 * 4], y[8 * 8 * 4];
  piconas_pool_params p;
  piconas_dims in, out;
  piconas_tile k;
  int32_t oy, ox, c, i;
  int status;
  const int32_t zero_point = rnd(-128, 127);
  in.n = 1;
  in.h = rnd(1, 8);
  in.w = rnd(1, 8);
  in.c = rnd(1, 4);
  k.h = rnd(1, 4);
  k.w = rnd(1, 4);
  p.stride.h = rnd(1, 3);
  p.stride.w = rnd(1, 3);
  p.padding.h = rnd(0, k.h - 1);
  p.padding.w = rnd(0, k.w - 1);
  p.activation.min = rnd(0, 1) ? -128 : rnd(-128, 0);
  p.activation.max = 127;
  out.n = 1;
  out.c = in.c;
  out.h = in.h + 2 * p.padding.h < k.h ? 1 : (in.h + 2 * p.padding.h - k.h) / p.stride.h + 1;
  out.w = in.w + 2 * p.padding.w < k.w ? 1 : (in.w + 2 * p.padding.w - k.w) / p.stride.w + 1;
  if ((out.h - 1) * p.stride.h - p.padding.h >= in.h)
    out.h = (in.h - 1 + p.padding.h) / p.stride.h + 1;
  if ((out.w - 1) * p.stride.w - p.padding.w >= in.w)
    out.w = (in.w - 1 + p.padding.w) / p.stride.w + 1;
  for (i = 0; i < in.h * in.w * in.c; ++i) x[i] = (int8_t)rnd(-128, 127);
  status = include_pad ? piconas_avg_pool2d_include_pad_s8(&p, &in, x, k, zero_point, &out, y)
                       : piconas_avg_pool2d_s8(&p, &in, x, k, &out, y);
  if (status != 0) return 1;
  for (oy = 0; oy < out.h; ++oy)
    for (ox = 0; ox < out.w; ++ox)
      for (c = 0; c < out.c; ++c)
        if (y[(oy * out.w + ox) * out.c + c] != twin(&p, &in, x, k, oy, ox, c, include_pad, zero_point))
          return 1;
  return 0;
}

int main(void) {
  int i, failures = 0;
  for (i = 0; i < 300; ++i) failures += pool_case(0) + pool_case(1);
  sh_write0(failures == 0 ? "pool_test: 300 average-pool and 300 include-pad cases bit-exact\n"
                          : "pool_test: FAILED\n");
  return failures == 0 ? 0 : 1;
}
