#include <doctest/doctest.h>

#include <vector>

#include "misc_gradcheck.h"
#include "ops/pixel_mul.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("pixel_mul: golden forward and accumulating backward") {
  // One image, two channels of three pixels, gates [2, -0.5, 0]: y = [2, -1, 0, -8, -1, 0].
  // dy = [1, 1, 1, 1, 2, 3]: dx += dy * g = [2, -0.5, 0, 2, -1, 0];
  // dg += sum_c dy * x = [1 - 4, 2 + 4, 3 + 0] = [-3, 6, 3]; all buffers start at 1.
  const PixelMulShape s{1, 2, 3};
  std::vector<double> x{1, 2, 3, -4, 2, 0}, g{2, -0.5, 0}, y(6), dy{1, 1, 1, 1, 2, 3};
  std::vector<double> dx(6, 1.0), dg(3, 1.0);
  pixel_mul_forward<double>(s, x.data(), g.data(), y.data());
  CHECK(y == std::vector<double>{2, -1, 0, -8, -1, 0});
  pixel_mul_backward<double>(s, x.data(), g.data(), dy.data(), dx.data(), dg.data());
  CHECK(dx == std::vector<double>{3, 0.5, 1, 3, 0, 1});
  CHECK(dg == std::vector<double>{-2, 7, 4});
  pixel_mul_backward<double>(s, x.data(), g.data(), dy.data(), nullptr, dg.data());
  CHECK(dg == std::vector<double>{-5, 13, 7});
}

TEST_CASE("pixel_mul: equals its naive twin on awkward sizes") {
  for (const PixelMulShape s : std::vector<PixelMulShape>{
           {1, 1, 1}, {3, 1, 1}, {1, 17, 1}, {2, 7, 15}, {3, 64, 33}, {1, 5, 40000}}) {
    CAPTURE(s.images);
    CAPTURE(s.channels);
    CAPTURE(s.plane);
    auto x = random_values(s.images * s.channels * s.plane, 271);
    auto g = random_values(s.images * s.plane, 272);
    std::vector<double> y(x.size()), want(x.size());
    pixel_mul_forward(s, x.data(), g.data(), y.data());
    pixel_mul_forward_naive(s, x.data(), g.data(), want.data());
    CHECK(y == want);
  }
}

TEST_CASE("pixel_mul: finite-difference gradients of the input and the gate") {
  for (const PixelMulShape s : std::vector<PixelMulShape>{{1, 1, 1}, {2, 3, 7}}) {
    CAPTURE(s.channels);
    const int64_t n = s.images * s.channels * s.plane;
    auto x = random_values(n, 281), g = random_values(s.images * s.plane, 282);
    auto r = random_values(n, 283);
    auto forward = [&] {
      std::vector<double> y(static_cast<size_t>(n));
      pixel_mul_forward(s, x.data(), g.data(), y.data());
      return y;
    };
    auto dx = prefilled(n), dg = prefilled(s.images * s.plane);
    pixel_mul_backward(s, x.data(), g.data(), r.data(), dx.data(), dg.data());
    check_gradient("pixel_mul dx", x, forward, r, dx);
    check_gradient("pixel_mul dg", g, forward, r, dg);
  }
}
