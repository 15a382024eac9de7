// SRDHM / RDBPOT / MBQM and quantize_multiplier: hand-computed golden values, then random
// bit-exact comparisons against the independent reference of int8/reference_s8.h.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>

#include "int8/reference_s8.h"
#include "ops/int8/quantize_multiplier.h"
#include "ops/int8/requant32_s8.h"
#include "ops/int8/requantize.h"
#include "ops/int8/simd_s8.h"

using namespace piconas;
using int8_ref::kMax;
using int8_ref::kMin;

namespace {
constexpr int32_t k2p30 = int32_t{1} << 30;

int32_t srdhm(int32_t a, int32_t b) { return piconas_saturating_rounding_doubling_high_mul(a, b); }
int32_t rdbpot(int32_t x, int32_t n) { return piconas_rounding_divide_by_pot(x, n); }
int32_t mbqm(int32_t x, int32_t m, int32_t s) {
  return piconas_multiply_by_quantized_multiplier(x, m, s);
}
}  // namespace

TEST_CASE("requantize: SRDHM golden values, ties round towards +infinity, INT32_MIN^2 saturates") {
  CHECK(srdhm(kMin, kMin) == kMax);
  CHECK(srdhm(kMax, kMax) == 2147483646);
  CHECK(srdhm(kMin, kMax) == -2147483647);
  CHECK(srdhm(kMin, k2p30) == -k2p30);
  CHECK(srdhm(k2p30, k2p30) == (1 << 29));
  CHECK(srdhm(1, k2p30) == 1);    // +0.5 -> 1
  CHECK(srdhm(-1, k2p30) == 0);   // -0.5 -> 0
  CHECK(srdhm(3, k2p30) == 2);    // +1.5 -> 2
  CHECK(srdhm(-3, k2p30) == -1);  // -1.5 -> -1
  CHECK(srdhm(-5, k2p30) == -2);  // -2.5 -> -2
  CHECK(srdhm(100, k2p30) == 50);
  CHECK(srdhm(0, kMin) == 0);
  CHECK(piconas_srdhm(kMin, kMin) == kMax);
}

TEST_CASE("requantize: RDBPOT golden values, ties round away from zero") {
  CHECK(rdbpot(5, 1) == 3);    // 2.5
  CHECK(rdbpot(-5, 1) == -3);  // -2.5
  CHECK(rdbpot(3, 1) == 2);    // 1.5
  CHECK(rdbpot(-3, 1) == -2);  // -1.5
  CHECK(rdbpot(6, 2) == 2);    // 1.5
  CHECK(rdbpot(-6, 2) == -2);  // -1.5
  CHECK(rdbpot(7, 2) == 2);    // 1.75
  CHECK(rdbpot(5, 2) == 1);    // 1.25
  CHECK(rdbpot(-5, 2) == -1);  // -1.25
  CHECK(rdbpot(-7, 2) == -2);  // -1.75
  CHECK(rdbpot(42, 0) == 42);
  CHECK(rdbpot(kMin, 0) == kMin);
  CHECK(rdbpot(kMin, 31) == -1);
  CHECK(rdbpot(kMax, 31) == 1);
  CHECK(rdbpot(k2p30, 31) == 1);    // 0.5
  CHECK(rdbpot(-k2p30, 31) == -1);  // -0.5
  CHECK(rdbpot(k2p30 - 1, 31) == 0);
  CHECK(piconas_rdbpot(-5, 1) == -3);
}

TEST_CASE("requantize: MBQM golden values incl. double rounding and positive shifts") {
  CHECK(mbqm(100, k2p30, 0) == 50);         // M = 0.5
  CHECK(mbqm(-77, k2p30, 1) == -77);        // M = 1.0
  CHECK(mbqm(3, k2p30, -1) == 1);           // 0.75 -> 1
  CHECK(mbqm(5, k2p30, -1) == 2);           // 1.25, but 2.5 -> 3 then 1.5 -> 2: double rounding
  CHECK(mbqm(-5, k2p30, -1) == -1);         // -1.25: -2.5 -> -2, then -1
  CHECK(mbqm(5, k2p30, -2) == 1);           // 0.625
  CHECK(mbqm(3, k2p30, 2) == 6);            // M = 2
  CHECK(mbqm(1000, 1610612736, -3) == 94);  // 1000 * 0.75 / 8 = 93.75
  CHECK(mbqm(k2p30, k2p30, 1) == -k2p30);   // x << 1 wraps to INT32_MIN (documented)
  CHECK(mbqm(123456, 0, -5) == 0);
  CHECK(piconas_mbqm(5, k2p30, -1) == 2);
}

TEST_CASE("requantize: random and constructed ties agree bit for bit with the reference") {
  Rng rng(20261121);
  const int32_t specials[] = {kMin, kMin + 1, -k2p30, -2, -1, 0, 1, 2, k2p30, kMax - 1, kMax};
  int64_t checked = 0;
  for (int32_t a : specials)
    for (int32_t b : specials) {
      REQUIRE(srdhm(a, b) == int8_ref::srdhm(a, b));
      ++checked;
    }
  for (int i = 0; i < 200000; ++i) {
    const auto a = static_cast<int32_t>(rng.uniform_int(kMin, kMax));
    const int32_t b = int8_ref::random_multiplier(rng);
    REQUIRE(srdhm(a, b) == int8_ref::srdhm(a, b));
    // An exact SRDHM tie: odd a times 2^30 is (k + 1/2) * 2^31.
    const int32_t odd = static_cast<int32_t>(rng.uniform_int(-(1 << 20), 1 << 20)) * 2 + 1;
    REQUIRE(srdhm(odd, k2p30) == int8_ref::srdhm(odd, k2p30));
    REQUIRE(srdhm(odd, k2p30) == (odd + 1) / 2);  // odd / 2 rounded half up

    const auto n = static_cast<int32_t>(rng.uniform_int(0, 31));
    REQUIRE(rdbpot(a, n) == int8_ref::rdbpot(a, n));
    if (n >= 1) {
      // An exact RDBPOT tie: k * 2^n + 2^(n-1), rounded away from zero.
      const int64_t half = int64_t{1} << (n - 1);
      const int64_t k = rng.uniform_int(-(int64_t{1} << (31 - n)), (int64_t{1} << (31 - n)) - 1);
      const auto tie = static_cast<int32_t>(k * (int64_t{1} << n) + half);
      REQUIRE(rdbpot(tie, n) == int8_ref::rdbpot(tie, n));
      REQUIRE(rdbpot(tie, n) == (tie > 0 ? k + 1 : k));
    }
    const int32_t s = int8_ref::random_shift(rng);
    REQUIRE(mbqm(a, b, s) == int8_ref::mbqm(a, b, s));
    const auto small = static_cast<int32_t>(rng.uniform_int(-(1 << 16), 1 << 16));
    REQUIRE(mbqm(small, b, s) == int8_ref::mbqm(small, b, s));
    REQUIRE(piconas_mbqm(small, b, s) == mbqm(small, b, s));
    checked += 7;
  }
  MESSAGE("requantize values compared: " << checked);
}

#if PICONAS_S8_SIMD_AVAILABLE
// The SIMD kernels' requantization (one SMMULR of acc << (left + 1)) equals MBQM for every
// accumulator inside its precondition |acc| * 2^max(shift, 0) < 2^29, shift >= -29,
// multiplier != INT32_MIN:
// random values, the bounds themselves and, for right shifts, exact rounding ties of h.
TEST_CASE("requantize: SIMD requantization equals MBQM under its small-accumulator bound") {
  Rng rng(20261204);
  int64_t checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t m = i % 8 == 0 ? static_cast<int32_t>(rng.uniform_int(kMin + 1, kMax))
                                 : int8_ref::random_multiplier(rng);
    const auto s = static_cast<int32_t>(rng.uniform_int(PICONAS_S8_SIMD_MIN_SHIFT, 29));
    const int64_t bound = PICONAS_S8_SIMD_ACC_LIMIT >> (s > 0 ? s : 0);  // |acc| < bound
    const piconas_s8_requant r = piconas_s8_requant_of(m, s);
    const int64_t near = bound - 1 < 4096 ? bound - 1 : 4096;
    const int32_t accs[] = {static_cast<int32_t>(rng.uniform_int(-bound + 1, bound - 1)),
                            static_cast<int32_t>(rng.uniform_int(-near, near)),
                            static_cast<int32_t>(bound - 1), static_cast<int32_t>(1 - bound)};
    for (int32_t acc : accs) {
      INFO("acc " << acc << " m " << m << " s " << s);
      REQUIRE(piconas_s8_requantize(acc, r) == int8_ref::mbqm(acc, m, s));
      ++checked;
    }
  }
  // m = 2^30 halves an even acc exactly (h = acc / 2), so h = odd multiples of 2^(n-1) are
  // RDBPOT ties; |acc| < 2^29 for n <= 18.
  for (int32_t n = 1; n <= 18; ++n) {
    const piconas_s8_requant r = piconas_s8_requant_of(k2p30, -n);
    for (int32_t k = -300; k <= 300; ++k) {
      const int32_t acc = 2 * (k * (int32_t{1} << n) + (int32_t{1} << (n - 1)));
      REQUIRE(piconas_s8_requantize(acc, r) == int8_ref::mbqm(acc, k2p30, -n));
      ++checked;
    }
  }
  MESSAGE("SIMD requantize values compared: " << checked);
}
#endif

TEST_CASE("requantize: 32-bit-multiply requantization equals MBQM under its bound") {
  Rng rng(20261205);
  int64_t checked = 0;
  // Multipliers whose 16-bit halves are at their edges, plus the random ones of the kernels.
  const int32_t edge_m[] = {0, 1, 0xFFFF, 0x10000, k2p30, k2p30 + 0xFFFF, kMax, kMax - 0xFFFF};
  for (int i = 0; i < 200000; ++i) {
    int32_t m = i % 4 == 0 ? edge_m[i / 4 % 8] : int8_ref::random_multiplier(rng);
    if (m < 0) m = static_cast<int32_t>(rng.uniform_int(0, kMax));
    const auto s = static_cast<int32_t>(rng.uniform_int(-29, 29));
    const int64_t bound = PICONAS_S8_RQ32_LIMIT >> (s > 0 ? s : 0);  // |acc| < bound
    REQUIRE(piconas_s8_rq32_channel_ok(m, s, bound - 1));
    REQUIRE(!piconas_s8_rq32_channel_ok(m, s, bound));
    const piconas_s8_rq32 r = piconas_s8_rq32_of(m, s);
    const int64_t near = bound - 1 < 70000 ? bound - 1 : 70000;
    const auto around_2p16 = static_cast<int32_t>(
        rng.uniform_int(-(bound >> 16), bound >> 16) * 65536 + rng.uniform_int(-2, 2));
    const int32_t accs[] = {static_cast<int32_t>(rng.uniform_int(-bound + 1, bound - 1)),
                            static_cast<int32_t>(rng.uniform_int(-near, near)),
                            std::abs(around_2p16) < bound ? around_2p16 : 0,
                            static_cast<int32_t>(bound - 1), static_cast<int32_t>(1 - bound)};
    for (int32_t acc : accs) {
      INFO("acc " << acc << " m " << m << " s " << s);
      REQUIRE(piconas_s8_rq32_apply(acc, &r) == int8_ref::mbqm(acc, m, s));
      ++checked;
    }
  }
  // RDBPOT ties (m = 2^30 halves an even acc exactly), as for the SIMD requantization.
  for (int32_t n = 1; n <= 18; ++n) {
    const piconas_s8_rq32 r = piconas_s8_rq32_of(k2p30, -n);
    for (int32_t k = -300; k <= 300; ++k) {
      const int32_t acc = 2 * (k * (int32_t{1} << n) + (int32_t{1} << (n - 1)));
      REQUIRE(piconas_s8_rq32_apply(acc, &r) == int8_ref::mbqm(acc, k2p30, -n));
      ++checked;
    }
  }
  CHECK(!piconas_s8_rq32_channel_ok(-1, 0, 0));
  CHECK(!piconas_s8_rq32_channel_ok(k2p30, -30, 0));
  CHECK(!piconas_s8_rq32_channel_ok(k2p30, 30, 0));
  MESSAGE("32-bit requantize values compared: " << checked);
}

TEST_CASE("quantize_multiplier: golden values and the rounding / tiny edge cases") {
  int32_t m = -1, s = -1;
  auto q = [&](double value) { return piconas_quantize_multiplier(value, &m, &s); };
  REQUIRE(q(0.5) == PICONAS_S8_OK);
  CHECK(m == k2p30);
  CHECK(s == 0);
  REQUIRE(q(1.0) == PICONAS_S8_OK);
  CHECK(m == k2p30);
  CHECK(s == 1);
  REQUIRE(q(0.25) == PICONAS_S8_OK);
  CHECK((m == k2p30 && s == -1));
  REQUIRE(q(0.75) == PICONAS_S8_OK);
  CHECK((m == 1610612736 && s == 0));
  REQUIRE(q(0.3) == PICONAS_S8_OK);  // 0.6 * 2^31 = 1288490188.8
  CHECK((m == 1288490189 && s == -1));
  // q = 1 - 2^-33: q * 2^31 = 2^31 - 0.25 rounds to 2^31 -> (2^30, e + 1).
  REQUIRE(q(1.0 - std::ldexp(1.0, -33)) == PICONAS_S8_OK);
  CHECK((m == k2p30 && s == 1));
  REQUIRE(q(std::ldexp(1.0 - std::ldexp(1.0, -33), -5)) == PICONAS_S8_OK);
  CHECK((m == k2p30 && s == -4));
  // Just below the rounding edge: q * 2^31 = 2^31 - 1 exactly.
  REQUIRE(q(1.0 - std::ldexp(1.0, -31)) == PICONAS_S8_OK);
  CHECK((m == kMax && s == 0));
  // e = -31 is kept, e < -31 (M < 2^-32) becomes (0, 0).
  REQUIRE(q(std::ldexp(1.0, -32)) == PICONAS_S8_OK);
  CHECK((m == k2p30 && s == -31));
  REQUIRE(q(std::ldexp(0.9, -31)) == PICONAS_S8_OK);
  CHECK(s == -31);
  REQUIRE(q(std::ldexp(1.0, -33)) == PICONAS_S8_OK);
  CHECK((m == 0 && s == 0));
  REQUIRE(q(1e-12) == PICONAS_S8_OK);
  CHECK((m == 0 && s == 0));
  REQUIRE(q(0.0) == PICONAS_S8_OK);
  CHECK((m == 0 && s == 0));
  REQUIRE(q(std::ldexp(1.0, 30)) == PICONAS_S8_OK);
  CHECK((m == k2p30 && s == 31));
  CHECK(q(std::ldexp(1.0, 31)) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(q(-0.5) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(q(std::nan("")) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(q(INFINITY) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_quantize_multiplier(0.5, nullptr, &s) == PICONAS_S8_ERR_ARGUMENT);
}

TEST_CASE("quantize_multiplier: random M is represented within half a unit, MBQM ~ x * M") {
  Rng rng(7);
  for (int i = 0; i < 20000; ++i) {
    const double value =
        std::ldexp(rng.uniform(0.5, 1.0), static_cast<int>(rng.uniform_int(-31, 8)));
    int32_t m = 0, s = 0;
    REQUIRE(piconas_quantize_multiplier(value, &m, &s) == PICONAS_S8_OK);
    REQUIRE(m >= k2p30);
    // |m * 2^(s - 31) - M| <= 2^(s - 32): round to nearest of q * 2^31.
    REQUIRE(std::fabs(std::ldexp(static_cast<double>(m), s - 31) - value) <=
            std::ldexp(1.0, s - 32));
    if (s <= 0) {
      // Double rounding is off from round(x * M) by at most one step.
      const auto x = static_cast<int32_t>(rng.uniform_int(-(1 << 20), 1 << 20));
      REQUIRE(std::fabs(static_cast<double>(mbqm(x, m, s)) - x * value) <=
              1.001);  // + representation error of m
    }
  }
}
