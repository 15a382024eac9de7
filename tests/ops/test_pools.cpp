#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/avg_pool2d.h"
#include "ops/global_avg_pool.h"
#include "ops/max_pool2d.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

namespace {

int64_t in_numel(const PoolShape& s) { return s.batch * s.channels * s.in_h * s.in_w; }
int64_t out_numel(const PoolShape& s) { return s.batch * s.channels * s.out_h * s.out_w; }

std::vector<double> avg_pool(const PoolShape& s, const std::vector<double>& x) {
  std::vector<double> y(out_numel(s));
  avg_pool2d_forward(s, x.data(), y.data());
  return y;
}

// Distinct values spaced >= 0.01 apart in a shuffled order, so no window has a tie and a
// finite-difference step cannot change any argmax.
std::vector<double> distinct_values(int64_t n, uint64_t seed) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = -1.0 + 0.01 * static_cast<double>(i);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[i], v[rng.uniform_int(0, i)]);
  return v;
}

// The awkward windows the FD checks run over: stride 2 with padding, rectangular kernels,
// batch 1, odd sizes, and a 1x1 image.
std::vector<PoolShape> fd_shapes(bool count_include_pad) {
  std::vector<PoolShape> shapes;
  shapes.push_back(pool2d_shape({1, 1, 5, 5}, {3, 3, 2, 2, 1, 1, count_include_pad}));
  shapes.push_back(pool2d_shape({2, 3, 4, 7}, {2, 3, 2, 1, 1, 1, count_include_pad}));
  shapes.push_back(pool2d_shape({1, 2, 1, 1}, {1, 1, 1, 1, 0, 0, count_include_pad}));
  shapes.push_back(pool2d_shape({1, 2, 6, 5}, {2, 2, 2, 2, 0, 0, count_include_pad}));
  shapes.push_back(pool2d_shape({3, 1, 3, 3}, {3, 3, 1, 1, 1, 1, count_include_pad}));
  return shapes;
}

}  // namespace

TEST_CASE("avg_pool2d: golden values with and without counting the padding") {
  // x = 1..9 in a 3x3 image. Kernel 2, stride 1, no pad: means of the 2x2 blocks
  //   (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4, (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7.
  std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto s = pool2d_shape({1, 1, 3, 3}, {2, 2});
  CHECK(avg_pool(s, x) == std::vector<double>{3, 4, 6, 7});
  // Kernel 3, stride 2, pad 1: out 2x2, each window holds 4 real taps and 5 padding taps:
  //   sums 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28.
  // Excluding padding divides by 4 -> 3, 4, 6, 7; including it divides by 9.
  s = pool2d_shape({1, 1, 3, 3}, {3, 3, 2, 2, 1, 1, false});
  CHECK(avg_pool(s, x) == std::vector<double>{3, 4, 6, 7});
  s = pool2d_shape({1, 1, 3, 3}, {3, 3, 2, 2, 1, 1, true});
  auto y = avg_pool(s, x);
  CHECK(y[0] == doctest::Approx(12.0 / 9));
  CHECK(y[1] == doctest::Approx(16.0 / 9));
  CHECK(y[2] == doctest::Approx(24.0 / 9));
  CHECK(y[3] == doctest::Approx(28.0 / 9));
  // Backward, padding excluded, dy = 1 everywhere: each output spreads 1/4 over its 4 taps;
  // the centre (5) is in all four windows -> 1, edges in two -> 1/2, corners in one -> 1/4.
  s = pool2d_shape({1, 1, 3, 3}, {3, 3, 2, 2, 1, 1, false});
  std::vector<double> dy(4, 1.0), dx(9, 0.0);
  avg_pool2d_backward(s, dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25});
}

TEST_CASE("max_pool2d: golden values, argmax, first maximum on ties, padding never wins") {
  std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9}, y(4);
  std::vector<int32_t> arg(4);
  // Kernel 3, stride 2, pad 1 on 1..9: windows {1,2,4,5} {2,3,5,6} {4,5,7,8} {5,6,8,9}.
  auto s = pool2d_shape({1, 1, 3, 3}, {3, 3, 2, 2, 1, 1});
  max_pool2d_forward(s, x.data(), y.data(), arg.data());
  CHECK(y == std::vector<double>{5, 6, 8, 9});
  CHECK(arg == std::vector<int32_t>{4, 5, 7, 8});
  // All values -5: the zero padding must not win, and ties go to the first in-image tap
  // (row-major): windows start at (0,0), (0,1), (1,0), (1,1) -> 0, 1, 3, 4.
  std::vector<double> neg(9, -5.0);
  max_pool2d_forward(s, neg.data(), y.data(), arg.data());
  CHECK(y == std::vector<double>{-5, -5, -5, -5});
  CHECK(arg == std::vector<int32_t>{0, 1, 3, 4});
  // Tie inside one window: [[2, 7], [7, 1]] -> max 7 at flat index 1 (the first), not 2.
  std::vector<double> tie{2, 7, 7, 1}, y1(1);
  std::vector<int32_t> a1(1);
  max_pool2d_forward(pool2d_shape({1, 1, 2, 2}, {2, 2}), tie.data(), y1.data(), a1.data());
  CHECK(y1[0] == 7);
  CHECK(a1[0] == 1);
  // Backward routes dy to the argmax and accumulates when windows share a winner:
  // kernel 2, stride 1 on the 3x2 image [[1, 1], [9, 1], [1, 1]]: both windows pick index 2,
  // so dx[2] = 1.5 + 2.0.
  std::vector<double> x32{1, 1, 9, 1, 1, 1}, y2(2), dy{1.5, 2.0}, dx(6, 0.0);
  std::vector<int32_t> a2(2);
  auto s32 = pool2d_shape({1, 1, 3, 2}, {2, 2});
  max_pool2d_forward(s32, x32.data(), y2.data(), a2.data());
  CHECK(a2 == std::vector<int32_t>{2, 2});
  max_pool2d_backward(s32, a2.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0, 0, 3.5, 0, 0, 0});
}

TEST_CASE("global_avg_pool: golden values") {
  // Planes [1, 2, 3, 4] -> 2.5 and [-1, 1, 0, 4] -> 1; dy = (2, -4) spreads 2/4 and -4/4.
  std::vector<double> x{1, 2, 3, 4, -1, 1, 0, 4}, y(2), dy{2, -4}, dx(8, 0.0);
  global_avg_pool_forward<double>(2, 4, x.data(), y.data());
  CHECK(y == std::vector<double>{2.5, 1});
  global_avg_pool_backward<double>(2, 4, dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0.5, 0.5, 0.5, 0.5, -1, -1, -1, -1});
}

TEST_CASE("avg_pool2d: finite-difference gradients, padding counted and not") {
  for (bool include : {false, true}) {
    for (const PoolShape& s : fd_shapes(include)) {
      CAPTURE(include);
      CAPTURE(s.in_h);
      CAPTURE(s.in_w);
      auto x = random_values(in_numel(s), 101);
      auto r = random_values(out_numel(s), 102);
      auto forward = [&] { return avg_pool(s, x); };
      auto dx = prefilled(x.size());
      avg_pool2d_backward(s, r.data(), dx.data());
      check_gradient("avg_pool2d dx", x, forward, r, dx);
    }
  }
}

TEST_CASE("max_pool2d: finite-difference gradients on tie-free inputs") {
  for (const PoolShape& s : fd_shapes(false)) {
    CAPTURE(s.in_h);
    CAPTURE(s.in_w);
    auto x = distinct_values(in_numel(s), 111);
    auto r = random_values(out_numel(s), 112);
    std::vector<int32_t> arg(out_numel(s));
    auto forward = [&] {
      std::vector<double> y(out_numel(s));
      max_pool2d_forward(s, x.data(), y.data(), arg.data());
      return y;
    };
    forward();
    auto dx = prefilled(x.size());
    max_pool2d_backward(s, arg.data(), r.data(), dx.data());
    check_gradient("max_pool2d dx", x, forward, r, dx);
  }
}

TEST_CASE("global_avg_pool: finite-difference gradients, including spatial 1") {
  for (auto [planes, spatial] : {std::pair<int64_t, int64_t>{1, 1}, {6, 7}, {2, 49}}) {
    CAPTURE(planes);
    CAPTURE(spatial);
    auto x = random_values(planes * spatial, 121);
    auto r = random_values(planes, 122);
    auto forward = [&] {
      std::vector<double> y(planes);
      global_avg_pool_forward(planes, spatial, x.data(), y.data());
      return y;
    };
    auto dx = prefilled(x.size());
    global_avg_pool_backward(planes, spatial, r.data(), dx.data());
    check_gradient("global_avg_pool dx", x, forward, r, dx);
  }
}

TEST_CASE("global_avg_pool: parallel path (> 32k values) matches per-plane calls") {
  const int64_t planes = 37, spatial = 1031;  // 38147 values
  auto xd = random_values(planes * spatial, 131);
  std::vector<float> x(xd.begin(), xd.end()), y(planes), one(1);
  global_avg_pool_forward<float>(planes, spatial, x.data(), y.data());
  int mismatches = 0;
  for (int64_t p = 0; p < planes; ++p) {
    global_avg_pool_forward<float>(1, spatial, x.data() + p * spatial, one.data());
    mismatches += one[0] != y[p];
  }
  CHECK(mismatches == 0);
}

TEST_CASE("pool2d_shape: errors name the window and shape") {
  CHECK_THROWS_AS(pool2d_shape({1, 1, 2, 2}, {3, 3}), Error);
  CHECK_THROWS_AS(pool2d_shape({1, 1, 4, 4}, {2, 2, 1, 1, 2, 2}), Error);
}
