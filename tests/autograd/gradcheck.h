// Finite-difference gradient checking for autograd functions, in float64.
// check_gradients(fn, inputs): for a random weighting r of the output, compares the autograd
// gradient of <r, fn(inputs)> with central differences for every element of every input that
// requires a gradient. Returns the worst relative error.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace piconas::testing {

using autograd::Variable;
using VariableFn = std::function<Variable(const std::vector<Variable>&)>;

struct GradCheckResult {
  double worst_error = 0.0;
  std::string worst_where;
};

GradCheckResult check_gradients(const VariableFn& fn, const std::vector<Variable>& inputs,
                                uint64_t seed = 99, double step = 1e-6);

Variable random_variable(const Shape& shape, Rng& rng, double scale = 1.0, bool requires_grad = true);

}  // namespace piconas::testing
