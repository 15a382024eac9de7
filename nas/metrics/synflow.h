// Synflow (Tanaka et al.) and LogSynflow (Cavagnero et al., FreeREA), from one pass.
// 1. every parameter and buffer is replaced by its absolute value (signs remembered);
// 2. every normalization layer becomes an exact identity: BatchNorm (eval mode with mean 0,
//    variance 1, eps 0, gamma 1, beta 0) and LayerNorm (LayerNorm2d::muted); biases keep
//    their absolute values. So every pre-activation is positive and every gradient g >= 0
//    (an active LayerNorm gives g < -1, and log1p(g) NaN);
// 3. the net runs in float64 on one all-ones sample; R = sum of all outputs; backward;
// 4. over the scored weights (scored_weights.h): synflow = sum |theta * g|,
//    logsynflow = sum |theta| * log1p(g);
// 5. every parameter, buffer, BatchNorm eps, LayerNorm mute flag, train/eval flag and the dtype
//    are restored bit-exactly; parameter gradients are left zero (or undefined after a dtype
//    change).
// ReLU6 passes gradients only where 0 < x < 6, so deep ReLU6 nets may score 0 (reference
// behaviour). In a bias-free chain of conv/linear/ReLU/avg-pool layers every layer's synflow
// equals R (conservation).
#pragma once
#include <string>
#include <vector>

#include "autograd/module.h"

namespace piconas::nas::metrics {

struct LayerSynflow {
  std::string name;  // the weight's parameter name, e.g. "blocks.0.0.weight"
  double synflow = 0;
  double logsynflow = 0;
};

struct SynflowScores {
  double synflow = 0;
  double logsynflow = 0;
  double output_sum = 0;  // R
  std::vector<LayerSynflow> layers;
};

// Step 4 for one layer of n weights theta with gradients g. The pass feeds |theta| and g >= 0,
// where |theta * log1p(g)| would agree with the definition; for g in (-1, 0) it would not.
double layer_synflow(const double* theta, const double* g, int64_t n);
double layer_logsynflow(const double* theta, const double* g, int64_t n);

// sample_shape: the shape of one input sample, e.g. {3, 96, 96} (the batch of one is added).
// Forward hooks set on the net fire during the pass.
SynflowScores synflow(autograd::Module& net, const Shape& sample_shape);

}  // namespace piconas::nas::metrics
