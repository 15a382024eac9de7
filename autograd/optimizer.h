// Optimizers and learning-rate schedules.
// SGD (PyTorch semantics): g = grad + wd * p (where decay applies); v = momentum * v + g
// (v = g on the first step); update = nesterov ? g + momentum * v : v; p -= lr * update.
// Adam (Kingma & Ba, bias-corrected; L2 weight decay added to the gradient).
// The learning rate is set per step from a schedule (set_lr), so a resumed run can restore it.
// state()/load_state() carry the step count and moment buffers for checkpoints.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/module.h"

namespace piconas::autograd {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
};

// Weight decay mask: true for weights of rank >= 2 (conv/linear), false for biases and norms.
std::vector<bool> decay_weights_only(const std::vector<Variable>& params);

class Sgd {
 public:
  // decay[i] says whether weight decay applies to params[i] (empty: applies to all).
  Sgd(std::vector<Variable> params, const SgdOptions& options, std::vector<bool> decay = {});
  void step();
  void zero_grad();
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  int64_t steps() const { return steps_; }
  std::vector<Tensor> state() const;  // momentum buffers, then a [1] tensor with the step count
  void load_state(const std::vector<Tensor>& state);

 private:
  std::vector<Variable> params_;
  SgdOptions options_;
  std::vector<bool> decay_;
  std::vector<Tensor> velocity_;
  int64_t steps_ = 0;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class Adam {
 public:
  Adam(std::vector<Variable> params, const AdamOptions& options);
  void step();
  void zero_grad();
  void set_lr(double lr) { options_.lr = lr; }
  int64_t steps() const { return steps_; }

 private:
  std::vector<Variable> params_;
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
  int64_t steps_ = 0;
};

enum class ScheduleKind { Constant, Cosine, Step };

// Linear warm-up from 0 over warmup_steps, then constant, cosine decay to min_lr at total_steps,
// or multiplication by gamma every step_size steps (counted after the warm-up).
struct LrSchedule {
  ScheduleKind kind = ScheduleKind::Cosine;
  double base_lr = 0.1;
  double min_lr = 0.0;
  int64_t total_steps = 1;
  int64_t warmup_steps = 0;
  int64_t step_size = 1;
  double gamma = 0.1;
  double lr_at(int64_t step) const;
};

}  // namespace piconas::autograd
