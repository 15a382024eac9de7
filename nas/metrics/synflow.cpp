#include "nas/metrics/synflow.h"

#include <cmath>

#include "autograd/layers.h"
#include "nas/metrics/scored_weights.h"

namespace piconas::nas::metrics {

using autograd::Module;
using autograd::Variable;

namespace {
void abs_in_place(Tensor& t) {
  double* v = t.data<double>();
  const int64_t n = t.numel();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) v[i] = std::fabs(v[i]);
}

// Everything synflow changes, captured before and written back after.
class NetSnapshot {
 public:
  explicit NetSnapshot(Module& net) : net_(net), dtype_(net.dtype()) {
    for (auto& [name, p] : net.named_parameters()) params_.push_back(p.value().clone());
    for (auto& [name, b] : net.named_buffers()) buffers_.push_back(b->clone());
    net.visit([this](Module& m) {
      training_.push_back(m.training());
      if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) bn_eps_.push_back(bn->state.eps);
      if (auto* ln = dynamic_cast<autograd::LayerNorm2d*>(&m)) ln_muted_.push_back(ln->muted);
    });
  }

  void restore() {
    net_.to(dtype_);
    size_t i = 0;
    for (auto& [name, p] : net_.named_parameters()) {
      p.value().copy_from(params_[i++]);
      p.zero_grad();
    }
    i = 0;
    for (auto& [name, b] : net_.named_buffers()) b->copy_from(buffers_[i++]);
    size_t m_index = 0, bn_index = 0, ln_index = 0;
    net_.visit([&](Module& m) {
      m.set_training(training_[m_index++]);  // parents first: children are re-set afterwards
      if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) bn->state.eps = bn_eps_[bn_index++];
      if (auto* ln = dynamic_cast<autograd::LayerNorm2d*>(&m)) ln->muted = ln_muted_[ln_index++];
    });
  }

 private:
  Module& net_;
  DType dtype_;
  std::vector<Tensor> params_, buffers_;
  std::vector<bool> training_, ln_muted_;
  std::vector<double> bn_eps_;
};

SynflowScores synflow_pass(Module& net, const Shape& sample_shape) {
  net.to(DType::F64);
  net.set_training(false);
  for (Variable& p : net.parameters()) abs_in_place(p.value());
  for (auto& [name, b] : net.named_buffers()) abs_in_place(*b);
  net.visit([](Module& m) {
    if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) {
      bn->gamma.value().fill(1.0);
      bn->beta.value().fill(0.0);
      bn->state.running_mean.fill(0.0);
      bn->state.running_var.fill(1.0);
      bn->state.eps = 0.0;
    }
    // An active LayerNorm sends gradients below -1, where log1p is undefined (docs/metrics.md 2.3).
    if (auto* ln = dynamic_cast<autograd::LayerNorm2d*>(&m)) ln->muted = true;
  });
  auto weights = scored_weights(net);
  for (auto& [name, w] : weights) w.zero_grad();

  Shape shape{1};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  Variable output = net(Variable(Tensor::full(shape, 1.0, DType::F64)));
  SynflowScores scores;
  for (double v : output.value().to_vector()) scores.output_sum += v;
  output.backward();

  for (auto& [name, w] : weights) {
    LayerSynflow layer{name, 0.0, 0.0};
    if (w.has_grad()) {
      const double* theta = w.value().data<double>();
      const double* g = w.grad().data<double>();
      const int64_t n = w.value().numel();
      layer.synflow = layer_synflow(theta, g, n);
      layer.logsynflow = layer_logsynflow(theta, g, n);
    }
    scores.synflow += layer.synflow;
    scores.logsynflow += layer.logsynflow;
    scores.layers.push_back(std::move(layer));
  }
  return scores;
}
}  // namespace

double layer_synflow(const double* theta, const double* g, int64_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(theta[i] * g[i]);
  return sum;
}

double layer_logsynflow(const double* theta, const double* g, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(theta[i]) * std::log1p(g[i]);
  return sum;
}

SynflowScores synflow(Module& net, const Shape& sample_shape) {
  NetSnapshot snapshot(net);
  SynflowScores scores;
  try {
    scores = synflow_pass(net, sample_shape);
  } catch (...) {
    snapshot.restore();
    throw;
  }
  snapshot.restore();
  return scores;
}

}  // namespace piconas::nas::metrics
