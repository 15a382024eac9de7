// Per-layer quantization error: where along the network the int8 model drifts
// from the float one.
//
// Both graphs run the same images; after every int8 layer its output tensor is
// dequantized, (q - z) * s, and compared with the float tensor of the same
// index (run_float's observer). The error at a layer is cumulative (its int8
// input already carries the earlier layers' error): a jump of the SQNR from one
// layer to the next names the layer that loses it. Patched leading layers
// (plan.patch) report only the stage's output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"

namespace piconas::nas::deploy {

struct LayerError {
  std::string name;
  LayerKind kind = LayerKind::Conv;
  int tensor = 0;
  double sqnr_db = 0.0;                // 10 log10(sum f^2 / sum (f - dq)^2); +inf when exact
  double mean_error_lsb = 0.0;         // mean of dq - f in units of the tensor's scale (a bias)
  double clipped = 0.0;                // share of float values outside the tensor's int8 range
  float range_min = 0, range_max = 0;  // the int8 tensor's representable range
};

// images: normalised float [N, C, H, W]. One row per int8 layer, in execution
// order (patched stage layers other than its last are left out).
std::vector<LayerError> layer_errors(const Graph &graph, const QuantizedModel &model,
                                     const MemoryPlan &plan, const Tensor &images);

}  // namespace piconas::nas::deploy
