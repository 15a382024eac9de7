// logistic_s8 (TFLite-Micro's int8 LOGISTIC, as a 256-entry table) against an independent
// reference: TFLite-Micro's Prepare and reference loop written here from docs/int8.md around
// gemmlowp's own fixed-point logistic (Debian's libgemmlowp-dev, the code TFLite calls), on every
// input byte of 20,000 random input quantizations (log-uniform scales over the whole accepted
// range, every zero point); the lookup kernel on random tensors and in place; the real sigmoid
// (within one step, and how often the bytes differ from its rounding and from TFLite's float
// table); golden values; argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "ops/int8/logistic_s8.h"
#ifdef PICONAS_HAVE_GEMMLOWP
#include <gemmlowp/fixedpoint/fixedpoint.h>
#endif

using namespace piconas;

namespace {

// TFLite-Micro's Prepare (CalculateArithmeticOpDataLogistic) for an int8 input of scale s_in.
struct TfliteLogistic {
  int32_t zero_point = 0, multiplier = 0, left_shift = 0, range_radius = 0;
};

TfliteLogistic tflite_prepare(float s_in, int z_in) {
  TfliteLogistic t;
  t.zero_point = z_in;
  const double real = static_cast<double>(s_in) * static_cast<double>(1 << 27);
  const double q = std::frexp(real, &t.left_shift);
  t.multiplier = static_cast<int32_t>(std::round(q * 2147483648.0));
  t.range_radius =
      static_cast<int32_t>(std::floor(15.0 * static_cast<double>(int64_t{1} << 27) /
                                      static_cast<double>(int64_t{1} << t.left_shift)));
  return t;
}

piconas_logistic_params params_of(const TfliteLogistic& t) {
  return {t.zero_point, t.multiplier, t.left_shift};
}

#ifdef PICONAS_HAVE_GEMMLOWP
// TFLite's MultiplyByQuantizedMultiplier with gemmlowp's primitives.
int32_t tflite_mbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const auto shifted = static_cast<int32_t>(int64_t{x} * (int64_t{1} << left));
  return gemmlowp::RoundingDivideByPOT(
      gemmlowp::SaturatingRoundingDoublingHighMul(shifted, multiplier), right);
}

// TFLite-Micro's reference_integer_ops::Logistic on one byte.
int8_t tflite_logistic(const TfliteLogistic& t, int8_t q) {
  const int32_t x = int32_t{q} - t.zero_point;
  if (x <= -t.range_radius) return -128;
  if (x >= t.range_radius) return 127;
  const int32_t a = tflite_mbqm(x, t.multiplier, t.left_shift);
  const int32_t r = gemmlowp::logistic(gemmlowp::FixedPoint<int32_t, 4>::FromRaw(a)).raw();
  const int32_t y = gemmlowp::RoundingDivideByPOT(r, 23) - 128;
  return static_cast<int8_t>(y < -128 ? -128 : (y > 127 ? 127 : y));
}
#endif

// A scale: mostly where real tensors are (1e-3 .. 0.5), else anywhere in [2^-28, 16).
float random_scale(Rng& rng) {
  if (rng.uniform_int(0, 3) > 0) return static_cast<float>(std::exp(rng.uniform(-7.0, -0.7)));
  return static_cast<float>(std::exp2(rng.uniform(-28.0, 3.999)));
}

std::vector<int8_t> table_of(const piconas_logistic_params& p) {
  std::vector<int8_t> table(256, 0x55);
  REQUIRE(piconas_logistic_s8_table(&p, table.data()) == PICONAS_S8_OK);
  return table;
}

}  // namespace

TEST_CASE(
    "logistic_s8: the table is TFLite-Micro's LOGISTIC (gemmlowp) on every byte of 20,000 "
    "random input quantizations") {
#ifndef PICONAS_HAVE_GEMMLOWP
  FAIL("gemmlowp's fixedpoint.h not found: install libgemmlowp-dev (scripts/install-deps.sh)");
#else
  Rng rng(2718);
  int64_t compared = 0, interior = 0;
  for (int i = 0; i < 20000; ++i) {
    const float s = random_scale(rng);
    const int z = static_cast<int>(rng.uniform_int(-128, 127));
    const TfliteLogistic t = tflite_prepare(s, z);
    REQUIRE(t.left_shift >= 0);
    REQUIRE(t.left_shift <= 31);
    const std::vector<int8_t> table = table_of(params_of(t));
    for (int q = -128; q <= 127; ++q) {
      CAPTURE(s);
      CAPTURE(z);
      CAPTURE(q);
      const int8_t want = tflite_logistic(t, static_cast<int8_t>(q));
      REQUIRE(int{table[static_cast<size_t>(q + 128)]} == int{want});
      interior += want > -128 && want < 127;
    }
    compared += 256;
  }
  CHECK(compared == 20000 * 256);
  CHECK(interior > compared / 4);  // most bytes go through the fixed-point path, not the clamps
#endif
}

TEST_CASE("logistic_s8: lookup of random tensors, in place; the real sigmoid within one step") {
  Rng rng(1618);
  int64_t bytes = 0, off_real = 0, off_float_table = 0;
  for (int i = 0; i < 3000; ++i) {
    const float s = random_scale(rng);
    const int z = static_cast<int>(rng.uniform_int(-128, 127));
    const std::vector<int8_t> table = table_of(params_of(tflite_prepare(s, z)));
    const auto size = static_cast<int32_t>(rng.uniform_int(1, 300));
    std::vector<int8_t> x(static_cast<size_t>(size)), y(x.size(), 0x55);
    for (auto& v : x) v = static_cast<int8_t>(rng.uniform_int(-128, 127));
    REQUIRE(piconas_logistic_s8(table.data(), x.data(), y.data(), size) == PICONAS_S8_OK);
    std::vector<int8_t> in_place = x;
    REQUIRE(piconas_logistic_s8(table.data(), in_place.data(), in_place.data(), size) == 0);
    REQUIRE(in_place == y);
    for (size_t k = 0; k < x.size(); ++k) REQUIRE(y[k] == table[static_cast<size_t>(x[k] + 128)]);
    if (s >= 4.0f) continue;  // TFLite saturates x = 0 itself there (radius 0 or 1): see below
    for (int q = -128; q <= 127; ++q) {
      // The real function, rounded half away from zero on the 1/256 grid (docs/int8.md).
      const double real = 1.0 / (1.0 + std::exp(-static_cast<double>(s) * (q - z)));
      const double exact = std::fmin(std::round(real * 256.0) - 128.0, 127.0);
      // TFLite's float table (LUTPopulate, its non-Micro int8 kernel): float arithmetic.
      const float f = 1.0f / (1.0f + std::exp(-(s * static_cast<float>(q - z))));
      const float by_float = std::fmin(std::round(f * 256.0f) - 128.0f, 127.0f);
      const int got = table[static_cast<size_t>(q + 128)];
      REQUIRE(std::abs(got - exact) <= 1.0);
      off_real += got != exact;
      off_float_table += got != by_float;
      ++bytes;
    }
  }
  MESSAGE("logistic_s8: " << off_real << " of " << bytes << " table bytes differ from the rounded "
                          << "real sigmoid, " << off_float_table << " from TFLite's float table");
  CHECK(off_real * 1000 < bytes);  // the fixed point is off by one step only near half steps
}

TEST_CASE("logistic_s8: golden values, TFLite's saturation of large scales, argument checks") {
  // s_in = 1/16, z_in = 0: x = q / 16. sigmoid(0) = 0.5 -> 128 - 128 = 0; sigmoid(1) =
  // 0.7310586 -> 187.15 -> 59; sigmoid(-1) -> 68.85 -> -59; sigmoid(2) = 0.8807971 ->
  // 225.48 -> 97; sigmoid(-8) = 0.000335 -> 0.086 -> -128; sigmoid(7.9375) -> 255.91 -> 127.
  const TfliteLogistic t = tflite_prepare(1.0f / 16.0f, 0);
  CHECK(t.multiplier == (1 << 30));
  CHECK(t.left_shift == 24);
  CHECK(t.range_radius == 15 * 8);  // |x| >= 7.5 saturates
  const std::vector<int8_t> table = table_of(params_of(t));
  const auto at = [&](int q) { return int{table[static_cast<size_t>(q + 128)]}; };
  CHECK(at(0) == 0);
  CHECK(at(16) == 59);
  CHECK(at(-16) == -59);
  CHECK(at(32) == 97);
  CHECK(at(-128) == -128);
  CHECK(at(127) == 127);
  for (int q = -127; q <= 127; ++q) CHECK(at(q) >= at(q - 1));  // monotone
  // s_in in [8, 16): left shift 31, radius floor(15 / 16) = 0, so TFLite-Micro saturates every
  // byte, x = 0 included (to -128, where the real value 0.5 would be 0); reproduced, not fixed.
  const std::vector<int8_t> big = table_of(params_of(tflite_prepare(8.0f, 3)));
  CHECK(int{big[3 + 128]} == -128);
  CHECK(int{big[4 + 128]} == 127);

  piconas_logistic_params p = params_of(t);
  std::vector<int8_t> x{1, 2}, y{0, 0};
  CHECK(piconas_logistic_s8_check(&p) == PICONAS_S8_OK);
  CHECK(piconas_logistic_s8_check(nullptr) == PICONAS_S8_ERR_ARGUMENT);
  for (int field = 0; field < 5; ++field) {
    piconas_logistic_params bad = p;
    if (field == 0) bad.input_zero_point = 128;
    if (field == 1) bad.input_zero_point = -129;
    if (field == 2) bad.input_multiplier = (1 << 30) - 1;
    if (field == 3) bad.input_left_shift = -1;
    if (field == 4) bad.input_left_shift = 32;
    std::vector<int8_t> untouched(256, 7);
    CHECK(piconas_logistic_s8_check(&bad) == PICONAS_S8_ERR_ARGUMENT);
    CHECK(piconas_logistic_s8_table(&bad, untouched.data()) == PICONAS_S8_ERR_ARGUMENT);
    CHECK(untouched == std::vector<int8_t>(256, 7));  // nothing written on error
  }
  CHECK(piconas_logistic_s8_table(&p, nullptr) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_logistic_s8(nullptr, x.data(), y.data(), 2) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_logistic_s8(table.data(), nullptr, y.data(), 2) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_logistic_s8(table.data(), x.data(), nullptr, 2) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_logistic_s8(table.data(), x.data(), y.data(), -1) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(y == std::vector<int8_t>{0, 0});
}
