// The fused BatchNorm + activation kernels against their naive twin, the unfused composition
// (batchnorm2d train, then relu / relu6, backward through a zero-filled buffer): the same bits
// for every activation, dtype, shape and thread count; finite differences; a golden case.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "misc_gradcheck.h"
#include "ops/batchnorm2d.h"
#include "ops/batchnorm2d_act.h"
#include "ops/batchnorm2d_channel.h"
#include "ops/relu.h"
#include "ops/relu6.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

template <class T>
struct Outputs {
  std::vector<T> y, mean, invstd, affine, run_mean, run_var, dx_fresh, dx_acc, dgamma, dbeta;
};

// Inputs spread so that the normalised values cross 0 and 6 (gamma up to 4, beta up to 3),
// with exact zeros, -0 and values on the clamps in dy, and a mean far from 0.
template <class T>
struct Inputs {
  NormShape s;
  std::vector<T> x, gamma, beta, dy, dx_prefill;
  explicit Inputs(NormShape shape) : s(shape) {
    const int64_t total = s.batch * s.channels * s.spatial;
    x = cast<T>(random_values(total, 71, 2.0, 9.0));
    gamma = cast<T>(random_values(s.channels, 72, -1.0, 4.0));
    beta = cast<T>(random_values(s.channels, 73, -1.0, 3.0));
    dy = cast<T>(random_values(total, 74));
    for (int64_t i = 0; i < total; i += 5) dy[i] = T(0);
    for (int64_t i = 2; i < total; i += 7) dy[i] = -T(0);
    dx_prefill = cast<T>(random_values(total, 75));
  }
};

// The unfused composition: the naive twin.
template <class T>
Outputs<T> unfused(const Inputs<T>& in, NormActivation act) {
  const NormShape& s = in.s;
  const int64_t total = s.batch * s.channels * s.spatial;
  Outputs<T> o;
  o.mean.resize(s.channels);
  o.invstd.resize(s.channels);
  o.run_mean.assign(s.channels, T(0.5));
  o.run_var.assign(s.channels, T(2));
  std::vector<T> z(total);
  batchnorm2d_forward_train<T>(s, in.x.data(), in.gamma.data(), in.beta.data(), T(1e-5), T(0.1),
                               o.run_mean.data(), o.run_var.data(), z.data(), o.mean.data(),
                               o.invstd.data());
  std::vector<T> dz;
  if (act == NormActivation::Identity) {
    o.y = z;
    dz = in.dy;
  } else {
    o.y.resize(total);
    dz.assign(total, T(0));
    if (act == NormActivation::ReLU) {
      relu_forward<T>(total, z.data(), o.y.data());
      relu_backward<T>(total, z.data(), o.y.data(), in.dy.data(), dz.data());
    } else {
      relu6_forward<T>(total, z.data(), o.y.data());
      relu6_backward<T>(total, z.data(), o.y.data(), in.dy.data(), dz.data());
    }
  }
  o.dgamma.assign(s.channels, T(0.25));
  o.dbeta.assign(s.channels, T(0.25));
  o.dx_fresh.assign(total, T(0));
  batchnorm2d_backward_train<T>(s, in.x.data(), in.gamma.data(), o.mean.data(), o.invstd.data(),
                                dz.data(), o.dx_fresh.data(), o.dgamma.data(), o.dbeta.data());
  o.dx_acc = in.dx_prefill;
  batchnorm2d_backward_train<T>(s, in.x.data(), in.gamma.data(), o.mean.data(), o.invstd.data(),
                                dz.data(), o.dx_acc.data(), nullptr, nullptr);
  return o;
}

template <class T>
Outputs<T> fused(const Inputs<T>& in, NormActivation act, NormKernel kernel = NormKernel::Auto) {
  const NormShape& s = in.s;
  const int64_t total = s.batch * s.channels * s.spatial;
  Outputs<T> o;
  o.y.resize(total);
  o.mean.resize(s.channels);
  o.invstd.resize(s.channels);
  o.run_mean.assign(s.channels, T(0.5));
  o.run_var.assign(s.channels, T(2));
  o.affine.resize(3 * s.channels);
  batchnorm2d_act_forward<T>(s, act, in.x.data(), in.gamma.data(), in.beta.data(), T(1e-5), T(0.1),
                             o.run_mean.data(), o.run_var.data(), o.y.data(), o.mean.data(),
                             o.invstd.data(), o.affine.data(), kernel);
  o.dgamma.assign(s.channels, T(0.25));
  o.dbeta.assign(s.channels, T(0.25));
  // Overwrite must write every element without reading it: start from NaN.
  o.dx_fresh.assign(total, std::numeric_limits<T>::quiet_NaN());
  batchnorm2d_act_backward<T>(s, act, in.x.data(), in.gamma.data(), o.mean.data(), o.invstd.data(),
                              o.affine.data(), in.dy.data(), o.dx_fresh.data(),
                              GradWrite::Overwrite, o.dgamma.data(), o.dbeta.data(), kernel);
  o.dx_acc = in.dx_prefill;
  batchnorm2d_act_backward<T>(s, act, in.x.data(), in.gamma.data(), o.mean.data(), o.invstd.data(),
                              o.affine.data(), in.dy.data(), o.dx_acc.data(), GradWrite::Accumulate,
                              nullptr, nullptr, kernel);
  return o;
}

template <class T>
void check_same_bits(const Outputs<T>& a, const Outputs<T>& b) {
  CHECK(same_bits(a.y, b.y));
  CHECK(same_bits(a.mean, b.mean));
  CHECK(same_bits(a.invstd, b.invstd));
  CHECK(same_bits(a.run_mean, b.run_mean));
  CHECK(same_bits(a.run_var, b.run_var));
  CHECK(same_bits(a.dx_fresh, b.dx_fresh));
  CHECK(same_bits(a.dx_acc, b.dx_acc));
  CHECK(same_bits(a.dgamma, b.dgamma));
  CHECK(same_bits(a.dbeta, b.dbeta));
}

const NormActivation kActivations[] = {NormActivation::Identity, NormActivation::ReLU,
                                       NormActivation::ReLU6};

// Around the lane count (16) and SIMD widths, a 1x1 plane, a 48x48 plane; for the channel
// blocks (256 values per image) several blocks with a partial last one: 1x1 planes over 300
// channels (blocks of 256), 3x3 over 61 (blocks of 28), 4x4 over 37, 2x2 over 130.
const NormShape kShapes[] = {NormShape{2, 3, 1},   NormShape{3, 2, 7},   NormShape{1, 3, 15},
                             NormShape{2, 2, 17},  NormShape{5, 4, 33},  NormShape{2, 1, 2304},
                             NormShape{4, 6, 144}, NormShape{3, 300, 1}, NormShape{3, 61, 9},
                             NormShape{2, 37, 16}, NormShape{2, 130, 4}, NormShape{3, 15, 36},
                             NormShape{2, 13, 1600}, NormShape{3, 9, 300}};

const NormKernel kKernels[] = {NormKernel::Auto, NormKernel::ByChannel, NormKernel::ChannelBlocks};

template <class T>
void check_against_unfused() {
  for (NormShape s : kShapes)
    for (NormActivation act : kActivations) {
      CAPTURE(s.batch);
      CAPTURE(s.channels);
      CAPTURE(s.spatial);
      CAPTURE(norm_activation_name(act));
      const Inputs<T> in(s);
      const Outputs<T> naive = unfused(in, act);
      for (NormKernel kernel : kKernels) {
        if (kernel == NormKernel::ChannelBlocks && s.spatial > kChannelBlocksMaxSpatial) continue;
        CAPTURE(norm_kernel_name(kernel));
        check_same_bits(fused(in, act, kernel), naive);
      }
    }
}

}  // namespace

TEST_CASE("batchnorm2d_act: the same bits as the unfused composition, float") {
  check_against_unfused<float>();
}

TEST_CASE("batchnorm2d_act: the same bits as the unfused composition, double") {
  check_against_unfused<double>();
}

TEST_CASE("batchnorm2d_act: results do not depend on the thread count") {
  const int previous = num_threads();
  for (NormShape s : {NormShape{4, 6, 144}, NormShape{3, 61, 9}, NormShape{3, 300, 1},
                      NormShape{2, 13, 1600}, NormShape{3, 9, 300}}) {
    const Inputs<float> in(s);
    for (NormActivation act : kActivations) {
      CAPTURE(s.spatial);
      CAPTURE(norm_activation_name(act));
      set_num_threads(1);
      const Outputs<float> one = fused(in, act);
      for (int threads : {2, 3, 5}) {
        CAPTURE(threads);
        set_num_threads(threads);
        check_same_bits(fused(in, act), one);
      }
    }
  }
  set_num_threads(previous);
}

TEST_CASE("batchnorm2d_act: the kernel selector") {
  CHECK(norm_kernel_for(NormShape{32, 960, 9}) == NormKernel::ChannelBlocks);
  CHECK(norm_kernel_for(NormShape{32, 256, 16}) == NormKernel::ChannelBlocks);
  CHECK(norm_kernel_for(NormShape{32, 576, 36}) == NormKernel::ByChannel);
  CHECK(norm_kernel_for(NormShape{32, 96, 2304}) == NormKernel::ByChannel);
  // A plane longer than a channel block cannot be forced onto the block kernel.
  NormShape s{1, 1, 17};
  std::vector<float> x(17, 1.0f), g{1}, b{0}, y(17), m(1), is(1), af(3);
  CHECK_THROWS_WITH_AS(
      batchnorm2d_act_forward<float>(s, NormActivation::ReLU, x.data(), g.data(), b.data(), 1e-5f,
                                     0.1f, nullptr, nullptr, y.data(), m.data(), is.data(),
                                     af.data(), NormKernel::ChannelBlocks),
      "batchnorm2d_act: channel blocks take planes of at most 16 values, got spatial 17", Error);
}

TEST_CASE("batchnorm2d_act: ByChannel's channel groups cover every channel once") {
  using batchnorm2d_channel::channel_groups;
  using batchnorm2d_channel::ChannelGroups;
  // mbv2-bench's large planes, float: 8 channels of 48x48 (72 KB per image), 24 of 24x24 (a
  // sixth group rounded up to an even count for 2 threads); one channel per group when a plane
  // alone exceeds the target or is under 1 KB; never more groups than channels.
  auto check = [](NormShape s, int64_t bytes, int64_t workers, ChannelGroups expected) {
    const ChannelGroups g = channel_groups(s, bytes, workers);
    CAPTURE(s.channels);
    CAPTURE(s.spatial);
    CAPTURE(workers);
    CHECK(g.size == expected.size);
    CHECK(g.count == expected.count);
    CHECK(g.size * (g.count - 1) < s.channels);
    CHECK(g.size * g.count >= s.channels);
  };
  check(NormShape{32, 96, 2304}, 4, 2, {8, 12});
  check(NormShape{32, 96, 2304}, 4, 1, {8, 12});
  check(NormShape{32, 144, 576}, 4, 2, {24, 6});
  check(NormShape{32, 144, 576}, 4, 1, {29, 5});
  check(NormShape{32, 16, 9216}, 4, 2, {2, 8});
  check(NormShape{4, 16, 20000}, 4, 2, {1, 16});
  check(NormShape{32, 576, 36}, 4, 3, {1, 576});
  check(NormShape{32, 192, 256}, 4, 2, {48, 4});
  check(NormShape{2, 3, 1600}, 4, 5, {1, 3});
  check(NormShape{2, 13, 1600}, 8, 1, {5, 3});
}

TEST_CASE("batchnorm2d_act: golden values, ReLU6 clamps both ends") {
  // One channel, x = [1, 2, 3, 4], gamma = 4, beta = 2, eps = 0: mean 2.5, var 1.25,
  // z = 2 + 4 (x - 2.5) / sqrt(1.25) = [-3.367, 0.211, 3.789, 7.367], y = [0, z1, z2, 6].
  NormShape s{1, 1, 4};
  std::vector<double> x{1, 2, 3, 4}, gamma{4}, beta{2}, y(4), mean(1), invstd(1), rm{0}, rv{1};
  std::vector<double> affine(3);
  batchnorm2d_act_forward<double>(s, NormActivation::ReLU6, x.data(), gamma.data(), beta.data(),
                                  0.0, 0.1, rm.data(), rv.data(), y.data(), mean.data(),
                                  invstd.data(), affine.data());
  const double k = 4 / std::sqrt(1.25);
  CHECK(y[0] == 0.0);
  CHECK(y[1] == doctest::Approx(2 - 0.5 * k).epsilon(1e-14));
  CHECK(y[2] == doctest::Approx(2 + 0.5 * k).epsilon(1e-14));
  CHECK(y[3] == 6.0);
  // dy = 1 everywhere: the gradient passes at x = 2, 3 only. Sum g = 2, sum g * xhat = 0, so
  // dx = k * (g - 2/4) = k * [-0.5, 0.5, 0.5, -0.5]; dbeta = 2, dgamma = 0.
  std::vector<double> dy(4, 1.0), dx(4), dg{0}, db{0};
  batchnorm2d_act_backward<double>(s, NormActivation::ReLU6, x.data(), gamma.data(), mean.data(),
                                   invstd.data(), affine.data(), dy.data(), dx.data(),
                                   GradWrite::Overwrite, dg.data(), db.data());
  const double expected[] = {-0.5 * k, 0.5 * k, 0.5 * k, -0.5 * k};
  for (int i = 0; i < 4; ++i) CHECK(dx[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  CHECK(db[0] == 2.0);
  CHECK(std::abs(dg[0]) < 1e-14);
}

TEST_CASE("batchnorm2d_act: finite-difference gradients through statistics and clamps") {
  for (NormActivation act : kActivations)
    for (NormShape s : {NormShape{1, 3, 5}, NormShape{3, 2, 1}, NormShape{2, 1, 7}}) {
      CAPTURE(norm_activation_name(act));
      CAPTURE(s.batch);
      CAPTURE(s.channels);
      CAPTURE(s.spatial);
      const int64_t n = s.batch * s.channels * s.spatial;
      auto x = random_values(n, 81, -2, 2);
      auto gamma = random_values(s.channels, 82, 2.0, 4.0);
      auto beta = random_values(s.channels, 83, 0.5, 2.5);
      auto r = random_values(n, 84);
      std::vector<double> mean(s.channels), invstd(s.channels), affine(3 * s.channels);
      auto forward_with = [&](NormActivation a) {
        std::vector<double> out(n), rm(s.channels, 0.0), rv(s.channels, 1.0);
        batchnorm2d_act_forward(s, a, x.data(), gamma.data(), beta.data(), 1e-5, 0.1, rm.data(),
                                rv.data(), out.data(), mean.data(), invstd.data(), affine.data());
        return out;
      };
      auto forward = [&] { return forward_with(act); };
      // The normalised values stay away from the kinks at 0 and 6 (a finite difference must
      // not straddle one).
      for (double z : forward_with(NormActivation::Identity))
        CHECK((std::abs(z) > 1e-3 && std::abs(z - 6) > 1e-3));
      forward();  // the saved statistics and constants backward reads
      auto dx = prefilled(n), dg = prefilled(s.channels), db = prefilled(s.channels);
      batchnorm2d_act_backward(s, act, x.data(), gamma.data(), mean.data(), invstd.data(),
                               affine.data(), r.data(), dx.data(), GradWrite::Accumulate, dg.data(),
                               db.data());
      check_gradient("batchnorm2d_act dx", x, forward, r, dx);
      check_gradient("batchnorm2d_act dgamma", gamma, forward, r, dg);
      check_gradient("batchnorm2d_act dbeta", beta, forward, r, db);
    }
}

TEST_CASE("batchnorm2d_act: training on one value per channel is an error") {
  NormShape s{1, 2, 1};
  std::vector<double> x{1, 2}, g{1, 1}, b{0, 0}, y(2), m(2), is(2), af(6), rm(2), rv(2);
  CHECK_THROWS_WITH_AS(
      batchnorm2d_act_forward(s, NormActivation::ReLU, x.data(), g.data(), b.data(), 1e-5, 0.1,
                              rm.data(), rv.data(), y.data(), m.data(), is.data(), af.data()),
      "batchnorm2d_act: training needs more than one value per channel, got "
      "batch 1 x spatial 1",
      Error);
}
