#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/gelu.h"
#include "ops/hardsigmoid.h"
#include "ops/hardswish.h"
#include "ops/relu.h"
#include "ops/relu6.h"
#include "ops/sigmoid.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

namespace {

template <class T>
using Forward = void (*)(int64_t, const T*, T*);
template <class T>
using Backward = void (*)(int64_t, const T*, const T*, const T*, T*);

struct Activation {
  const char* name;
  Forward<double> forward;
  Backward<double> backward;
  std::vector<double> kinks;  // inputs where the derivative jumps; FD points stay away
};

std::vector<Activation> activations() {
  return {
      {"relu", relu_forward<double>, relu_backward<double>, {0.0}},
      {"relu6", relu6_forward<double>, relu6_backward<double>, {0.0, 6.0}},
      {"gelu", gelu_forward<double>, gelu_backward<double>, {}},
      {"hardswish", hardswish_forward<double>, hardswish_backward<double>, {-3.0, 3.0}},
      {"sigmoid", sigmoid_forward<double>, sigmoid_backward<double>, {}},
      {"hardsigmoid", hardsigmoid_forward<double>, hardsigmoid_backward<double>, {-3.0, 3.0}},
  };
}

std::vector<double> run_forward(Forward<double> f, const std::vector<double>& x) {
  std::vector<double> y(x.size());
  f(static_cast<int64_t>(x.size()), x.data(), y.data());
  return y;
}

// dy = 1 at every x (prefill 0) gives the pointwise derivative.
std::vector<double> derivative(const Activation& a, const std::vector<double>& x) {
  auto y = run_forward(a.forward, x);
  std::vector<double> ones(x.size(), 1.0), dx(x.size(), 0.0);
  a.backward(static_cast<int64_t>(x.size()), x.data(), y.data(), ones.data(), dx.data());
  return dx;
}

}  // namespace

TEST_CASE("activations: golden values") {
  // relu: max(x, 0)
  CHECK(run_forward(relu_forward<double>, {-2, 0, 1.5}) == std::vector<double>{0, 0, 1.5});
  // relu6: min(max(x, 0), 6)
  CHECK(run_forward(relu6_forward<double>, {-1, 3, 6, 7.5}) == std::vector<double>{0, 3, 6, 6});
  // hardswish: x * relu6(x + 3) / 6: -4 -> 0; -3 -> 0; -1 -> -1*2/6; 1 -> 1*4/6; 3 -> 3; 4 -> 4
  auto hs = run_forward(hardswish_forward<double>, {-4, -3, -1, 1, 3, 4});
  CHECK(hs[0] == 0.0);
  CHECK(hs[1] == 0.0);
  CHECK(hs[2] == doctest::Approx(-1.0 / 3.0).epsilon(1e-15));
  CHECK(hs[3] == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(hs[4] == 3.0);
  CHECK(hs[5] == 4.0);
  // gelu: 0.5 x (1 + erf(x / sqrt 2)); Phi(1) = 0.8413447460685429 (normal table),
  // so gelu(1) = 0.8413447460685429 and gelu(-1) = -(1 - Phi(1)) = -0.15865525393145707.
  auto g = run_forward(gelu_forward<double>, {-1, 0, 1});
  CHECK(g[0] == doctest::Approx(-0.15865525393145707).epsilon(1e-14));
  CHECK(g[1] == 0.0);
  CHECK(g[2] == doctest::Approx(0.8413447460685429).epsilon(1e-14));
  // sigmoid: s(0) = 1/2; s(ln 3) = 1 / (1 + 1/3) = 3/4; s(-ln 3) = 1/4.
  auto s = run_forward(sigmoid_forward<double>, {0, std::log(3.0), -std::log(3.0)});
  CHECK(s[0] == 0.5);
  CHECK(s[1] == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(s[2] == doctest::Approx(0.25).epsilon(1e-15));
  // hardsigmoid: relu6(x + 3) / 6: -4 -> 0; -3 -> 0; 0 -> 1/2; 1.5 -> 3/4; 3 -> 1; 5 -> 1.
  CHECK(run_forward(hardsigmoid_forward<double>, {-4, -3, 0, 1.5, 3, 5}) ==
        std::vector<double>{0, 0, 0.5, 0.75, 1, 1});
}

TEST_CASE("activations: golden derivatives, including the kink conventions") {
  const auto a = activations();
  // relu passes dy only for x > 0 (0 at x = 0).
  CHECK(derivative(a[0], {-1, 0, 2}) == std::vector<double>{0, 0, 1});
  // relu6 passes dy only for 0 < x < 6 (0 at both ends).
  CHECK(derivative(a[1], {-1, 0, 3, 6, 7}) == std::vector<double>{0, 0, 1, 0, 0});
  // gelu' = Phi(x) + x phi(x): at 0, 1/2; at 1, 0.8413447460685429 + 0.24197072451914337.
  auto dg = derivative(a[2], {0, 1});
  CHECK(dg[0] == 0.5);
  CHECK(dg[1] == doctest::Approx(0.8413447460685429 + 0.24197072451914337).epsilon(1e-14));
  // hardswish' = 0 below -3, 1 above 3, (2x + 3)/6 between (and at +-3): -4 -> 0,
  // -3 -> -1/2, 0 -> 1/2, 3 -> 3/2, 4 -> 1.
  auto dh = derivative(a[3], {-4, -3, 0, 3, 4});
  CHECK(dh == std::vector<double>{0, -0.5, 0.5, 1.5, 1});
  // sigmoid' = y (1 - y): at 0, 1/4; at ln 3, 3/4 * 1/4 = 3/16.
  auto ds = derivative(a[4], {0, std::log(3.0)});
  CHECK(ds[0] == 0.25);
  CHECK(ds[1] == doctest::Approx(3.0 / 16.0).epsilon(1e-14));
  // hardsigmoid' = 1/6 strictly between -3 and 3, 0 elsewhere (at +-3 too, as PyTorch).
  CHECK(derivative(a[5], {-4, -3, -1, 0, 2.5, 3, 4}) ==
        std::vector<double>{0, 0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 0, 0});
}

TEST_CASE("activations: finite-difference gradients away from the kinks") {
  for (const Activation& a : activations()) {
    for (int64_t n : {1, 7, 64}) {
      CAPTURE(a.name);
      CAPTURE(n);
      auto x = values_away_from(n, 81 + n, -8, 8, a.kinks);
      auto r = random_values(n, 82 + n);
      auto forward = [&] { return run_forward(a.forward, x); };
      auto y = forward();
      auto dx = prefilled(n);
      a.backward(n, x.data(), y.data(), r.data(), dx.data());
      check_gradient(a.name, x, forward, r, dx);
    }
  }
}

TEST_CASE("activations: forward may run in place") {
  for (const Activation& a : activations()) {
    CAPTURE(a.name);
    auto x = random_values(9, 91, -5, 5);
    auto expected = run_forward(a.forward, x);
    a.forward(9, x.data(), x.data());
    CHECK(x == expected);
  }
}

TEST_CASE("activations: the parallel path (> 32k values) matches element-by-element calls") {
  const int64_t n = 40001;
  auto x = random_values(n, 95, -8, 8);
  auto dy = random_values(n, 96);
  for (const Activation& a : activations()) {
    CAPTURE(a.name);
    std::vector<double> y(n), dx(n, kPrefill), y1(1), dx1(1);
    a.forward(n, x.data(), y.data());
    a.backward(n, x.data(), y.data(), dy.data(), dx.data());
    int mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      a.forward(1, &x[i], y1.data());
      dx1[0] = kPrefill;
      a.backward(1, &x[i], y1.data(), &dy[i], dx1.data());
      mismatches += (y1[0] != y[i]) + (dx1[0] != dx[i]);
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("sigmoid: extreme inputs stay finite and saturate") {
  std::vector<float> x{-1000.f, -100.f, 100.f, 1000.f}, y(4);
  sigmoid_forward<float>(4, x.data(), y.data());
  CHECK(y[0] == 0.0f);
  CHECK(y[1] >= 0.0f);
  CHECK(y[1] < 1e-30f);
  CHECK(y[2] == 1.0f);
  CHECK(y[3] == 1.0f);
  std::vector<float> dy(4, 1.f), dx(4, 0.f);
  sigmoid_backward<float>(4, x.data(), y.data(), dy.data(), dx.data());
  for (float v : dx) CHECK(std::isfinite(v));
}
