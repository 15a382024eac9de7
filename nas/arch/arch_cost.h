// Analytic cost of an ArchSpec, from the description alone (no module is built).
//
// arch_layers() lists every layer in execution order (input row first) with its output shape
// per image, its parameter count and its multiply-accumulates per image:
//   params  conv/linear weights, biases where present (convs followed by BN have none, ConvNeXt
//           convs and the classifier have one), BatchNorm and LayerNorm gamma + beta
//           (2 per channel; BN running statistics are buffers, not parameters).
//   MACs    conv: out_c * out_h * out_w * (in_c / groups) * k * k; linear: in * out;
//           zero for norms, activations, residual adds and pooling (METRICS.md section 3).
// Convs use "same" padding k/2, so out = (in - 1) / stride + 1. The layer structure of each
// block is the one documented in nas/arch/arch_spec.h. All functions call check_arch first, and
// throw Error when a layer's count or a running total would overflow int64.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"

namespace piconas::nas {

enum class LayerKind {
  Input,
  Conv2d,
  DepthwiseConv2d,
  BatchNorm,
  LayerNorm,
  Activation,
  Add,
  GlobalAvgPool,
  Linear
};

struct LayerInfo {
  std::string name;  // "stem.conv", "b3.dw.bn", "b3.add", "pool", "classifier"
  LayerKind kind = LayerKind::Input;
  std::string type;  // "conv3x3/s2", "dwconv5x5", "bn", "ln", "relu6", "add", "avgpool", "linear"
  Shape3 output;     // per image; pool and classifier outputs are Cx1x1
  int64_t params = 0;
  int64_t macs = 0;
};

struct ArchCost {
  int64_t params = 0;
  int64_t macs = 0;
};

std::vector<LayerInfo> arch_layers(const ArchSpec& spec);
ArchCost arch_cost(const ArchSpec& spec);

// Plain-text table for `piconas info`: columns layer, type, output, params, MACs (numbers
// right-aligned), then a total row. Ends with a newline.
std::string format_layer_table(const ArchSpec& spec);

}  // namespace piconas::nas
