#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/layernorm2d.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("layernorm2d: golden values, normalised over channels at each position") {
  // N = 1, C = 2, H*W = 2; NCHW order is c0 (pos 0, pos 1) then c1 (pos 0, pos 1).
  // Position 0 holds (1, 3): mean 2, biased var 1. Position 1 holds (5, 5): mean 5, var 0.
  // gamma = (2, 1), beta = (0, 1).
  // eps = 1: invstd = 1/sqrt(2) =: k at pos 0, 1 at pos 1; xhat(pos 0) = (-k, k), xhat(pos 1) = 0
  //   y(c0) = (2 * -k + 0, 0) ; y(c1) = (k + 1, 1).
  // eps = 0: pos 0 gives xhat (-1, 1), so y(c0, pos 0) = -2 and y(c1, pos 0) = 2.
  NormShape s{1, 2, 2};
  std::vector<double> x{1, 5, 3, 5}, gamma{2, 1}, beta{0, 1}, y(4), mean(2), invstd(2);
  layernorm2d_forward(s, x.data(), gamma.data(), beta.data(), 1.0, y.data(), mean.data(),
                      invstd.data());
  const double k = 1.0 / std::sqrt(2.0);
  CHECK(mean == std::vector<double>{2, 5});
  CHECK(invstd[0] == doctest::Approx(k));
  CHECK(invstd[1] == doctest::Approx(1.0));
  CHECK(y[0] == doctest::Approx(-2 * k));
  CHECK(y[1] == doctest::Approx(0));
  CHECK(y[2] == doctest::Approx(k + 1));
  CHECK(y[3] == doctest::Approx(1));
  layernorm2d_forward(s, x.data(), gamma.data(), beta.data(), 0.0, y.data(), mean.data(),
                      invstd.data());
  CHECK(y[0] == doctest::Approx(-2));
  CHECK(y[2] == doctest::Approx(2));
}

TEST_CASE("layernorm2d: finite-difference gradients of x, gamma, beta") {
  // (2, 3, 300) spans two 256-position tiles per image; (1, 1, 3) has a single channel.
  for (NormShape s : {NormShape{1, 3, 5}, NormShape{2, 4, 1}, NormShape{1, 1, 3},
                      NormShape{2, 3, 300}}) {
    CAPTURE(s.batch);
    CAPTURE(s.channels);
    CAPTURE(s.spatial);
    const int64_t n = s.batch * s.channels * s.spatial;
    auto x = random_values(n, 61, -2, 2);
    auto gamma = random_values(s.channels, 62, 0.5, 1.5);
    auto beta = random_values(s.channels, 63);
    auto r = random_values(n, 64);
    std::vector<double> mean(s.batch * s.spatial), invstd(s.batch * s.spatial);
    auto forward = [&] {
      std::vector<double> y(n);
      layernorm2d_forward(s, x.data(), gamma.data(), beta.data(), 1e-5, y.data(), mean.data(),
                          invstd.data());
      return y;
    };
    forward();
    auto dx = prefilled(n), dg = prefilled(s.channels), db = prefilled(s.channels);
    layernorm2d_backward(s, x.data(), gamma.data(), mean.data(), invstd.data(), r.data(),
                         dx.data(), dg.data(), db.data());
    check_gradient("layernorm2d dx", x, forward, r, dx);
    check_gradient("layernorm2d dgamma", gamma, forward, r, dg);
    check_gradient("layernorm2d dbeta", beta, forward, r, db);
  }
}

TEST_CASE("layernorm2d: float matches float64 on a large offset") {
  NormShape s{2, 8, 33};
  const int64_t n = 2 * 8 * 33;
  auto xd = random_values(n, 71);
  for (double& v : xd) v = 1000.0 + 0.01 * v;
  std::vector<float> xf(xd.begin(), xd.end());
  std::vector<double> xr(xf.begin(), xf.end());
  auto gd = random_values(8, 72), bd = random_values(8, 73);
  std::vector<float> gf(gd.begin(), gd.end()), bf(bd.begin(), bd.end()), yf(n), mf(66), sf(66);
  std::vector<double> yd(n), md(66), sd(66);
  layernorm2d_forward<float>(s, xf.data(), gf.data(), bf.data(), 1e-5f, yf.data(), mf.data(),
                             sf.data());
  layernorm2d_forward<double>(s, xr.data(), gd.data(), bd.data(), 1e-5, yd.data(), md.data(),
                              sd.data());
  CHECK(max_rel_diff(yf, yd) < 1e-5);
}
