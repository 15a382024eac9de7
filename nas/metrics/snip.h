// SNIP (Lee et al.) and grad_norm, from one backward of the mean cross-entropy.
// snip = sum over scored weights (scored_weights.h) of |W * dL/dW|;
// grad_norm = sum over scored weight tensors of the Frobenius norm ||dL/dW_l||.
// L = mean softmax cross-entropy of the logits against the labels, train mode (BatchNorm uses
// and differentiates through the batch statistics). Sums run in float64 in a fixed order.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/module.h"

namespace piconas::nas::metrics {

struct SnipScores {
  double snip = 0;
  double grad_norm = 0;
};

// From the gradients currently held by the scored weights (a weight without one adds 0).
SnipScores snip_from_gradients(autograd::Module& net);

// Zeroes the parameter gradients, runs forward and backward of the mean CE on images
// [N, C, H, W] (any shape the net accepts) with labels (size N). Leaves the net in train mode
// with the CE gradients in its parameters.
SnipScores snip(autograd::Module& net, const Tensor& images, const std::vector<int32_t>& labels);

}  // namespace piconas::nas::metrics
