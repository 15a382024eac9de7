#include "autograd/optimizer.h"

#include <cmath>

namespace piconas::autograd {

std::vector<bool> decay_weights_only(const std::vector<Variable>& params) {
  std::vector<bool> mask;
  for (const Variable& p : params) mask.push_back(p.value().ndim() >= 2);
  return mask;
}

Sgd::Sgd(std::vector<Variable> params, const SgdOptions& options, std::vector<bool> decay)
    : params_(std::move(params)), options_(options), decay_(std::move(decay)) {
  PICONAS_CHECK(options.lr >= 0 && options.momentum >= 0 && options.weight_decay >= 0,
                "Sgd: invalid options lr=" << options.lr << " momentum=" << options.momentum
                                           << " weight_decay=" << options.weight_decay);
  PICONAS_CHECK(!options.nesterov || options.momentum > 0, "Sgd: Nesterov needs momentum > 0");
  if (decay_.empty()) decay_.assign(params_.size(), true);
  PICONAS_CHECK(decay_.size() == params_.size(), "Sgd: decay mask of " << decay_.size()
                                                                      << " entries for "
                                                                      << params_.size() << " parameters");
  for (const Variable& p : params_) velocity_.emplace_back(p.shape(), p.dtype());
}

void Sgd::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Variable& p = params_[i];
    if (!p.has_grad()) continue;
    dispatch_dtype(p.dtype(), [&](auto zero) {
      using T = decltype(zero);
      T* w = p.value().data<T>();
      const T* g = p.grad().data<T>();
      T* v = velocity_[i].data<T>();
      const T lr = T(options_.lr), mu = T(options_.momentum);
      const T wd = decay_[i] ? T(options_.weight_decay) : T(0);
      const bool first = steps_ == 0;
      for (int64_t j = 0; j < p.value().numel(); ++j) {
        T grad = g[j] + wd * w[j];
        T update = grad;
        if (mu != T(0)) {
          v[j] = first ? grad : mu * v[j] + grad;
          update = options_.nesterov ? grad + mu * v[j] : v[j];
        }
        w[j] -= lr * update;
      }
    });
  }
  ++steps_;
}

void Sgd::zero_grad() {
  for (Variable& p : params_) p.zero_grad();
}

std::vector<Tensor> Sgd::state() const {
  std::vector<Tensor> out;
  for (const Tensor& v : velocity_) out.push_back(v.clone());
  out.push_back(Tensor::full({1}, static_cast<double>(steps_), DType::F64));
  return out;
}

void Sgd::load_state(const std::vector<Tensor>& state) {
  PICONAS_CHECK(state.size() == velocity_.size() + 1,
                "Sgd::load_state: " << state.size() << " tensors, expected " << velocity_.size() + 1);
  for (size_t i = 0; i < velocity_.size(); ++i) {
    PICONAS_CHECK(state[i].shape() == velocity_[i].shape(),
                  "Sgd::load_state: buffer " << i << " has shape " << shape_str(state[i].shape())
                                             << ", expected " << shape_str(velocity_[i].shape()));
    velocity_[i].copy_from(state[i].to(velocity_[i].dtype()));
  }
  steps_ = static_cast<int64_t>(state.back().get(0));
}

Adam::Adam(std::vector<Variable> params, const AdamOptions& options)
    : params_(std::move(params)), options_(options) {
  for (const Variable& p : params_) {
    m_.emplace_back(p.shape(), p.dtype());
    v_.emplace_back(p.shape(), p.dtype());
  }
}

void Adam::step() {
  ++steps_;
  double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    Variable& p = params_[i];
    if (!p.has_grad()) continue;
    dispatch_dtype(p.dtype(), [&](auto zero) {
      using T = decltype(zero);
      T* w = p.value().data<T>();
      const T* g = p.grad().data<T>();
      T* m = m_[i].data<T>();
      T* v = v_[i].data<T>();
      for (int64_t j = 0; j < p.value().numel(); ++j) {
        double grad = g[j] + options_.weight_decay * w[j];
        m[j] = T(options_.beta1 * m[j] + (1 - options_.beta1) * grad);
        v[j] = T(options_.beta2 * v[j] + (1 - options_.beta2) * grad * grad);
        double m_hat = m[j] / correction1, v_hat = v[j] / correction2;
        w[j] -= T(options_.lr * m_hat / (std::sqrt(v_hat) + options_.eps));
      }
    });
  }
}

void Adam::zero_grad() {
  for (Variable& p : params_) p.zero_grad();
}

double LrSchedule::lr_at(int64_t step) const {
  if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  int64_t after = step - warmup_steps;
  switch (kind) {
    case ScheduleKind::Constant: return base_lr;
    case ScheduleKind::Step:
      return base_lr * std::pow(gamma, static_cast<double>(after / std::max<int64_t>(step_size, 1)));
    case ScheduleKind::Cosine: {
      int64_t span = std::max<int64_t>(total_steps - warmup_steps, 1);
      double progress = std::min(1.0, static_cast<double>(after) / static_cast<double>(span));
      return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(M_PI * progress));
    }
  }
  return base_lr;
}

}  // namespace piconas::autograd
