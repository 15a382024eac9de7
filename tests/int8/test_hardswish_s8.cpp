// hardswish_s8 (TFLite's fixed-point HardSwish) against the independent
// reference on every input byte of random parameter sets, TFLite's host-side
// parameters from real scales, the float function it approximates, and argument
// checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "int8/reference_mbv3_s8.h"

using namespace piconas;

namespace {

std::vector<int8_t> all_bytes() {
  std::vector<int8_t> v;
  for (int q = -128; q <= 127; ++q) v.push_back(static_cast<int8_t>(q));
  return v;
}

void check_every_byte(const piconas_hardswish_params &p, int64_t &compared) {
  const std::vector<int8_t> x = all_bytes();
  std::vector<int8_t> y(x.size());
  REQUIRE(piconas_hardswish_s8(&p, x.data(), y.data(), static_cast<int32_t>(x.size())) == 0);
  for (size_t i = 0; i < x.size(); ++i) {
    CAPTURE(int{x[i]});
    REQUIRE(int{y[i]} == int{int8_ref::hardswish(p, x[i])});
  }
  compared += static_cast<int64_t>(x.size());
}

}  // namespace

TEST_CASE("hardswish_s8: golden bytes of one TFLite parameter set") {
  // s_in = s_out = 0.05, z_in = 0, z_out = -96 (the output range
  // [-0.2, 10.55]).
  piconas_hardswish_params p{};
  REQUIRE(int8_ref::hardswish_from_scales(0.05f, 0, 0.05f, -96, p));
  // Float: hardswish(0) = 0 -> z_out; hardswish(x >= 3) = x: q = 100 is 5.0
  // -> 5.0 / 0.05 - 96; q = -100 is -5.0 -> 0 -> z_out; q = 20 is 1.0 -> 1 * 4
  // / 6 = 0.6667 -> 13.33 - 96 = -82.67.
  const std::vector<int8_t> x{0, 100, -100, 20};
  std::vector<int8_t> y(x.size());
  REQUIRE(piconas_hardswish_s8(&p, x.data(), y.data(), 4) == 0);
  CHECK(int{y[0]} == -96);
  CHECK(int{y[1]} == 4);
  CHECK(int{y[2]} == -96);
  CHECK(std::abs(int{y[3]} - (-83)) <= 1);
}

TEST_CASE(
    "hardswish_s8: bit exact with the reference on every byte of 3000 "
    "parameter sets") {
  Rng rng(4242);
  int64_t compared = 0, left_shift_sets = 0, right_shift_sets = 0;
  for (int i = 0; i < 3000; ++i) {
    piconas_hardswish_params p{};
    if (i % 2 == 0) {  // from real scales, as the exporter derives them
      const float s_in = static_cast<float>(std::exp(rng.uniform(std::log(1e-3), std::log(1.0))));
      const float s_out = static_cast<float>(s_in * rng.uniform(0.3, 3.0));
      if (!int8_ref::hardswish_from_scales(s_in, static_cast<int>(rng.uniform_int(-128, 127)),
                                           s_out, static_cast<int>(rng.uniform_int(-128, 127)), p))
        continue;
    } else {  // any parameters the kernel accepts
      p.input_offset = static_cast<int32_t>(rng.uniform_int(-127, 128));
      p.output_offset = static_cast<int32_t>(rng.uniform_int(-128, 127));
      p.reluish_multiplier = static_cast<int32_t>(rng.uniform_int(0, 32767));
      p.output_multiplier = static_cast<int32_t>(rng.uniform_int(0, 32767));
      p.reluish_shift = static_cast<int32_t>(rng.uniform_int(-15, 15));
      p.output_shift = static_cast<int32_t>(rng.uniform_int(-15, 0));
    }
    left_shift_sets += p.reluish_shift > 0;
    right_shift_sets += p.reluish_shift < 0;
    check_every_byte(p, compared);
  }
  CHECK(compared > 500000);
  CHECK(left_shift_sets > 100);
  CHECK(right_shift_sets > 100);
}

TEST_CASE(
    "hardswish_s8: within one output step of the float function "
    "(TFLite's parameters)") {
  Rng rng(99);
  int worst = 0;
  for (int i = 0; i < 200; ++i) {
    const float s_in = static_cast<float>(rng.uniform(0.01, 0.1));
    const int z_in = static_cast<int>(rng.uniform_int(-100, 100));
    // The output range of hardswish over the input range, widened to contain 0.
    const double lo_in = s_in * (-128 - z_in), hi_in = s_in * (127 - z_in);
    auto hs = [](double v) { return v * std::clamp(v + 3.0, 0.0, 6.0) / 6.0; };
    const double lo = std::min({0.0, hs(lo_in), -0.375}), hi = std::max(0.0, hs(hi_in));
    const float s_out = static_cast<float>((hi - lo) / 255.0);
    const int z_out = std::clamp(static_cast<int>(std::lround(-128 - lo / s_out)), -128, 127);
    piconas_hardswish_params p{};
    REQUIRE(int8_ref::hardswish_from_scales(s_in, z_in, s_out, z_out, p));
    for (int q = -128; q <= 127; ++q) {
      int8_t y = 0;
      const auto x = static_cast<int8_t>(q);
      REQUIRE(piconas_hardswish_s8(&p, &x, &y, 1) == 0);
      const double want = std::clamp(hs(s_in * (q - z_in)) / s_out + z_out, -128.0, 127.0);
      worst = std::max(worst, static_cast<int>(std::ceil(std::abs(y - want) - 1e-9)));
    }
  }
  CHECK(worst <= 1);
}

TEST_CASE("hardswish_s8: argument checks, in place") {
  piconas_hardswish_params p{};
  REQUIRE(int8_ref::hardswish_from_scales(0.02f, 3, 0.02f, -90, p));
  std::vector<int8_t> x = all_bytes(), want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = int8_ref::hardswish(p, x[i]);
  REQUIRE(piconas_hardswish_s8(&p, x.data(), x.data(), 256) == 0);  // output aliases input
  CHECK(x == want);
  CHECK(piconas_hardswish_s8(nullptr, x.data(), x.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_hardswish_s8(&p, nullptr, x.data(), 1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_hardswish_s8(&p, x.data(), x.data(), -1) == PICONAS_S8_ERR_ARGUMENT);
  for (auto broken : {+[](piconas_hardswish_params &b) { b.output_shift = 1; },
                      +[](piconas_hardswish_params &b) { b.reluish_shift = 16; },
                      +[](piconas_hardswish_params &b) { b.reluish_multiplier = 32768; },
                      +[](piconas_hardswish_params &b) { b.output_multiplier = -1; },
                      +[](piconas_hardswish_params &b) { b.input_offset = 129; }}) {
    piconas_hardswish_params b = p;
    broken(b);
    const std::vector<int8_t> before = x;
    CHECK(piconas_hardswish_s8(&b, x.data(), x.data(), 256) == PICONAS_S8_ERR_ARGUMENT);
    CHECK(x == before);
  }
}
