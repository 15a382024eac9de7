// Module: the base of every layer and network. A module owns named parameters (Variables
// that require gradients), named buffers (tensors such as BatchNorm running statistics) and
// named child modules; parameters()/state() walk them in registration order, own entries
// first, children after, with dotted names ("blocks.3.conv.weight").
// Train/eval mode is explicit and recursive (set_training). initialize(rng) re-draws every
// parameter from the explicit Rng. state()/load_state() are the checkpointing hooks.
// An optional forward hook sees every module output (training-free metrics use it to read
// activation patterns without touching the network code).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace piconas::autograd {

class Module {
 public:
  using ForwardHook = std::function<void(const Module& module, const Variable& output)>;

  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Runs forward() and then the hook, if one is set.
  Variable operator()(const Variable& x);
  virtual Variable forward(const Variable& x) = 0;
  virtual const char* kind() const = 0;

  void set_training(bool training);
  bool training() const { return training_; }

  std::vector<Variable> parameters() const;
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  // Parameters and buffers by name (sharing storage with the module).
  std::map<std::string, Tensor> state() const;
  // Copies values in; every name must exist with the same shape, and no name may be missing.
  void load_state(const std::map<std::string, Tensor>& state);
  void zero_grad();
  // Converts every parameter and buffer to dtype (float64 for synflow).
  void to(DType dtype);
  DType dtype() const;
  // Re-draws the parameters of this module and all children from rng (depth-first order).
  void initialize(Rng& rng);

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  // Calls fn on this module and every descendant, depth-first, parents first.
  void visit(const std::function<void(Module&)>& fn);
  void set_forward_hook(ForwardHook hook) { hook_ = std::move(hook); }
  // Sets (or clears, with an empty function) the hook on this module and every descendant.
  void set_forward_hook_recursive(const ForwardHook& hook);

 protected:
  Variable register_parameter(std::string name, Tensor value);
  void register_buffer(std::string name, Tensor* buffer);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }
  // Draws this module's own parameters (not its children's). Default: nothing to draw.
  virtual void reset_parameters(Rng& rng) { (void)rng; }

 private:
  void collect_parameters(const std::string& prefix,
                          std::vector<std::pair<std::string, Variable>>& out) const;
  void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor*>>& out);

  bool training_ = true;
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  ForwardHook hook_;
};

}  // namespace piconas::autograd
