#include "autograd/variable.h"

#include <unordered_set>

namespace piconas::autograd {

namespace {
thread_local bool grad_mode_enabled = true;
}

void accumulate_into(Tensor& target, const Tensor& addend) {
  check_same_shape(target, addend, "gradient accumulation");
  dispatch_dtype(target.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* t = target.data<T>();
    const T* a = addend.data<T>();
    for (int64_t i = 0; i < target.numel(); ++i) t[i] += a[i];
  });
}

Tensor& grad_buffer(Node& node) {
  if (!node.grad.defined()) node.grad = Tensor(node.value.shape(), node.value.dtype());
  return node.grad;
}

Variable::Variable(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  PICONAS_CHECK(value.defined(), "Variable made from an undefined tensor");
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

const Tensor& Variable::value() const {
  PICONAS_CHECK(node_, "use of an undefined Variable");
  return node_->value;
}

Tensor& Variable::value() {
  PICONAS_CHECK(node_, "use of an undefined Variable");
  return node_->value;
}

const Tensor& Variable::grad() const {
  PICONAS_CHECK(node_, "use of an undefined Variable");
  return node_->grad;
}

bool Variable::has_grad() const { return node_ && node_->grad.defined(); }

bool Variable::requires_grad() const { return node_ && node_->requires_grad; }

void Variable::set_requires_grad(bool requires_grad) {
  PICONAS_CHECK(node_, "use of an undefined Variable");
  node_->requires_grad = requires_grad;
}

void Variable::zero_grad() {
  if (node_ && node_->grad.defined()) node_->grad.fill(0.0);
}

const char* Variable::op_name() const { return node_ ? node_->op : "undefined"; }

void Variable::backward() { backward(Tensor::full(value().shape(), 1.0, value().dtype())); }

void Variable::backward(const Tensor& seed) {
  PICONAS_CHECK(requires_grad(), "backward() on a result that does not require a gradient (op '"
                                     << op_name() << "'; was it computed under NoGradGuard?)");
  check_same_shape(seed, value(), "backward seed");
  // Iterative depth-first post-order gives a topological order without recursion limits.
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack{{node_.get(), 0}};
  visited.insert(node_.get());
  while (!stack.empty()) {
    auto& [node, next_input] = stack.back();
    if (next_input < node->inputs.size()) {
      Node* input = node->inputs[next_input++].get();
      if (input->requires_grad && visited.insert(input).second) stack.push_back({input, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  // Interior gradients start fresh on every call; leaves keep accumulating.
  for (Node* node : order)
    if (node->backward) node->grad = Tensor();
  accumulate_into(grad_buffer(*node_), seed);
  // Once an interior node has passed its gradient on, nothing reads it again: releasing it
  // keeps only the gradients of the current frontier alive (peak memory falls by about the
  // size of all activations) and lets the allocator hand the block to the next gradient.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    if (!node->backward || !node->grad.defined()) continue;
    node->backward(*node);
    if (node != node_.get()) node->grad = Tensor();
  }
}

bool grad_enabled() { return grad_mode_enabled; }

NoGradGuard::NoGradGuard() : previous_(grad_mode_enabled) { grad_mode_enabled = false; }

NoGradGuard::~NoGradGuard() { grad_mode_enabled = previous_; }

Variable make_result(Tensor value, const char* op, std::vector<Variable> inputs,
                     std::function<void(Node& self)> backward) {
  Variable result(std::move(value), false);
  Node& node = *result.node();
  node.op = op;
  if (!grad_mode_enabled) return result;
  bool any = false;
  for (const Variable& input : inputs) any = any || input.requires_grad();
  if (!any) return result;
  node.requires_grad = true;
  for (const Variable& input : inputs)
    if (input.defined()) node.inputs.push_back(input.node());
  node.backward = std::move(backward);
  return result;
}

}  // namespace piconas::autograd
