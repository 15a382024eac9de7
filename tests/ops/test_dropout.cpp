#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/dropout.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("dropout: mask statistics and inverted scaling") {
  // p = 0.3 over 100000 values: the dropped fraction has std sqrt(0.3 * 0.7 / 1e5) = 0.00145,
  // so +-0.01 is a ~7 sigma band. Kept values are scaled by 1 / 0.7, so mean(y) ~ mean(x) = 1.
  const int64_t n = 100000;
  std::vector<float> x(n, 1.f), mask(n), y(n);
  Rng rng(2024);
  dropout_forward<float>(n, x.data(), 0.3f, rng, mask.data(), y.data());
  int64_t dropped = 0, bad_values = 0;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    dropped += mask[i] == 0.f;
    bad_values += !(mask[i] == 0.f || mask[i] == 1.f / 0.7f) + (y[i] != x[i] * mask[i]);
    sum += y[i];
  }
  CHECK(bad_values == 0);
  CHECK(static_cast<double>(dropped) / n == doctest::Approx(0.3).epsilon(0.01 / 0.3));
  CHECK(sum / n == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("dropout: a seed fixes the mask; another seed changes it") {
  const int64_t n = 257;
  auto x = random_values(n, 171);
  std::vector<double> m1(n), m2(n), m3(n), y1(n), y2(n), y3(n);
  Rng a(5), b(5), c(6);
  dropout_forward(n, x.data(), 0.5, a, m1.data(), y1.data());
  dropout_forward(n, x.data(), 0.5, b, m2.data(), y2.data());
  dropout_forward(n, x.data(), 0.5, c, m3.data(), y3.data());
  CHECK(m1 == m2);
  CHECK(y1 == y2);
  CHECK(m1 != m3);
  // The mask is drawn in index order, one uniform() per value: replay it by hand.
  Rng replay(5);
  int mismatches = 0;
  for (int64_t i = 0; i < n; ++i) mismatches += m1[i] != (replay.uniform() >= 0.5 ? 2.0 : 0.0);
  CHECK(mismatches == 0);
}

TEST_CASE("dropout: p = 0 is the identity") {
  const int64_t n = 40000;  // above the parallel threshold
  auto x = random_values(n, 181);
  std::vector<double> mask(n, -1.0), y(n), dy = random_values(n, 182), dx(n, 0.0);
  Rng rng(1);
  dropout_forward(n, x.data(), 0.0, rng, mask.data(), y.data());
  CHECK(y == x);
  dropout_backward(n, mask.data(), dy.data(), dx.data());
  CHECK(dx == dy);
}

TEST_CASE("dropout: finite-difference gradient with the mask fixed by the seed") {
  for (int64_t n : {1, 31}) {
    CAPTURE(n);
    auto x = random_values(n, 191), r = random_values(n, 192);
    std::vector<double> mask(n);
    auto forward = [&] {
      std::vector<double> y(n);
      Rng rng(77);
      dropout_forward(n, x.data(), 0.4, rng, mask.data(), y.data());
      return y;
    };
    forward();
    auto dx = prefilled(n);
    dropout_backward(n, mask.data(), r.data(), dx.data());
    check_gradient("dropout dx", x, forward, r, dx);
  }
}

TEST_CASE("dropout: p outside [0, 1) is an error") {
  std::vector<double> x(4), mask(4), y(4);
  Rng rng(1);
  CHECK_THROWS_WITH_AS(dropout_forward(4, x.data(), 1.0, rng, mask.data(), y.data()),
                       "dropout: p = 1 must be in [0, 1)", Error);
  CHECK_THROWS_WITH_AS(dropout_forward(4, x.data(), -0.1, rng, mask.data(), y.data()),
                       "dropout: p = -0.1 must be in [0, 1)", Error);
}
