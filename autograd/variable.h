// Reverse-mode automatic differentiation, micrograd-style.
// A Variable is a handle to a Node: a value tensor, a gradient tensor, and — for results of
// ops — the input nodes plus a backward closure. backward() visits the graph in reverse
// topological order and each closure ACCUMULATES its output's gradient into its inputs'.
// Gradients are kept for every leaf that requires them, inputs as well as parameters, so
// dL/dx of an input image is available (the Jacobian metric needs it), and for the result
// backward() was called on; interior results release theirs once passed on (peak memory).
// Leaves keep accumulating over several backward() calls until zero_grad().
// Grad mode is per thread; NoGradGuard turns recording off in a scope (the one scoped switch).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace piconas::autograd {

struct Node {
  Tensor value;
  Tensor grad;  // undefined until a gradient reaches this node
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  // Reads `self.grad` and accumulates into the inputs' gradients (via grad_buffer()).
  std::function<void(Node& self)> backward;
};

// The gradient tensor of a node, allocated as zeros of the value's shape on first use.
Tensor& grad_buffer(Node& node);
// target += addend (same shape and dtype).
void accumulate_into(Tensor& target, const Tensor& addend);

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const;
  Tensor& value();  // in-place updates (optimizers, initialisation); not recorded
  const Tensor& grad() const;
  bool has_grad() const;
  bool requires_grad() const;
  void set_requires_grad(bool requires_grad);
  void zero_grad();
  const Shape& shape() const { return value().shape(); }
  DType dtype() const { return value().dtype(); }
  const char* op_name() const;

  // Seeds this variable's gradient with ones (any shape) or with `seed`, then propagates.
  void backward();
  void backward(const Tensor& seed);

  const std::shared_ptr<Node>& node() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
};

bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Builds the result of an op. When grad mode is on and any input requires a gradient, the
// result records the inputs and the backward closure; otherwise it is a plain constant.
Variable make_result(Tensor value, const char* op, std::vector<Variable> inputs,
                     std::function<void(Node& self)> backward);

}  // namespace piconas::autograd
