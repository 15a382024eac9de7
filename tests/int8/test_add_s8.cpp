// add_s8 (residual add, left_shift 20, three multipliers) against an independent reference on
// random tensors and parameters (out of place and in place over either input), host-side
// parameters from real scales, and argument checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/add_s8.h"
#include "ops/int8/quantize_multiplier.h"

using namespace piconas;

namespace {

// y = clamp(MBQM(MBQM((q1 - z1) * 2^ls, M1) + MBQM((q2 - z2) * 2^ls, M2), Mo) + z_out).
std::vector<int8_t> reference(const piconas_add_params& p, const std::vector<int8_t>& a,
                              const std::vector<int8_t>& b) {
  std::vector<int8_t> y;
  for (size_t i = 0; i < a.size(); ++i) {
    const int64_t x1 = (int64_t{a[i]} + p.input1_offset) << p.left_shift;
    const int64_t x2 = (int64_t{b[i]} + p.input2_offset) << p.left_shift;
    const int64_t s1 =
        int8_ref::mbqm(static_cast<int32_t>(x1), p.input1_multiplier, p.input1_shift);
    const int64_t s2 =
        int8_ref::mbqm(static_cast<int32_t>(x2), p.input2_multiplier, p.input2_shift);
    const auto sum = static_cast<int32_t>(s1 + s2);  // modulo 2^32, as documented
    const int32_t r = int8_ref::mbqm(sum, p.output_multiplier, p.output_shift);
    y.push_back(
        int8_ref::clamp_out(int64_t{r} + p.output_offset, p.activation.min, p.activation.max));
  }
  return y;
}

// Parameters as the exporter derives them from real scales (docs/int8.md).
piconas_add_params from_scales(double s1, int z1, double s2, int z2, double s_out, int z_out) {
  piconas_add_params p{};
  const double twice_max = 2.0 * std::max(s1, s2);
  p.left_shift = 20;
  p.input1_offset = -z1;
  p.input2_offset = -z2;
  p.output_offset = z_out;
  REQUIRE(piconas_quantize_multiplier(s1 / twice_max, &p.input1_multiplier, &p.input1_shift) == 0);
  REQUIRE(piconas_quantize_multiplier(s2 / twice_max, &p.input2_multiplier, &p.input2_shift) == 0);
  REQUIRE(piconas_quantize_multiplier(twice_max / (std::ldexp(1.0, 20) * s_out),
                                      &p.output_multiplier, &p.output_shift) == 0);
  p.activation = {-128, 127};
  return p;
}

}  // namespace

TEST_CASE("add_s8: bit exact on 4000 random parameter sets (half derived from real scales)") {
  Rng rng(808);
  int64_t outputs = 0, simd_cases = 0;
  for (int i = 0; i < 4000; ++i) {
    const int size = static_cast<int>(rng.uniform_int(1, 64));
    const auto a = int8_ref::random_s8_vector(rng, size);
    const auto b = int8_ref::random_s8_vector(rng, size);
    piconas_add_params p{};
    const bool realistic = rng.uniform_int(0, 1) == 0;
    if (realistic) {
      p = from_scales(
          std::exp(rng.uniform(-6.0, 1.0)), static_cast<int>(rng.uniform_int(-128, 127)),
          std::exp(rng.uniform(-6.0, 1.0)), static_cast<int>(rng.uniform_int(-128, 127)),
          std::exp(rng.uniform(-6.0, 1.0)), static_cast<int>(rng.uniform_int(-128, 127)));
    } else {
      p.input1_offset = static_cast<int32_t>(rng.uniform_int(-127, 128));
      p.input2_offset = static_cast<int32_t>(rng.uniform_int(-127, 128));
      p.output_offset = static_cast<int32_t>(rng.uniform_int(-128, 127));
      p.left_shift = static_cast<int32_t>(rng.uniform_int(0, 1) ? 20 : rng.uniform_int(0, 23));
      p.input1_multiplier = int8_ref::random_multiplier(rng);
      p.input2_multiplier = int8_ref::random_multiplier(rng);
      p.output_multiplier = int8_ref::random_multiplier(rng);
      p.input1_shift = int8_ref::random_shift(rng);
      p.input2_shift = int8_ref::random_shift(rng);
      p.output_shift = int8_ref::random_shift(rng);
    }
    int lo = -128, hi = 127;
    int8_ref::random_activation(rng, p.output_offset, lo, hi);
    p.activation = {lo, hi};
    std::vector<int8_t> y(static_cast<size_t>(size), 99);
    INFO("case " << i << " size " << size);
    const std::vector<int8_t> expected = reference(p, a, b);
    REQUIRE(piconas_add_s8(&p, a.data(), b.data(), y.data(), size) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(piconas_add_generic_s8(&p, a.data(), b.data(), y.data(), size) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    const bool simd = piconas_add_simd_applies(&p) != 0;
    std::fill(y.begin(), y.end(), int8_t{99});
    REQUIRE(piconas_add_simd_s8(&p, a.data(), b.data(), y.data(), size) ==
            (simd ? PICONAS_S8_OK : PICONAS_S8_ERR_ARGUMENT));
    if (simd) {
      REQUIRE(y == expected);
      REQUIRE(piconas_add_s8_check(&p, size) == PICONAS_S8_OK);
      std::fill(y.begin(), y.end(), int8_t{99});
      REQUIRE(piconas_add_simd_prechecked_s8(&p, a.data(), b.data(), y.data(), size) ==
              PICONAS_S8_OK);
      REQUIRE(y == expected);
      REQUIRE(piconas_add_simd_prechecked_s8(&p, nullptr, b.data(), y.data(), size) ==
              PICONAS_S8_ERR_ARGUMENT);
    }
    // In place: the output over either input (the planner's in-place add), each variant.
    for (const auto kernel : {piconas_add_s8, piconas_add_generic_s8, piconas_add_simd_s8,
                              piconas_add_simd_prechecked_s8}) {
      if (!simd && (kernel == piconas_add_simd_s8 || kernel == piconas_add_simd_prechecked_s8)) continue;
      std::vector<int8_t> over = a;
      REQUIRE(kernel(&p, over.data(), b.data(), over.data(), size) == PICONAS_S8_OK);
      REQUIRE(over == expected);
      over = b;
      REQUIRE(kernel(&p, a.data(), over.data(), over.data(), size) == PICONAS_S8_OK);
      REQUIRE(over == expected);
    }
    simd_cases += simd;
    outputs += size;
  }
  CHECK(simd_cases > 2000);
  MESSAGE("add_s8 outputs compared: " << outputs);
}

TEST_CASE("add_s8: real scales give the rounded real sum within one step; in-place; bad args") {
  // s1 = 0.1, z1 = 3; s2 = 0.05, z2 = -7; s_out = 0.2, z_out = 1.
  const piconas_add_params p = from_scales(0.1, 3, 0.05, -7, 0.2, 1);
  std::vector<int8_t> a, b;
  for (int q1 = -128; q1 <= 127; q1 += 5)
    for (int q2 = -128; q2 <= 127; q2 += 7) {
      a.push_back(static_cast<int8_t>(q1));
      b.push_back(static_cast<int8_t>(q2));
    }
  std::vector<int8_t> y(a.size());
  REQUIRE(piconas_add_s8(&p, a.data(), b.data(), y.data(), static_cast<int32_t>(a.size())) == 0);
  CHECK(y == reference(p, a, b));
  for (size_t i = 0; i < a.size(); ++i) {
    const double real = 0.1 * (a[i] - 3) + 0.05 * (b[i] + 7);
    const double q = std::clamp(std::round(real / 0.2) + 1, -128.0, 127.0);
    REQUIRE(std::fabs(y[i] - q) <= 1.0);
  }
  std::vector<int8_t> in_place = a;
  REQUIRE(piconas_add_s8(&p, in_place.data(), b.data(), in_place.data(),
                         static_cast<int32_t>(a.size())) == 0);
  CHECK(in_place == y);

  piconas_add_params bad = p;
  bad.left_shift = 24;
  CHECK(piconas_add_s8(&bad, a.data(), b.data(), y.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  bad = p;
  bad.output_shift = 32;
  CHECK(piconas_add_s8(&bad, a.data(), b.data(), y.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  bad = p;
  bad.input2_offset = 129;
  CHECK(piconas_add_s8(&bad, a.data(), b.data(), y.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_add_s8_check(&bad, 1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_add_s8(&p, nullptr, b.data(), y.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_add_s8(&p, a.data(), b.data(), y.data(), -1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_add_s8(&p, a.data(), b.data(), y.data(), 0) == PICONAS_S8_OK);
}
