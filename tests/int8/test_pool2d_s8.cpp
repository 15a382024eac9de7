// avg_pool2d_s8 (incl. global average pool) and max_pool2d_s8 against the independent
// reference on thousands of random shapes, golden rounding cases, and argument checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/avg_pool2d_s8.h"
#include "ops/int8/max_pool2d_s8.h"

using namespace piconas;
using int8_ref::Dims;

namespace {

struct PoolCase {
  int8_ref::ConvRef ref;
  int kh = 1, kw = 1;
  Dims in{}, out{};
  std::vector<int8_t> x;
};

int run(bool avg, const PoolCase& c, std::vector<int8_t>& y, bool include_pad = false,
        int pad_value = 0) {
  const piconas_pool_params p{
      {c.ref.stride_h, c.ref.stride_w}, {c.ref.pad_h, c.ref.pad_w}, {c.ref.act_min, c.ref.act_max}};
  const piconas_dims in{c.in.n, c.in.h, c.in.w, c.in.c}, out{c.out.n, c.out.h, c.out.w, c.out.c};
  y.assign(static_cast<size_t>(c.out.size() > 0 ? c.out.size() : 1), 99);
  if (include_pad)
    return piconas_avg_pool2d_include_pad_s8(&p, &in, c.x.data(), {c.kh, c.kw}, pad_value, &out,
                                             y.data());
  return avg ? piconas_avg_pool2d_s8(&p, &in, c.x.data(), {c.kh, c.kw}, &out, y.data())
             : piconas_max_pool2d_s8(&p, &in, c.x.data(), {c.kh, c.kw}, &out, y.data());
}

PoolCase random_case(Rng& rng) {
  PoolCase c;
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  c.in = {r(1, 2), r(1, 10), r(1, 10), r(1, 5)};
  c.kh = r(1, 5);
  c.kw = r(1, 5);
  c.ref.stride_h = r(1, 3);
  c.ref.stride_w = r(1, 3);
  c.ref.pad_h = r(0, c.kh - 1);  // every window keeps at least one tap
  c.ref.pad_w = r(0, c.kw - 1);
  auto size = [](int in, int k, int s, int p) {
    const int span = in + 2 * p - k;
    return span < 0 ? 1 : span / s + 1;
  };
  // Largest output whose last window still starts inside the image.
  auto max_size = [](int in, int s, int p) { return (in - 1 + p) / s + 1; };
  int oh = std::min(size(c.in.h, c.kh, c.ref.stride_h, c.ref.pad_h),
                    max_size(c.in.h, c.ref.stride_h, c.ref.pad_h));
  int ow = std::min(size(c.in.w, c.kw, c.ref.stride_w, c.ref.pad_w),
                    max_size(c.in.w, c.ref.stride_w, c.ref.pad_w));
  if (r(0, 3) == 0) oh = max_size(c.in.h, c.ref.stride_h, c.ref.pad_h);  // SAME-like ragged edge
  if (r(0, 3) == 0) ow = max_size(c.in.w, c.ref.stride_w, c.ref.pad_w);
  c.out = {c.in.n, oh, ow, c.in.c};
  const int z = r(-128, 127);
  int8_ref::random_activation(rng, z, c.ref.act_min, c.ref.act_max);
  c.x = int8_ref::random_s8_vector(rng, c.in.size());
  if (r(0, 4) == 0) {
    for (auto& v : c.x) v = static_cast<int8_t>(r(-3, 3));  // many exact .5 averages
  }
  return c;
}

}  // namespace

TEST_CASE("avg_pool2d_s8 / max_pool2d_s8: bit exact on 5000 random shapes each") {
  Rng rng(2024);
  int64_t outputs = 0;
  for (int i = 0; i < 5000; ++i) {
    const PoolCase c = random_case(rng);
    INFO("case " << i << " in " << c.in.h << "x" << c.in.w << " k " << c.kh << "x" << c.kw << " s "
                 << c.ref.stride_h << "," << c.ref.stride_w << " p " << c.ref.pad_h << ","
                 << c.ref.pad_w << " out " << c.out.h << "x" << c.out.w);
    for (bool avg : {true, false}) {
      std::vector<int8_t> expected, y;
      int8_ref::pool2d(avg, c.ref, c.kh, c.kw, c.in, c.x, c.out, expected);
      REQUIRE(run(avg, c, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
      outputs += c.out.size();
    }
  }
  MESSAGE("pool outputs compared: " << outputs);
}

TEST_CASE("avg_pool2d_include_pad_s8: bit exact on 5000 random shapes, padding counted") {
  Rng rng(2025);
  int differ = 0;
  for (int i = 0; i < 5000; ++i) {
    const PoolCase c = random_case(rng);
    INFO("case " << i << " in " << c.in.h << "x" << c.in.w << " k " << c.kh << "x" << c.kw << " s "
                 << c.ref.stride_h << "," << c.ref.stride_w << " p " << c.ref.pad_h << ","
                 << c.ref.pad_w << " out " << c.out.h << "x" << c.out.w);
    std::vector<int8_t> expected, y, excluded;
    const int zero_point = static_cast<int>(rng.uniform_int(-128, 127));
    int8_ref::pool2d(true, c.ref, c.kh, c.kw, c.in, c.x, c.out, expected, true, zero_point);
    REQUIRE(run(true, c, y, true, zero_point) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(run(true, c, excluded) == PICONAS_S8_OK);
    differ += excluded != y;
  }
  // The two divisors give other averages on the windows that overlap the padding.
  CHECK(differ > 1000);
}

TEST_CASE("avg_pool2d_include_pad_s8: golden, the padding taps count as real zeros") {
  // A 2x2 image of 9s, 3x3 window, padding 1, stride 1, zero point 0: every window holds the 4
  // image taps, sum 36: 36 / 9 = 4 (the in-image average would be 9).
  PoolCase c;
  c.in = {1, 2, 2, 1};
  c.kh = c.kw = 3;
  c.ref.pad_h = c.ref.pad_w = 1;
  c.out = {1, 2, 2, 1};
  c.x = {9, 9, 9, 9};
  std::vector<int8_t> y;
  REQUIRE(run(true, c, y, true) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{4, 4, 4, 4});
  REQUIRE(run(true, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{9, 9, 9, 9});
  // Rounding half away from zero over 9: 40.5 / 9 = 4.5 -> 5 cannot occur; -40 / 9 = -4.44 -> -4,
  // -41 / 9 = -4.56 -> -5.
  c.x = {-10, -10, -10, -10};
  REQUIRE(run(true, c, y, true) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-4, -4, -4, -4});
  c.x = {-11, -10, -10, -10};
  REQUIRE(run(true, c, y, true) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-5, -5, -5, -5});
  // Zero point -128 (after a ReLU): the 5 padding taps hold -128 each. 4 image taps of -128 + 9:
  // (4 * 9 - 9 * 128) / 9 = -124; the padding pulls toward the zero point, not toward q = 0.
  c.x = {-119, -119, -119, -119};
  REQUIRE(run(true, c, y, true, -128) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-124, -124, -124, -124});
  // Bad arguments are refused as by the in-image average, and a zero point outside int8.
  PoolCase bad = c;
  bad.ref.pad_h = 3;
  CHECK(run(true, bad, y, true) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(run(true, c, y, true, 128) == PICONAS_S8_ERR_ARGUMENT);
}

TEST_CASE("avg_pool2d_s8: golden half-way rounding, away from zero, over in-image taps only") {
  PoolCase c;
  c.in = {1, 1, 4, 1};
  c.kh = 1;
  c.kw = 2;
  c.ref.stride_w = 2;
  c.out = {1, 1, 2, 1};
  c.x = {1, 2, -1, -2};  // 1.5 -> 2, -1.5 -> -2
  std::vector<int8_t> y;
  REQUIRE(run(true, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{2, -2});
  c.x = {2, 3, -3, -2};  // 2.5 -> 3, -2.5 -> -3
  REQUIRE(run(true, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{3, -3});
  // Padding 1, window 2, stride 2 on width 3: windows {pad, x0} and {x1, x2}: n = 1 and 2.
  c.in = {1, 1, 3, 1};
  c.ref.pad_w = 1;
  c.x = {-7, 4, 5};
  REQUIRE(run(true, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-7, 5});  // 4.5 -> 5
  REQUIRE(run(false, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-7, 5});
  c.ref.act_min = -3;  // clamp
  REQUIRE(run(false, c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-3, 5});
}

TEST_CASE("global_avg_pool2d_s8: equals the full-window average pool and the reference") {
  Rng rng(77);
  for (int i = 0; i < 500; ++i) {
    PoolCase c;
    c.in = {static_cast<int>(rng.uniform_int(1, 2)), static_cast<int>(rng.uniform_int(1, 12)),
            static_cast<int>(rng.uniform_int(1, 12)), static_cast<int>(rng.uniform_int(1, 8))};
    c.kh = c.in.h;
    c.kw = c.in.w;
    c.out = {c.in.n, 1, 1, c.in.c};
    c.x = int8_ref::random_s8_vector(rng, c.in.size());
    std::vector<int8_t> expected;
    int8_ref::pool2d(true, c.ref, c.kh, c.kw, c.in, c.x, c.out, expected);
    const piconas_dims in{c.in.n, c.in.h, c.in.w, c.in.c}, out{c.out.n, 1, 1, c.out.c};
    std::vector<int8_t> y(static_cast<size_t>(c.out.size()), 99);
    REQUIRE(piconas_global_avg_pool2d_s8({-128, 127}, &in, c.x.data(), &out, y.data()) == 0);
    REQUIRE(y == expected);
  }
  const piconas_dims in{1, 2, 2, 1}, bad_out{1, 2, 1, 1};
  const int8_t x[4] = {1, 2, 3, 4};
  int8_t y[2] = {99, 99};
  CHECK(piconas_global_avg_pool2d_s8({-128, 127}, &in, x, &bad_out, y) == PICONAS_S8_ERR_ARGUMENT);
}

TEST_CASE("avg/max_pool2d_s8: windows without an image tap and bad arguments are refused") {
  PoolCase c;
  c.in = {1, 3, 3, 2};
  c.kh = c.kw = 2;
  c.out = {1, 2, 2, 2};
  c.x.assign(18, 1);
  std::vector<int8_t> y;
  for (bool avg : {true, false}) {
    REQUIRE(run(avg, c, y) == PICONAS_S8_OK);
    PoolCase bad = c;
    bad.ref.pad_h = 2;  // the first window row lies entirely in the padding
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
    for (int8_t v : y) REQUIRE(v == 99);
    bad = c;
    bad.out.w = 4;  // the last window starts past the image
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
    bad = c;
    bad.out.c = 3;
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
    bad = c;
    bad.ref.stride_h = 0;
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
    bad = c;
    bad.kw = 0;
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
    bad = c;
    bad.ref.act_max = 128;
    CHECK(run(avg, bad, y) == PICONAS_S8_ERR_ARGUMENT);
  }
}
