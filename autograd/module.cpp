#include "autograd/module.h"

namespace piconas::autograd {

Variable Module::operator()(const Variable& x) {
  Variable y = forward(x);
  if (hook_) hook_(*this, y);
  return y;
}

void Module::set_training(bool training) {
  visit([training](Module& m) { m.training_ = training; });
}

void Module::collect_parameters(const std::string& prefix,
                                std::vector<std::pair<std::string, Variable>>& out) const {
  for (const auto& [name, p] : parameters_) out.emplace_back(prefix + name, p);
  for (const auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", out);
}

void Module::collect_buffers(const std::string& prefix,
                             std::vector<std::pair<std::string, Tensor*>>& out) {
  for (auto& [name, b] : buffers_) out.emplace_back(prefix + name, b);
  for (auto& [name, child] : children_) child->collect_buffers(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out;
  collect_parameters("", out);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect_buffers("", out);
  return out;
}

std::map<std::string, Tensor> Module::state() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, p] : named_parameters()) out[name] = p.value();
  for (auto& [name, b] : const_cast<Module*>(this)->named_buffers()) out[name] = *b;
  return out;
}

void Module::load_state(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> own = this->state();
  for (const auto& [name, value] : state)
    PICONAS_CHECK(own.count(name), "load_state: unexpected entry '" << name << "' "
                                                                    << shape_str(value.shape()));
  for (auto& [name, target] : own) {
    auto it = state.find(name);
    PICONAS_CHECK(it != state.end(), "load_state: missing entry '" << name << "' "
                                                                   << shape_str(target.shape()));
    PICONAS_CHECK(it->second.shape() == target.shape(),
                  "load_state: entry '" << name << "' has shape " << shape_str(it->second.shape())
                                        << ", the module expects " << shape_str(target.shape()));
    Tensor converted = it->second.dtype() == target.dtype() ? it->second : it->second.to(target.dtype());
    target.copy_from(converted);
  }
}

void Module::zero_grad() {
  for (Variable& p : parameters()) p.zero_grad();
}

void Module::to(DType dtype) {
  for (Variable& p : parameters()) {
    if (p.dtype() == dtype) continue;
    p.value() = p.value().to(dtype);
    p.node()->grad = Tensor();
  }
  for (auto& [name, b] : named_buffers())
    if (b->dtype() != dtype) *b = b->to(dtype);
}

DType Module::dtype() const {
  auto params = parameters();
  return params.empty() ? DType::F32 : params.front().dtype();
}

void Module::initialize(Rng& rng) {
  visit([&rng](Module& m) { m.reset_parameters(rng); });
}

void Module::visit(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [name, child] : children_) child->visit(fn);
}

void Module::set_forward_hook_recursive(const ForwardHook& hook) {
  visit([&hook](Module& m) { m.hook_ = hook; });
}

Variable Module::register_parameter(std::string name, Tensor value) {
  Variable p(std::move(value), true);
  parameters_.emplace_back(std::move(name), p);
  return p;
}

void Module::register_buffer(std::string name, Tensor* buffer) {
  buffers_.emplace_back(std::move(name), buffer);
}

}  // namespace piconas::autograd
