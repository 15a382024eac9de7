#include "nas/dnas/mixing.h"

#include <algorithm>
#include <cmath>

namespace piconas::nas::dnas {

using autograd::accumulate_into;
using autograd::grad_buffer;
using autograd::make_result;
using autograd::Node;
using autograd::Variable;

SelectionMode parse_selection_mode(const std::string& name) {
  if (name == "softmax") return SelectionMode::Softmax;
  if (name == "gumbel") return SelectionMode::Gumbel;
  if (name == "hard-gumbel") return SelectionMode::HardGumbel;
  if (name == "argmax") return SelectionMode::Argmax;
  throw Error("unknown selection mode '" + name + "' (softmax, gumbel, hard-gumbel, argmax)");
}

const char* selection_mode_name(SelectionMode mode) {
  switch (mode) {
    case SelectionMode::Softmax:
      return "softmax";
    case SelectionMode::Gumbel:
      return "gumbel";
    case SelectionMode::HardGumbel:
      return "hard-gumbel";
    case SelectionMode::Argmax:
      return "argmax";
  }
  throw Error("invalid SelectionMode");
}

namespace {
std::vector<double> softmax_of(const std::vector<double>& logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(logits[i] - top);
  for (double& v : p) v /= total;
  return p;
}

void check_vector(const Variable& v, const char* op) {
  PICONAS_CHECK(v.shape().size() == 1 && v.shape()[0] >= 1,
                op << ": expected a non-empty vector, got " << shape_str(v.shape()));
}
}  // namespace

std::vector<double> softmax_values(const Tensor& alpha, double temperature) {
  std::vector<double> logits = alpha.to_vector();
  for (double& v : logits) v /= temperature;
  return softmax_of(logits);
}

Variable mix_weights(const Variable& alpha, SelectionMode mode, double temperature, Rng* rng) {
  check_vector(alpha, "mix_weights");
  PICONAS_CHECK(temperature > 0.0, "mix_weights: temperature " << temperature << " must be > 0");
  std::vector<double> logits = alpha.value().to_vector();
  if (mode == SelectionMode::Gumbel || mode == SelectionMode::HardGumbel) {
    PICONAS_CHECK(rng != nullptr, "mix_weights: the Gumbel modes need an Rng");
    for (double& v : logits) {
      const double u = std::max(rng->uniform(), 1e-20);
      v += -std::log(-std::log(u));
    }
  }
  for (double& v : logits) v /= temperature;
  const std::vector<double> soft = softmax_of(logits);
  const int64_t n = static_cast<int64_t>(soft.size());
  Tensor theta({n}, alpha.dtype());
  if (mode == SelectionMode::HardGumbel || mode == SelectionMode::Argmax) {
    const auto best = std::max_element(soft.begin(), soft.end()) - soft.begin();
    theta.set(best, 1.0);
  } else {
    for (int64_t i = 0; i < n; ++i) theta.set(i, soft[i]);
  }
  auto an = alpha.node();
  // d theta_i / d alpha_j = soft_i (delta_ij - soft_j) / T; the hard mode uses the soft Jacobian.
  return make_result(std::move(theta), "mix_weights", {alpha}, [an, soft, temperature](Node& self) {
    const std::vector<double> g = self.grad.to_vector();
    double dot = 0.0;
    for (size_t i = 0; i < soft.size(); ++i) dot += g[i] * soft[i];
    Tensor& da = grad_buffer(*an);
    for (size_t i = 0; i < soft.size(); ++i) {
      const auto idx = static_cast<int64_t>(i);
      da.set(idx, da.get(idx) + soft[i] * (g[i] - dot) / temperature);
    }
  });
}

Variable weighted_sum(const Variable& theta, const std::vector<Variable>& branches) {
  check_vector(theta, "weighted_sum");
  const int64_t n = theta.shape()[0];
  PICONAS_CHECK(
      static_cast<int64_t>(branches.size()) == n,
      "weighted_sum: " << branches.size() << " branches for theta " << shape_str(theta.shape()));
  for (const Variable& b : branches)
    PICONAS_CHECK(b.shape() == branches[0].shape() && b.dtype() == theta.dtype(),
                  "weighted_sum: branch shape " << shape_str(b.shape()) << " vs "
                                                << shape_str(branches[0].shape()));
  const std::vector<double> w = theta.value().to_vector();
  Tensor y(branches[0].shape(), theta.dtype());
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* dst = y.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if (w[i] == 0.0) continue;  // one-hot selections skip the unused branches' adds
      const T* src = branches[i].value().data<T>();
      const T wi = static_cast<T>(w[i]);
      for (int64_t k = 0; k < y.numel(); ++k) dst[k] += wi * src[k];
    }
  });
  std::vector<Variable> inputs = branches;
  inputs.push_back(theta);
  std::vector<std::shared_ptr<Node>> nodes;
  for (const Variable& b : branches) nodes.push_back(b.node());
  auto tn = theta.node();
  return make_result(std::move(y), "weighted_sum", std::move(inputs), [nodes, tn, w](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* dy = self.grad.data<T>();
      const int64_t count = self.value.numel();
      for (size_t i = 0; i < nodes.size(); ++i) {
        const std::shared_ptr<Node>& node = nodes[i];
        if (tn && tn->requires_grad) {
          const T* x = node->value.data<T>();
          double dot = 0.0;
          for (int64_t k = 0; k < count; ++k) dot += static_cast<double>(dy[k]) * x[k];
          Tensor& dt = grad_buffer(*tn);
          dt.set(static_cast<int64_t>(i), dt.get(static_cast<int64_t>(i)) + dot);
        }
        if (node->requires_grad && w[i] != 0.0) {
          T* dx = grad_buffer(*node).data<T>();
          const T wi = static_cast<T>(w[i]);
          for (int64_t k = 0; k < count; ++k) dx[k] += wi * dy[k];
        }
      }
    });
  });
}

Variable binarize_mask(const Variable& gamma) {
  check_vector(gamma, "binarize_mask");
  const std::vector<double> g = gamma.value().to_vector();
  Tensor b({static_cast<int64_t>(g.size())}, gamma.dtype());
  bool any = false;
  for (size_t c = 0; c < g.size(); ++c)
    if (g[c] >= 0.5) {
      b.set(static_cast<int64_t>(c), 1.0);
      any = true;
    }
  if (!any) b.set(std::max_element(g.begin(), g.end()) - g.begin(), 1.0);
  auto gn = gamma.node();
  return make_result(std::move(b), "binarize_mask", {gamma},
                     [gn](Node& self) { accumulate_into(grad_buffer(*gn), self.grad); });
}

Variable expand_mask(const Variable& mask, int64_t factor) {
  check_vector(mask, "expand_mask");
  PICONAS_CHECK(factor >= 1, "expand_mask: factor " << factor << " must be >= 1");
  const int64_t c = mask.shape()[0];
  Tensor y({c * factor}, mask.dtype());
  for (int64_t j = 0; j < c; ++j)
    for (int64_t r = 0; r < factor; ++r) y.set(j * factor + r, mask.value().get(j));
  auto mn = mask.node();
  return make_result(std::move(y), "expand_mask", {mask}, [mn, c, factor](Node& self) {
    Tensor& dm = grad_buffer(*mn);
    for (int64_t j = 0; j < c; ++j) {
      double total = 0.0;
      for (int64_t r = 0; r < factor; ++r) total += self.grad.get(j * factor + r);
      dm.set(j, dm.get(j) + total);
    }
  });
}

Variable channel_mask(const Variable& x, const Variable& mask) {
  check_vector(mask, "channel_mask");
  const Shape& s = x.shape();
  PICONAS_CHECK(
      (s.size() == 2 || s.size() == 4) && s[1] == mask.shape()[0] && x.dtype() == mask.dtype(),
      "channel_mask: x " << shape_str(s) << " vs mask " << shape_str(mask.shape()));
  const int64_t n = s[0], c = s[1], inner = s.size() == 4 ? s[2] * s[3] : 1;
  Tensor y = Tensor::empty(s, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* src = x.value().data<T>();
    const T* m = mask.value().data<T>();
    T* dst = y.data<T>();
    for (int64_t i = 0; i < n * c; ++i)
      for (int64_t k = 0; k < inner; ++k) dst[i * inner + k] = src[i * inner + k] * m[i % c];
  });
  auto xn = x.node(), mn = mask.node();
  return make_result(std::move(y), "channel_mask", {x, mask}, [xn, mn, n, c, inner](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* dy = self.grad.data<T>();
      const T* m = mn->value.data<T>();
      if (xn && xn->requires_grad) {
        T* dx = grad_buffer(*xn).data<T>();
        for (int64_t i = 0; i < n * c; ++i)
          for (int64_t k = 0; k < inner; ++k) dx[i * inner + k] += dy[i * inner + k] * m[i % c];
      }
      if (mn && mn->requires_grad) {
        const T* src = xn->value.data<T>();
        T* dm = grad_buffer(*mn).data<T>();
        for (int64_t ch = 0; ch < c; ++ch) {
          double total = 0.0;
          for (int64_t b = 0; b < n; ++b)
            for (int64_t k = 0; k < inner; ++k) {
              const int64_t at = (b * c + ch) * inner + k;
              total += static_cast<double>(dy[at]) * src[at];
            }
          dm[ch] += static_cast<T>(total);
        }
      }
    });
  });
}

Variable icv(const Variable& theta, double eps) {
  check_vector(theta, "icv");
  const std::vector<double> t = theta.value().to_vector();
  const double n = static_cast<double>(t.size());
  double mean = 0.0, var = 0.0;
  for (double v : t) mean += v / n;
  for (double v : t) var += (v - mean) * (v - mean) / n;
  Tensor y({1}, theta.dtype());
  y.set(0, mean / (var + eps));
  auto tn = theta.node();
  return make_result(std::move(y), "icv", {theta}, [tn, t, mean, var, eps, n](Node& self) {
    const double g = self.grad.get(0), d = var + eps;
    Tensor& dt = grad_buffer(*tn);
    for (size_t i = 0; i < t.size(); ++i) {
      const double di = 1.0 / (n * d) - mean * 2.0 * (t[i] - mean) / (n * d * d);
      dt.set(static_cast<int64_t>(i), dt.get(static_cast<int64_t>(i)) + g * di);
    }
  });
}

Variable pick(const Variable& v, int64_t index) {
  check_vector(v, "pick");
  PICONAS_CHECK(index >= 0 && index < v.shape()[0],
                "pick: index " << index << " outside " << shape_str(v.shape()));
  Tensor y({1}, v.dtype());
  y.set(0, v.value().get(index));
  auto vn = v.node();
  return make_result(std::move(y), "pick", {v}, [vn, index](Node& self) {
    Tensor& dv = grad_buffer(*vn);
    dv.set(index, dv.get(index) + self.grad.get(0));
  });
}

}  // namespace piconas::nas::dnas
