// mul_s8 (TFLite's int8 MUL: the product of two tensors of one shape, and of features by a
// one-channel gate broadcast over the channels) against an independent reference written here
// from docs/int8.md (int64 product, reference_s8.h's closed-form MBQM), on thousands of random
// shapes and parameters: real scales, extreme multipliers and shifts (both requantization paths
// of the kernel: 32-bit for shifts in [-29, 13], 64-bit outside), saturating outputs, in place;
// golden values, the float product within one step, argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/mul_s8.h"
#include "ops/int8/quantize_multiplier.h"

using namespace piconas;

namespace {

// y = clamp(MBQM((q1 - z1) * (q2 - z2), M) + z_out, act).
int8_t reference(const piconas_mul_params& p, int8_t a, int8_t b) {
  const int64_t product = (int64_t{a} + p.input1_offset) * (int64_t{b} + p.input2_offset);
  const int32_t r = int8_ref::mbqm(static_cast<int32_t>(product), p.multiplier, p.shift);
  return int8_ref::clamp_out(int64_t{r} + p.output_offset, p.activation.min, p.activation.max);
}

// Zero points with their extremes (offset 128 and -127) often; bytes likewise.
int random_zero_point(Rng& rng) {
  switch (rng.uniform_int(0, 5)) {
    case 0:
      return -128;
    case 1:
      return 127;
    default:
      return static_cast<int>(rng.uniform_int(-128, 127));
  }
}

std::vector<int8_t> random_bytes(Rng& rng, int64_t count) {
  std::vector<int8_t> v = int8_ref::random_s8_vector(rng, count);
  for (auto& e : v)
    if (rng.uniform_int(0, 7) == 0) e = rng.uniform_int(0, 1) ? int8_t{127} : int8_t{-128};
  return v;
}

// Parameters of one random case: a third from real scales, a third with extreme multipliers and
// shifts (the edges of both requantization paths), a third anywhere in the kernel's range.
piconas_mul_params random_params(Rng& rng, int kind) {
  piconas_mul_params p{};
  const int z1 = random_zero_point(rng), z2 = random_zero_point(rng);
  const int z_out = random_zero_point(rng);
  p.input1_offset = -z1;
  p.input2_offset = -z2;
  p.output_offset = z_out;
  if (kind == 0) {
    for (;;) {  // log-uniform scales; M = s1 s2 / s_out within the kernel's shifts
      const double s1 = std::exp(rng.uniform(-7.0, 1.0)), s2 = std::exp(rng.uniform(-7.0, 1.0));
      const double so = std::exp(rng.uniform(-9.0, 1.0));
      REQUIRE(piconas_quantize_multiplier(s1 * s2 / so, &p.multiplier, &p.shift) == 0);
      if (p.shift <= 15) break;
    }
  } else if (kind == 1) {
    static const int32_t shifts[] = {-31, -30, -29, -28, -1, 0, 1, 12, 13, 14, 15};
    p.shift = shifts[rng.uniform_int(0, 10)];
    switch (rng.uniform_int(0, 4)) {
      case 0:
        p.multiplier = int8_ref::kMax;
        break;
      case 1:
        p.multiplier = int32_t{1} << 30;
        break;
      case 2:
        p.multiplier = static_cast<int32_t>(rng.uniform_int(0, 3));
        break;
      default:
        p.multiplier = static_cast<int32_t>(rng.uniform_int(0, int8_ref::kMax));
        break;
    }
  } else {
    p.multiplier = static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, int8_ref::kMax));
    p.shift = static_cast<int32_t>(rng.uniform_int(-31, 15));
  }
  int lo = -128, hi = 127;
  int8_ref::random_activation(rng, z_out, lo, hi);
  p.activation = {lo, hi};
  return p;
}

}  // namespace

TEST_CASE("mul_s8: bit exact with the reference on 4000 random cases, in place over either input") {
  Rng rng(4711);
  int64_t compared = 0, saturated = 0;
  for (int i = 0; i < 4000; ++i) {
    const piconas_mul_params p = random_params(rng, i % 3);
    const auto size = static_cast<int32_t>(rng.uniform_int(1, 400));
    const auto a = random_bytes(rng, size), b = random_bytes(rng, size);
    std::vector<int8_t> want(a.size());
    for (size_t k = 0; k < a.size(); ++k) want[k] = reference(p, a[k], b[k]);
    std::vector<int8_t> y(a.size(), 0x55);
    REQUIRE(piconas_mul_s8(&p, a.data(), b.data(), y.data(), size) == PICONAS_S8_OK);
    REQUIRE(y == want);
    std::vector<int8_t> over_a = a, over_b = b;  // the output over the first / second input
    REQUIRE(piconas_mul_s8(&p, over_a.data(), b.data(), over_a.data(), size) == PICONAS_S8_OK);
    REQUIRE(piconas_mul_s8(&p, a.data(), over_b.data(), over_b.data(), size) == PICONAS_S8_OK);
    REQUIRE(over_a == want);
    REQUIRE(over_b == want);
    compared += size;
    for (int8_t v : want) saturated += v == p.activation.min || v == p.activation.max;
  }
  CHECK(compared > 500000);
  CHECK(saturated > compared / 20);  // clamps (saturation) are exercised, not only mid-range
}

TEST_CASE("pixel_mul_s8: a one-channel gate broadcast over each pixel's channels, bit exact") {
  Rng rng(90210);
  int64_t compared = 0;
  for (int i = 0; i < 3000; ++i) {
    const piconas_mul_params p = random_params(rng, i % 3);
    const auto pixels = static_cast<int32_t>(rng.uniform_int(1, 50));
    const auto channels = static_cast<int32_t>(rng.uniform_int(1, 40));
    const auto x = random_bytes(rng, int64_t{pixels} * channels);
    const auto g = random_bytes(rng, pixels);
    std::vector<int8_t> want(x.size());
    for (int32_t px = 0; px < pixels; ++px)
      for (int32_t c = 0; c < channels; ++c) {
        const size_t k = static_cast<size_t>(px) * static_cast<size_t>(channels) + c;
        want[k] = reference(p, x[k], g[static_cast<size_t>(px)]);
      }
    std::vector<int8_t> y(x.size(), 0x55);
    REQUIRE(piconas_pixel_mul_s8(&p, x.data(), g.data(), y.data(), pixels, channels) == 0);
    REQUIRE(y == want);
    std::vector<int8_t> in_place = x;
    REQUIRE(piconas_pixel_mul_s8(&p, in_place.data(), g.data(), in_place.data(), pixels,
                                 channels) == 0);
    REQUIRE(in_place == want);
    compared += static_cast<int64_t>(x.size());
  }
  CHECK(compared > 500000);
}

TEST_CASE("mul_s8: within one output step of the float product (real scales)") {
  // An independent check of the whole formula (a wrong zero point, offset sign or multiplier
  // would be off by much more than one step): y ~ s1 s2 (q1 - z1)(q2 - z2) / s_out + z_out.
  Rng rng(31337);
  for (int i = 0; i < 2000; ++i) {
    const piconas_mul_params p = random_params(rng, 0);
    const double m = std::ldexp(static_cast<double>(p.multiplier), p.shift - 31);
    const auto a = random_bytes(rng, 64), b = random_bytes(rng, 64);
    std::vector<int8_t> y(64);
    REQUIRE(piconas_mul_s8(&p, a.data(), b.data(), y.data(), 64) == 0);
    for (size_t k = 0; k < y.size(); ++k) {
      const double real = m * (a[k] + p.input1_offset) * (b[k] + p.input2_offset) + p.output_offset;
      const double clamped = std::fmin(std::fmax(real, p.activation.min), p.activation.max);
      REQUIRE(std::fabs(y[k] - clamped) <= 1.0);  // two roundings: at most one step
    }
  }
}

TEST_CASE("mul_s8: golden values, argument checks") {
  // s1 = 0.1, z1 = 0; gate s2 = 1/255, z2 = -128 (0 -> -128, 1 -> 127); s_out = 0.1, z_out = 0:
  // 50 (5.0) * 127 (1.0) = 50; 50 * -128 (0.0) = 0; 50 * 0 (128/255) = 25.098 -> 25;
  // -40 * 0 = -20.08 -> -20; -3 * 0 = -1.506 -> -2.
  piconas_mul_params p{0, 128, 0, 0, 0, {-128, 127}};
  REQUIRE(piconas_quantize_multiplier(0.1 * (1.0 / 255.0) / 0.1, &p.multiplier, &p.shift) == 0);
  std::vector<int8_t> x{50, 50, 50, -40, -3}, g{127, -128, 0, 0, 0}, y(5);
  REQUIRE(piconas_mul_s8(&p, x.data(), g.data(), y.data(), 5) == 0);
  CHECK(y == std::vector<int8_t>{50, 0, 25, -20, -2});
  // The same as a pixel broadcast: pixel 0 (channels 50, -40) by 0 (128/255), pixel 1 by 127.
  std::vector<int8_t> f{50, -40, 50, -40}, gate{0, 127}, z(4);
  REQUIRE(piconas_pixel_mul_s8(&p, f.data(), gate.data(), z.data(), 2, 2) == 0);
  CHECK(z == std::vector<int8_t>{25, -20, 50, -40});
  CHECK(piconas_mul_s8(&p, nullptr, g.data(), y.data(), 5) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_mul_s8(&p, x.data(), g.data(), y.data(), -1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_pixel_mul_s8(&p, f.data(), gate.data(), z.data(), 2, -1) ==
        PICONAS_S8_ERR_ARGUMENT);
  for (int field = 0; field < 5; ++field) {
    piconas_mul_params bad = p;
    if (field == 0) bad.shift = 16;
    if (field == 1) bad.multiplier = -1;
    if (field == 2) bad.input1_offset = 129;
    if (field == 3) bad.output_offset = 128;
    if (field == 4) bad.activation = {10, 5};
    CHECK(piconas_mul_s8_check(&bad, 5) == PICONAS_S8_ERR_ARGUMENT);
    CHECK(piconas_mul_s8(&bad, x.data(), g.data(), y.data(), 5) == PICONAS_S8_ERR_ARGUMENT);
  }
  CHECK(y == std::vector<int8_t>{50, 0, 25, -20, -2});  // nothing written on error
}
