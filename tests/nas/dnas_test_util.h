// Helpers for the DNAS tests: central-difference gradient checks of scalar functions of one
// Variable, and small seeds.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>

#include "autograd/functions.h"
#include "core/rng.h"

namespace piconas::testing {

// Worst |autograd - finite difference| / max(1, |fd|) of d f(x) / dx, f scalar ([1]).
inline double fd_error(const std::function<autograd::Variable(const autograd::Variable&)>& f,
                       const Tensor& x0, double step = 1e-6) {
  autograd::Variable x(x0.clone(), true);
  f(x).backward();
  const Tensor grad = x.grad().clone();
  double worst = 0.0;
  for (int64_t i = 0; i < x0.numel(); ++i) {
    Tensor plus = x0.clone(), minus = x0.clone();
    plus.set(i, x0.get(i) + step);
    minus.set(i, x0.get(i) - step);
    const double fd =
        (f(autograd::Variable(plus)).value().get(0) - f(autograd::Variable(minus)).value().get(0)) /
        (2 * step);
    worst = std::max(worst, std::abs(fd - grad.get(i)) / std::max(1.0, std::abs(fd)));
  }
  return worst;
}

inline Tensor random_tensor(const Shape& shape, Rng& rng, DType dtype = DType::F64) {
  Tensor t(shape, dtype);
  fill_normal(t, rng, 0.0, 1.0);
  return t;
}

// <r, y> for a fixed random r: turns any output into a scalar for gradient checks.
inline autograd::Variable weighted_total(const autograd::Variable& y, uint64_t seed) {
  Rng rng(seed);
  autograd::Variable r(random_tensor(y.shape(), rng, y.dtype()));
  return autograd::sum(autograd::mul(y, r));
}

}  // namespace piconas::testing
