// What the training-free metrics score, and a scoped switch for parameter gradients.
// scored_weights: the weights of every Conv2d (dense, grouped, depthwise, pointwise) and Linear
//   module, with their dotted names, in named_parameters() order. Biases and normalisation
//   parameters are never scored (docs/metrics.md section 1).
// ParameterGradsOff: while alive, no parameter of the module requires a gradient, so a backward
//   pass computes only what the input gradient needs; the destructor restores every flag.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "autograd/module.h"

namespace piconas::nas::metrics {

std::vector<std::pair<std::string, autograd::Variable>> scored_weights(autograd::Module& net);

class ParameterGradsOff {
 public:
  explicit ParameterGradsOff(autograd::Module& net);
  ~ParameterGradsOff();
  ParameterGradsOff(const ParameterGradsOff&) = delete;
  ParameterGradsOff& operator=(const ParameterGradsOff&) = delete;

 private:
  std::vector<autograd::Variable> params_;
  std::vector<bool> flags_;
};

}  // namespace piconas::nas::metrics
