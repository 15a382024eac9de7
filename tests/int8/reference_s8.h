// Independent reference of the int8 arithmetic for the tests in tests/int8/, written from the
// text of docs/int8.md with plain loops and int64 arithmetic on NHWC arrays. It shares
// no code with ops/int8/: the rounding steps use equivalent closed forms (floor / magnitude
// rounding) instead of the nudge and mask formulas the kernels use.
// Also: random generators of quantization parameters, shared by the kernel tests.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace piconas::int8_ref {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// SRDHM: (a*b + nudge) / 2^31 truncated equals floor((a*b + 2^30) / 2^31), i.e. a*b / 2^31
// rounded half towards +infinity (for a*b < 0: ceil((u + 1 - 2^31) / 2^31) = floor(u / 2^31)
// with u = a*b + 2^30). C++20 >> on a negative int64 is an arithmetic shift (floor).
inline int32_t srdhm(int32_t a, int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  const int64_t ab = int64_t{a} * int64_t{b};
  return static_cast<int32_t>((ab + (int64_t{1} << 30)) >> 31);
}

// RDBPOT: x / 2^n rounded half away from zero, computed on the magnitude.
inline int32_t rdbpot(int32_t x, int n) {
  if (n == 0) return x;
  const int64_t v = x;
  const int64_t magnitude = v < 0 ? -v : v;
  const int64_t rounded = (magnitude + (int64_t{1} << (n - 1))) >> n;
  return static_cast<int32_t>(v < 0 ? -rounded : rounded);
}

// MBQM: x * 2^max(s, 0) taken modulo 2^32 (C++20 conversions are modular), then SRDHM, RDBPOT.
inline int32_t mbqm(int32_t x, int32_t m, int s) {
  const int32_t shifted = static_cast<int32_t>(int64_t{x} * (int64_t{1} << (s > 0 ? s : 0)));
  return rdbpot(srdhm(shifted, m), s > 0 ? 0 : -s);
}

inline int8_t clamp_out(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
}

struct Dims {
  int n, h, w, c;
  int64_t size() const { return int64_t{n} * h * w * c; }
};

struct ConvRef {
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
  int z_in = 0, z_out = 0, act_min = -128, act_max = 127;
  int ch_mult = 1;  // depthwise only
  int groups = 1;   // conv only: output channel oc reads input channels of group oc / (C_out / G)
};

// Conv: filter [C_out, KH, KW, C_in / groups]; output channel oc reads the input channels
// g * C_in / groups + ci, g = oc / (C_out / groups). Returns false if an accumulator left int32.
inline bool conv2d(const ConvRef& p, const Dims& in, const std::vector<int8_t>& x, const Dims& f,
                   const std::vector<int8_t>& w, const std::vector<int32_t>& bias,
                   const std::vector<int32_t>& mult, const std::vector<int32_t>& shift,
                   const Dims& out, std::vector<int8_t>& y) {
  y.assign(static_cast<size_t>(out.size()), 0);
  for (int n = 0; n < out.n; ++n)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int oc = 0; oc < out.c; ++oc) {
          const int first_in = oc / (out.c / p.groups) * f.c;
          int64_t acc = bias.empty() ? 0 : bias[oc];
          for (int ky = 0; ky < f.h; ++ky)
            for (int kx = 0; kx < f.w; ++kx)
              for (int ci = 0; ci < f.c; ++ci) {
                const int iy = oy * p.stride_h - p.pad_h + ky * p.dil_h;
                const int ix = ox * p.stride_w - p.pad_w + kx * p.dil_w;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                const int64_t xv =
                    x[((int64_t{n} * in.h + iy) * in.w + ix) * in.c + first_in + ci];
                const int64_t wv = w[((int64_t{oc} * f.h + ky) * f.w + kx) * f.c + ci];
                acc += wv * (xv - p.z_in);
              }
          if (acc < kMin || acc > kMax) return false;
          const int32_t r = mbqm(static_cast<int32_t>(acc), mult[oc], shift[oc]);
          y[((int64_t{n} * out.h + oy) * out.w + ox) * out.c + oc] =
              clamp_out(int64_t{r} + p.z_out, p.act_min, p.act_max);
        }
  return true;
}

// Depthwise: filter [1, KH, KW, C_in * M], output channel oc = ic * M + m.
inline bool depthwise_conv2d(const ConvRef& p, const Dims& in, const std::vector<int8_t>& x,
                             const Dims& f, const std::vector<int8_t>& w,
                             const std::vector<int32_t>& bias, const std::vector<int32_t>& mult,
                             const std::vector<int32_t>& shift, const Dims& out,
                             std::vector<int8_t>& y) {
  y.assign(static_cast<size_t>(out.size()), 0);
  for (int n = 0; n < out.n; ++n)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int oc = 0; oc < out.c; ++oc) {
          const int ic = oc / p.ch_mult;
          int64_t acc = bias.empty() ? 0 : bias[oc];
          for (int ky = 0; ky < f.h; ++ky)
            for (int kx = 0; kx < f.w; ++kx) {
              const int iy = oy * p.stride_h - p.pad_h + ky * p.dil_h;
              const int ix = ox * p.stride_w - p.pad_w + kx * p.dil_w;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
              const int64_t xv = x[((int64_t{n} * in.h + iy) * in.w + ix) * in.c + ic];
              const int64_t wv = w[(int64_t{ky} * f.w + kx) * f.c + oc];
              acc += wv * (xv - p.z_in);
            }
          if (acc < kMin || acc > kMax) return false;
          const int32_t r = mbqm(static_cast<int32_t>(acc), mult[oc], shift[oc]);
          y[((int64_t{n} * out.h + oy) * out.w + ox) * out.c + oc] =
              clamp_out(int64_t{r} + p.z_out, p.act_min, p.act_max);
        }
  return true;
}

// Pooling (same scale and zero point in and out). avg: docs/int8.md rounding, divided by the
// in-image taps or, include_pad, by kh * kw with the padding taps holding pad_value; else max.
inline void pool2d(bool avg, const ConvRef& p, int kh, int kw, const Dims& in,
                   const std::vector<int8_t>& x, const Dims& out, std::vector<int8_t>& y,
                   bool include_pad = false, int pad_value = 0) {
  y.assign(static_cast<size_t>(out.size()), 0);
  for (int n = 0; n < out.n; ++n)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox)
        for (int c = 0; c < out.c; ++c) {
          int64_t sum = 0, count = 0, best = -1000;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = oy * p.stride_h - p.pad_h + ky;
              const int ix = ox * p.stride_w - p.pad_w + kx;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
                if (include_pad) sum += pad_value;
                continue;
              }
              const int64_t v = x[((int64_t{n} * in.h + iy) * in.w + ix) * in.c + c];
              sum += v;
              ++count;
              if (v > best) best = v;
            }
          int64_t r = best;
          if (include_pad) count = int64_t{kh} * kw;
          if (avg) r = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          y[((int64_t{n} * out.h + oy) * out.w + ox) * out.c + c] =
              clamp_out(r, p.act_min, p.act_max);
        }
}

// ---- random parameters -------------------------------------------------------------------

inline int8_t random_s8(Rng& rng) { return static_cast<int8_t>(rng.uniform_int(-128, 127)); }

inline std::vector<int8_t> random_s8_vector(Rng& rng, int64_t count) {
  std::vector<int8_t> v(static_cast<size_t>(count));
  for (auto& e : v) e = random_s8(rng);
  return v;
}

// A multiplier: mostly the quantize_multiplier range [2^30, 2^31), with the edges near 2^31
// and 2^30, sometimes 0, negative or any int32 (including INT32_MIN).
inline int32_t random_multiplier(Rng& rng) {
  switch (rng.uniform_int(0, 9)) {
    case 0:
      return static_cast<int32_t>(kMax - rng.uniform_int(0, 3));
    case 1:
      return static_cast<int32_t>((int64_t{1} << 30) + rng.uniform_int(0, 3));
    case 2:
      return static_cast<int32_t>(rng.uniform_int(kMin, kMax));
    case 3:
      return rng.uniform_int(0, 3) == 0 ? kMin : 0;
    default:
      return static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, kMax));
  }
}

// A shift: mostly the realistic range of conv layers, sometimes anywhere in [-31, 31].
inline int32_t random_shift(Rng& rng) {
  switch (rng.uniform_int(0, 5)) {
    case 0:
      return static_cast<int32_t>(rng.uniform_int(-31, 31));
    case 1:
      return static_cast<int32_t>(rng.uniform_int(0, 3));
    default:
      return static_cast<int32_t>(rng.uniform_int(-16, -1));
  }
}

inline void random_activation(Rng& rng, int z_out, int& lo, int& hi) {
  switch (rng.uniform_int(0, 3)) {
    case 0:
      lo = z_out;
      hi = 127;
      break;  // ReLU
    case 1:
      lo = static_cast<int>(rng.uniform_int(-128, 127));
      hi = static_cast<int>(rng.uniform_int(lo, 127));
      break;
    default:
      lo = -128;
      hi = 127;
  }
}

// Bias within the kernels' overflow limit for `macs` products; sometimes at the limit.
inline int32_t random_bias(Rng& rng, int64_t macs) {
  const int64_t limit = int64_t{kMax} - macs * 32640;
  switch (rng.uniform_int(0, 4)) {
    case 0:
      return static_cast<int32_t>(rng.uniform_int(0, 1) ? limit : -limit);
    case 1:
      return static_cast<int32_t>(rng.uniform_int(-limit, limit));
    default:
      return static_cast<int32_t>(rng.uniform_int(-100000, 100000));
  }
}

// Bias for the SIMD kernels' test cases: mostly small, sometimes at the edge of their "small
// accumulator" condition ((|bias| + macs * 32640) * 2^max(shift, 0) < 2^29), i.e. the largest
// accumulators they must still requantize exactly.
inline int32_t random_simd_bias(Rng& rng, int64_t macs, int32_t shift) {
  const int64_t edge = ((int64_t{1} << 29) >> (shift > 0 ? shift : 0)) - macs * 32640 - 1;
  if (edge > 0 && rng.uniform_int(0, 4) == 0)
    return static_cast<int32_t>(rng.uniform_int(0, 1) ? edge : -edge);
  return static_cast<int32_t>(rng.uniform_int(-100000, 100000));
}

}  // namespace piconas::int8_ref
