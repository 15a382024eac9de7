// Test helpers for the ops suites: random inputs and a float64 central-difference gradient
// check. Gradient buffers start at kPrefill rather than 0, so a backward that overwrites
// instead of ACCUMULATING fails the check.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.h"

namespace piconas::test {

inline constexpr double kPrefill = 0.375;

inline std::vector<double> random_values(int64_t n, uint64_t seed, double low = -1.0,
                                         double high = 1.0) {
  Rng rng(seed);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = rng.uniform(low, high);
  return v;
}

// Uniform values in [low, high) that stay at least `margin` away from every kink, so a finite
// difference never straddles a point where the derivative jumps.
inline std::vector<double> values_away_from(int64_t n, uint64_t seed, double low, double high,
                                            const std::vector<double>& kinks,
                                            double margin = 0.05) {
  Rng rng(seed);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) {
    bool near = true;
    while (near) {
      x = rng.uniform(low, high);
      near = false;
      for (double k : kinks) near = near || std::abs(x - k) < margin;
    }
  }
  return v;
}

inline std::vector<double> prefilled(int64_t n) {
  return std::vector<double>(static_cast<size_t>(n), kPrefill);
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Checks `accumulated` (a gradient buffer that started at kPrefill) against central differences
// of L = sum_i weights_i * forward()_i with respect to every entry of `param`. forward() must
// read `param` by reference. The error of each entry is measured relative to
// max(1, |numeric|, |analytic|).
inline void check_gradient(const char* what, std::vector<double>& param,
                           const std::function<std::vector<double>()>& forward,
                           const std::vector<double>& weights,
                           const std::vector<double>& accumulated, double tol = 1e-6,
                           double h = 1e-6) {
  REQUIRE(accumulated.size() == param.size());
  double worst = 0.0, worst_numeric = 0.0, worst_analytic = 0.0;
  size_t worst_index = 0;
  for (size_t i = 0; i < param.size(); ++i) {
    const double saved = param[i];
    param[i] = saved + h;
    const double plus = dot(weights, forward());
    param[i] = saved - h;
    const double minus = dot(weights, forward());
    param[i] = saved;
    const double numeric = (plus - minus) / (2.0 * h);
    const double analytic = accumulated[i] - kPrefill;
    const double err = std::abs(numeric - analytic) /
                       std::max({1.0, std::abs(numeric), std::abs(analytic)});
    if (err >= worst) {
      worst = err;
      worst_index = i;
      worst_numeric = numeric;
      worst_analytic = analytic;
    }
  }
  INFO(what << ": worst entry " << worst_index << " numeric " << worst_numeric << " analytic "
            << worst_analytic);
  CHECK(worst <= tol);
}

// max_i |a_i - b_i| / max(1, |b_i|)
template <class A, class B>
double max_rel_diff(const A& a, const B& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) /
                                std::max(1.0, std::abs(double(b[i]))));
  return worst;
}

}  // namespace piconas::test
