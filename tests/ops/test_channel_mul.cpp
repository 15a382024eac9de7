#include <doctest/doctest.h>

#include <vector>

#include "misc_gradcheck.h"
#include "ops/channel_mul.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("channel_mul: golden forward and accumulating backward") {
  // Two planes of three values, gates 2 and -0.5: y = [2, 4, 6, 2, -1, 0].
  // dy = [1, 1, 1, 1, 2, 3]: dx += dy * g = [2, 2, 2, -0.5, -1, -1.5];
  // dg += sum dy * x = [1 + 2 + 3, -4 + 4 + 0] = [6, 0]; all buffers start at 1.
  std::vector<double> x{1, 2, 3, -4, 2, 0}, g{2, -0.5}, y(6), dy{1, 1, 1, 1, 2, 3};
  std::vector<double> dx(6, 1.0), dg(2, 1.0);
  channel_mul_forward<double>(2, 3, x.data(), g.data(), y.data());
  CHECK(y == std::vector<double>{2, 4, 6, 2, -1, 0});
  channel_mul_backward<double>(2, 3, x.data(), g.data(), dy.data(), dx.data(), dg.data());
  CHECK(dx == std::vector<double>{3, 3, 3, 0.5, 0, -0.5});
  CHECK(dg == std::vector<double>{7, 1});
  channel_mul_backward<double>(2, 3, x.data(), g.data(), dy.data(), nullptr, dg.data());
  CHECK(dg == std::vector<double>{13, 1});
}

TEST_CASE("channel_mul: equals its naive twin on awkward sizes") {
  for (auto [planes, plane] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 1}, {1, 17}, {7, 15}, {64, 33}, {5, 40000}}) {
    CAPTURE(planes);
    CAPTURE(plane);
    auto x = random_values(planes * plane, 171), g = random_values(planes, 172);
    std::vector<double> y(x.size()), want(x.size());
    channel_mul_forward(planes, plane, x.data(), g.data(), y.data());
    channel_mul_forward_naive(planes, plane, x.data(), g.data(), want.data());
    CHECK(y == want);
  }
}

TEST_CASE("channel_mul: finite-difference gradients of the input and the gate") {
  for (auto [planes, plane] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 7}}) {
    CAPTURE(planes);
    CAPTURE(plane);
    const int64_t n = planes * plane;
    auto x = random_values(n, 181), g = random_values(planes, 182), r = random_values(n, 183);
    auto forward = [&] {
      std::vector<double> y(static_cast<size_t>(n));
      channel_mul_forward(planes, plane, x.data(), g.data(), y.data());
      return y;
    };
    auto dx = prefilled(n), dg = prefilled(planes);
    channel_mul_backward(planes, plane, x.data(), g.data(), r.data(), dx.data(), dg.data());
    check_gradient("channel_mul dx", x, forward, r, dx);
    check_gradient("channel_mul dg", g, forward, r, dg);
  }
}
