// channel_mul_s8 (TFLite's int8 Mul with a per-channel gate broadcast over the
// pixels) against the independent reference on random shapes and parameters,
// and argument checks.
#include <doctest/doctest.h>

#include <vector>

#include "int8/reference_mbv3_s8.h"

using namespace piconas;

TEST_CASE("channel_mul_s8: bit exact with the reference on 3000 random cases") {
  Rng rng(5150);
  int64_t compared = 0;
  for (int i = 0; i < 3000; ++i) {
    const int pixels = static_cast<int>(rng.uniform_int(1, 40));
    const int channels = static_cast<int>(rng.uniform_int(1, 70));
    piconas_channel_mul_params p{};
    const int z_x = static_cast<int>(rng.uniform_int(-128, 127));
    const int z_g = static_cast<int>(rng.uniform_int(-128, 127));
    const int z_y = static_cast<int>(rng.uniform_int(-128, 127));
    p.input1_offset = -z_x;
    p.input2_offset = -z_g;
    p.output_offset = z_y;
    if (i % 2 == 0) {  // from real scales: a gate in [0, 1] (s = 1/255) scaling features
      const double s_x = rng.uniform(0.005, 0.2), s_y = s_x * rng.uniform(0.5, 1.5);
      REQUIRE(piconas_quantize_multiplier(s_x * (1.0 / 255.0) / s_y, &p.multiplier, &p.shift) == 0);
    } else {
      p.multiplier = int8_ref::random_multiplier(rng);
      if (p.multiplier < 0) p.multiplier = 0;
      p.shift = static_cast<int32_t>(rng.uniform_int(-31, 15));
    }
    int lo = -128, hi = 127;
    int8_ref::random_activation(rng, z_y, lo, hi);
    p.activation = {lo, hi};
    const auto x = int8_ref::random_s8_vector(rng, int64_t{pixels} * channels);
    const auto g = int8_ref::random_s8_vector(rng, channels);
    std::vector<int8_t> y(x.size());
    REQUIRE(piconas_channel_mul_s8(&p, x.data(), g.data(), y.data(), pixels, channels) == 0);
    for (int px = 0; px < pixels; ++px)
      for (int c = 0; c < channels; ++c) {
        const size_t k = static_cast<size_t>(px) * channels + c;
        REQUIRE(int{y[k]} == int{int8_ref::channel_mul(p, x[k], g[static_cast<size_t>(c)])});
      }
    compared += static_cast<int64_t>(y.size());
  }
  CHECK(compared > 1000000);
}

TEST_CASE("channel_mul_s8: golden values, in place, argument checks") {
  // s_x = 0.1, z_x = 0; gate s = 1/255, z = -128 (0 -> -128, 1 -> 127); s_y =
  // 0.1, z_y = 0: y = x * g: x = 50 (5.0) with g = 127 (1.0) -> 50; with g =
  // -128 (0.0) -> 0; g = 0 (128/255)
  // -> 50 * 128 / 255 = 25.1 -> 25.
  piconas_channel_mul_params p{0, 128, 0, 0, 0, {-128, 127}};
  REQUIRE(piconas_quantize_multiplier(0.1 * (1.0 / 255.0) / 0.1, &p.multiplier, &p.shift) == 0);
  std::vector<int8_t> x{50, 50, 50, -40, -40, -40}, g{127, -128, 0};
  REQUIRE(piconas_channel_mul_s8(&p, x.data(), g.data(), x.data(), 2, 3) == 0);
  CHECK(x == std::vector<int8_t>{50, 0, 25, -40, 0, -20});
  CHECK(piconas_channel_mul_s8(&p, nullptr, g.data(), x.data(), 2, 3) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_channel_mul_s8(&p, x.data(), g.data(), x.data(), -1, 3) == PICONAS_S8_ERR_ARGUMENT);
  piconas_channel_mul_params bad = p;
  bad.shift = 16;
  CHECK(piconas_channel_mul_s8(&bad, x.data(), g.data(), x.data(), 2, 3) ==
        PICONAS_S8_ERR_ARGUMENT);
  bad = p;
  bad.activation = {10, 5};
  CHECK(piconas_channel_mul_s8(&bad, x.data(), g.data(), x.data(), 2, 3) ==
        PICONAS_S8_ERR_ARGUMENT);
}
