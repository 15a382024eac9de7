#include "nas/metrics/scored_weights.h"

#include <unordered_set>

#include "autograd/layers.h"

namespace piconas::nas::metrics {

using autograd::Module;
using autograd::Node;
using autograd::Variable;

std::vector<std::pair<std::string, Variable>> scored_weights(Module& net) {
  std::unordered_set<const Node*> weights;
  net.visit([&weights](Module& m) {
    if (auto* conv = dynamic_cast<autograd::Conv2d*>(&m)) weights.insert(conv->weight.node().get());
    if (auto* lin = dynamic_cast<autograd::Linear*>(&m)) weights.insert(lin->weight.node().get());
  });
  std::vector<std::pair<std::string, Variable>> out;
  for (auto& [name, p] : net.named_parameters())
    if (weights.count(p.node().get())) out.emplace_back(name, p);
  return out;
}

ParameterGradsOff::ParameterGradsOff(Module& net) : params_(net.parameters()) {
  for (Variable& p : params_) {
    flags_.push_back(p.requires_grad());
    p.set_requires_grad(false);
  }
}

ParameterGradsOff::~ParameterGradsOff() {
  for (size_t i = 0; i < params_.size(); ++i) params_[i].set_requires_grad(flags_[i]);
}

}  // namespace piconas::nas::metrics
