#include "gradcheck.h"

#include <algorithm>
#include <cmath>

namespace piconas::testing {

Variable random_variable(const Shape& shape, Rng& rng, double scale, bool requires_grad) {
  Tensor t(shape, DType::F64);
  fill_normal(t, rng, 0.0, scale);
  return Variable(t, requires_grad);
}

namespace {
double weighted_output(const VariableFn& fn, const std::vector<Variable>& inputs, const Tensor& r) {
  autograd::NoGradGuard no_grad;
  Tensor y = fn(inputs).value();
  double total = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) total += r.get(i) * y.get(i);
  return total;
}
}  // namespace

GradCheckResult check_gradients(const VariableFn& fn, const std::vector<Variable>& inputs,
                                uint64_t seed, double step) {
  for (const Variable& v : inputs)
    if (v.defined()) const_cast<Variable&>(v).zero_grad();
  Variable y = fn(inputs);
  Rng rng(seed);
  Tensor r(y.shape(), DType::F64);
  fill_uniform(r, rng, 0.5, 1.5);
  y.backward(r);
  GradCheckResult result;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Variable v = inputs[k];
    if (!v.defined() || !v.requires_grad()) continue;
    PICONAS_CHECK(v.has_grad(), "input " << k << " " << shape_str(v.shape()) << " received no gradient");
    Tensor analytic = v.grad().clone();
    double* x = v.value().data<double>();
    for (int64_t i = 0; i < v.value().numel(); ++i) {
      double saved = x[i];
      x[i] = saved + step;
      double plus = weighted_output(fn, inputs, r);
      x[i] = saved - step;
      double minus = weighted_output(fn, inputs, r);
      x[i] = saved;
      double numeric = (plus - minus) / (2 * step);
      double a = analytic.get(i);
      double error = std::abs(a - numeric) / std::max(1.0, std::abs(numeric));
      if (error > result.worst_error) {
        result.worst_error = error;
        result.worst_where = "input " + std::to_string(k) + " " + shape_str(v.shape()) + " element " +
                             std::to_string(i) + ": autograd " + std::to_string(a) + " numeric " +
                             std::to_string(numeric);
      }
    }
  }
  return result;
}

}  // namespace piconas::testing
