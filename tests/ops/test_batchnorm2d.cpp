#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/batchnorm2d.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("batchnorm2d: train golden values and running-stat update") {
  // One channel, x = [1, 2, 3, 4] (N = 1, H*W = 4), gamma = 2, beta = 0.5, eps = 0.
  // mean = 2.5; biased var = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; unbiased = 5 / 3.
  // y = 2 * (x - 2.5) / sqrt(1.25) + 0.5.
  // momentum 0.1, running (0, 1): mean 0.9*0 + 0.1*2.5 = 0.25, var 0.9*1 + 0.1*5/3 = 1.0666...
  NormShape s{1, 1, 4};
  std::vector<double> x{1, 2, 3, 4}, gamma{2}, beta{0.5}, y(4), mean(1), invstd(1);
  std::vector<double> run_mean{0.0}, run_var{1.0};
  batchnorm2d_forward_train(s, x.data(), gamma.data(), beta.data(), 0.0, 0.1, run_mean.data(),
                            run_var.data(), y.data(), mean.data(), invstd.data());
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(2 * (x[i] - 2.5) / std::sqrt(1.25) + 0.5).epsilon(1e-14));
  CHECK(mean[0] == doctest::Approx(2.5).epsilon(1e-15));
  CHECK(invstd[0] == doctest::Approx(1 / std::sqrt(1.25)).epsilon(1e-15));
  CHECK(run_mean[0] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(run_var[0] == doctest::Approx(0.9 + 0.1 * 5.0 / 3.0).epsilon(1e-15));
}

TEST_CASE("batchnorm2d: statistics span batch and spatial, per channel") {
  // N = 2, C = 2, H*W = 1: channel 0 sees [1, 3], channel 1 sees [10, 30].
  // c0: mean 2, biased var 1, unbiased 2; c1: mean 20, biased var 100, unbiased 200.
  // momentum 1 puts the batch statistics straight into the running buffers.
  NormShape s{2, 2, 1};
  std::vector<double> x{1, 10, 3, 30}, gamma{1, 1}, beta{0, 0}, y(4), mean(2), invstd(2);
  std::vector<double> run_mean{5, 5}, run_var{5, 5};
  batchnorm2d_forward_train(s, x.data(), gamma.data(), beta.data(), 0.0, 1.0, run_mean.data(),
                            run_var.data(), y.data(), mean.data(), invstd.data());
  CHECK(run_mean == std::vector<double>{2, 20});
  CHECK(run_var[0] == doctest::Approx(2));
  CHECK(run_var[1] == doctest::Approx(200));
  CHECK(y[0] == doctest::Approx(-1));
  CHECK(y[1] == doctest::Approx(-1));
  CHECK(y[2] == doctest::Approx(1));
  CHECK(y[3] == doctest::Approx(1));
}

TEST_CASE("batchnorm2d: eval uses the running statistics, not the batch") {
  // running mean 1, running var 4, gamma 2, beta 0.5, eps 0: y = 2 (x - 1) / 2 + 0.5 = x - 0.5,
  // whatever the batch statistics are.
  NormShape s{1, 1, 3};
  std::vector<double> x{0, 7, 100}, gamma{2}, beta{0.5}, rm{1}, rv{4}, y(3);
  batchnorm2d_forward_eval(s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 0.0,
                           y.data());
  CHECK(y == std::vector<double>{-0.5, 6.5, 99.5});
  // Backward of the affine map: dx = dy * gamma / sqrt(var) = dy; dgamma = sum dy * (x - 1) / 2.
  std::vector<double> dy{1, 1, 2}, dx(3, 0.0), dg{0.0}, db{0.0};
  batchnorm2d_backward_eval(s, x.data(), gamma.data(), rm.data(), rv.data(), 0.0, dy.data(),
                            dx.data(), dg.data(), db.data());
  CHECK(dx == std::vector<double>{1, 1, 2});
  CHECK(dg[0] == doctest::Approx((-1 + 6 + 2 * 99) / 2.0));
  CHECK(db[0] == 4);
}

TEST_CASE("batchnorm2d: train finite-difference gradients through the batch statistics") {
  for (NormShape s : {NormShape{1, 3, 5}, NormShape{3, 2, 1}, NormShape{2, 1, 7}}) {
    CAPTURE(s.batch);
    CAPTURE(s.channels);
    CAPTURE(s.spatial);
    const int64_t n = s.batch * s.channels * s.spatial;
    auto x = random_values(n, 31, -2, 2);
    auto gamma = random_values(s.channels, 32, 0.5, 1.5);
    auto beta = random_values(s.channels, 33);
    auto r = random_values(n, 34);
    std::vector<double> mean(s.channels), invstd(s.channels);
    auto forward = [&] {
      std::vector<double> y(n), rm(s.channels, 0.0), rv(s.channels, 1.0);
      batchnorm2d_forward_train(s, x.data(), gamma.data(), beta.data(), 1e-5, 0.1, rm.data(),
                                rv.data(), y.data(), mean.data(), invstd.data());
      return y;
    };
    forward();
    auto dx = prefilled(n), dg = prefilled(s.channels), db = prefilled(s.channels);
    batchnorm2d_backward_train(s, x.data(), gamma.data(), mean.data(), invstd.data(), r.data(),
                               dx.data(), dg.data(), db.data());
    check_gradient("batchnorm2d train dx", x, forward, r, dx);
    check_gradient("batchnorm2d train dgamma", gamma, forward, r, dg);
    check_gradient("batchnorm2d train dbeta", beta, forward, r, db);
  }
}

TEST_CASE("batchnorm2d: eval finite-difference gradients") {
  NormShape s{2, 3, 5};
  const int64_t n = 30;
  auto x = random_values(n, 41, -2, 2), gamma = random_values(3, 42), beta = random_values(3, 43);
  std::vector<double> rm{0.1, -0.2, 0.3}, rv{0.5, 1.5, 2.0};
  auto r = random_values(n, 44);
  auto forward = [&] {
    std::vector<double> y(n);
    batchnorm2d_forward_eval(s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5,
                             y.data());
    return y;
  };
  auto dx = prefilled(n), dg = prefilled(3), db = prefilled(3);
  batchnorm2d_backward_eval(s, x.data(), gamma.data(), rm.data(), rv.data(), 1e-5, r.data(),
                            dx.data(), dg.data(), db.data());
  check_gradient("batchnorm2d eval dx", x, forward, r, dx);
  check_gradient("batchnorm2d eval dgamma", gamma, forward, r, dg);
  check_gradient("batchnorm2d eval dbeta", beta, forward, r, db);
}

TEST_CASE("batchnorm2d: float statistics stay accurate when |mean| >> std") {
  // x = 1000 + 0.01 * u; a one-pass E[x^2] - E[x]^2 in float would lose the variance entirely.
  NormShape s{4, 2, 50};
  const int64_t n = 400;
  auto xd = random_values(n, 51);
  for (double& v : xd) v = 1000.0 + 0.01 * v;
  std::vector<float> xf(xd.begin(), xd.end());
  std::vector<double> xr(xf.begin(), xf.end());  // the float inputs, exactly, in double
  std::vector<float> gf{1, 1}, bf{0, 0}, yf(n), mf(2), sf(2), rmf{0, 0}, rvf{1, 1};
  std::vector<double> gd{1, 1}, bd{0, 0}, yd(n), md(2), sd(2), rmd{0, 0}, rvd{1, 1};
  batchnorm2d_forward_train<float>(s, xf.data(), gf.data(), bf.data(), 1e-5f, 0.1f, rmf.data(),
                                   rvf.data(), yf.data(), mf.data(), sf.data());
  batchnorm2d_forward_train<double>(s, xr.data(), gd.data(), bd.data(), 1e-5, 0.1, rmd.data(),
                                    rvd.data(), yd.data(), md.data(), sd.data());
  CHECK(max_rel_diff(sf, sd) < 1e-5);
  CHECK(max_rel_diff(yf, yd) < 1e-5);
  CHECK(max_rel_diff(rvf, rvd) < 1e-6);
}

TEST_CASE("batchnorm2d: training on one value per channel is an error") {
  NormShape s{1, 2, 1};
  std::vector<double> x{1, 2}, g{1, 1}, b{0, 0}, y(2), m(2), is(2), rm(2), rv(2);
  CHECK_THROWS_WITH_AS(batchnorm2d_forward_train(s, x.data(), g.data(), b.data(), 1e-5, 0.1,
                                                 rm.data(), rv.data(), y.data(), m.data(),
                                                 is.data()),
                       "batchnorm2d: training needs more than one value per channel, got batch 1 "
                       "x spatial 1",
                       Error);
}

namespace {
// Textbook batch norm in double, loop for loop: the oracle for the vectorised float kernels.
struct NaiveBatchNorm {
  std::vector<double> y, mean, invstd, dx, dgamma, dbeta;
};

NaiveBatchNorm naive_batchnorm_train(const NormShape& s, const std::vector<float>& x,
                                     const std::vector<float>& gamma,
                                     const std::vector<float>& beta, const std::vector<float>& dy,
                                     double eps) {
  NaiveBatchNorm r;
  const int64_t total = s.batch * s.channels * s.spatial;
  const double m = static_cast<double>(s.batch * s.spatial);
  r.y.assign(total, 0.0);
  r.dx.assign(total, 0.0);
  for (int64_t c = 0; c < s.channels; ++c) {
    auto at = [&](int64_t n, int64_t i) { return (n * s.channels + c) * s.spatial + i; };
    double sum = 0, sq = 0, sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < s.spatial; ++i) sum += x[at(n, i)];
    const double mean = sum / m;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < s.spatial; ++i) sq += (x[at(n, i)] - mean) * (x[at(n, i)] - mean);
    const double invstd = 1.0 / std::sqrt(sq / m + eps);
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < s.spatial; ++i) {
        const double xhat = (x[at(n, i)] - mean) * invstd;
        r.y[at(n, i)] = gamma[c] * xhat + beta[c];
        sum_dy += dy[at(n, i)];
        sum_dy_xhat += dy[at(n, i)] * xhat;
      }
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < s.spatial; ++i) {
        const double xhat = (x[at(n, i)] - mean) * invstd;
        r.dx[at(n, i)] = gamma[c] * invstd / m * (m * dy[at(n, i)] - sum_dy - xhat * sum_dy_xhat);
      }
    r.mean.push_back(mean);
    r.invstd.push_back(invstd);
    r.dgamma.push_back(sum_dy_xhat);
    r.dbeta.push_back(sum_dy);
  }
  return r;
}

std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }
}  // namespace

TEST_CASE("batchnorm2d: float train kernels match the naive double oracle on awkward sizes") {
  // Spatial sizes around the SIMD widths (8 doubles, 16 floats) and a 1x1 plane; an offset
  // mean checks the shifted one-pass statistics.
  for (NormShape s : {NormShape{2, 3, 1}, NormShape{3, 2, 7}, NormShape{1, 3, 15},
                      NormShape{2, 2, 17}, NormShape{5, 4, 33}, NormShape{2, 1, 2304}}) {
    CAPTURE(s.batch);
    CAPTURE(s.channels);
    CAPTURE(s.spatial);
    const int64_t total = s.batch * s.channels * s.spatial;
    std::vector<double> xd = random_values(total, 61, -2.0, 3.0);
    for (double& v : xd) v += 5.0;
    const auto x = as_float(xd), dy = as_float(random_values(total, 62));
    const auto gamma = as_float(random_values(s.channels, 63, 0.5, 2.0));
    const auto beta = as_float(random_values(s.channels, 64));
    const NaiveBatchNorm ref = naive_batchnorm_train(s, x, gamma, beta, dy, 1e-5);

    std::vector<float> y(total), mean(s.channels), invstd(s.channels);
    std::vector<float> rm(s.channels, 0.0f), rv(s.channels, 1.0f);
    batchnorm2d_forward_train<float>(s, x.data(), gamma.data(), beta.data(), 1e-5f, 0.1f,
                                     rm.data(), rv.data(), y.data(), mean.data(), invstd.data());
    CHECK(max_rel_diff(mean, ref.mean) < 1e-6);
    CHECK(max_rel_diff(invstd, ref.invstd) < 1e-5);
    CHECK(max_rel_diff(y, ref.y) < 1e-5);

    std::vector<float> dx(total, 0.25f), dg(s.channels, 0.25f), db(s.channels, 0.25f);
    batchnorm2d_backward_train<float>(s, x.data(), gamma.data(), mean.data(), invstd.data(),
                                      dy.data(), dx.data(), dg.data(), db.data());
    std::vector<double> dx_ref(ref.dx), dg_ref(ref.dgamma), db_ref(ref.dbeta);
    for (double& v : dx_ref) v += 0.25;  // backward accumulates onto the prefill
    for (double& v : dg_ref) v += 0.25;
    for (double& v : db_ref) v += 0.25;
    CHECK(max_rel_diff(dx, dx_ref) < 1e-4);
    CHECK(max_rel_diff(dg, dg_ref) < 1e-4);
    CHECK(max_rel_diff(db, db_ref) < 1e-4);
  }
}
