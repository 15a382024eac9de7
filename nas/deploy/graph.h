// Graph lowering for deployment: an ArchSpec (+ its trained Module) becomes a flat list of
// inference layers with BatchNorm folded into the preceding convolution.
//
// Layers: Conv (dense kxk, stem / expand / project / pointwise / head; groups > 1: a grouped conv
// of a graph network, each group's output channels reading its input channels only), Depthwise, Add (residual), MaxPool
// and AvgPool (graph networks; TFLite's windows: padding taps never count), GlobalAvgPool and
// FullyConnected (classifier; on a CxHxW map its weights read the NCHW flattening, as PyTorch's
// Flatten), Hardswish and Logistic (sigmoid) (activations of their own layers: they are not
// clamps), ChannelMul (the
// scale of a squeeze-and-excitation module: input is the features, input2 the Cx1x1 gate) and Mul
// (a graph mul: input2 of the features' shape, elementwise, or 1xHxW, a gate per pixel broadcast
// over the channels). Each layer reads one or two tensors and writes one;
// tensors are numbered, tensor 0 is the network input, the last layer writes the logits. Shapes
// are per image, channels-first (Shape3). A fused activation (ReLU, ReLU6, HardSigmoid) is part
// of the layer that produces it. HardSigmoid, relu6(x + 3) / 6 = clamp(x / 6 + 1/2, 0, 1), is
// folded: the conv's weights are divided by 6 and 1/2 is added to its bias (lower_network), so
// the layer's activation is the clamp to [0, 1].
//
// Weights stay in the training layout here (float, OIHW: conv [O, I / groups, K, K], depthwise
// [C, 1, K, K], classifier [O, I]); the int8 layouts are made in nas/deploy/quantize.h.
// Folding (in double): scale = gamma / sqrt(running_var + eps); w' = w * scale;
// b' = beta + (b - running_mean) * scale.
//
// Only int8-deployable networks lower: ConvNeXt blocks (LayerNorm, GELU) and GELU activations
// are refused with an Error naming the layer. lower_arch() needs no weights, so
// the memory planner and the flash estimate can run on a bare ArchSpec during search.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/module.h"
#include "core/tensor.h"
#include "nas/arch/lowering.h"

namespace piconas::nas::deploy {

// A layer's kind is the lowering's LayerKind (nas/arch/lowering.h), the one list of layer kinds;
// its name is layer_kind_name. The int8 graph holds Conv, Depthwise, Add, GlobalAvgPool,
// FullyConnected, MaxPool, AvgPool, Hardswish, Logistic, ChannelMul and Mul layers; the other kinds
// are folded into a conv or refused when the graph is lowered.
enum class FusedActivation { None, ReLU, ReLU6, HardSigmoid };

// Throws Error naming `where` and the kind: for the kinds an int8 graph never holds (Input,
// BatchNorm, LayerNorm, Activation: folded or refused by lower_arch) in a switch over its layers.
[[noreturn]] void unexpected_layer_kind(LayerKind kind, const char* where);

struct Layer {
  LayerKind kind = LayerKind::Conv;
  std::string name;  // module path: "stem", "blocks.2.body.1", "blocks.2.add", "pool", "classifier"
  int input = 0;
  int input2 = -1;  // Add: the residual branch input; ChannelMul, Mul: the gate
  int output = 0;
  // Conv, Depthwise, MaxPool, AvgPool: per axis; padding = zeros before the image (top/left),
  // "same": the output tensor's size implies kernel - 1 - padding after it.
  Size2 kernel, stride, padding{0, 0};
  // AvgPool: divide by KH*KW, the padding counting as zeros (ONNX count_include_pad 1,
  // piconas_avg_pool2d_include_pad_s8); else by the count of in-image taps (TFLite's).
  bool count_include_pad = false;
  int groups = 1;  // Conv: weight [O, I / groups, KH, KW], output channel o reads group o / (O / groups)
  FusedActivation activation = FusedActivation::None;
  std::vector<float> weight;  // OIHW / [O, I]; empty after lower_arch()
  std::vector<float> bias;    // [O]; empty after lower_arch()
};

struct Graph {
  std::vector<Shape3> tensors;  // per-image shapes; tensors[0] is the input
  std::vector<Layer> layers;    // execution order
  int output() const { return layers.empty() ? 0 : layers.back().output; }
  int64_t tensor_bytes(int id) const {  // int8 bytes of one image
    const Shape3& s = tensors[static_cast<size_t>(id)];
    return s.c * s.h * s.w;
  }
};

// Structure only (no weights). Throws Error for layers int8 cannot run.
Graph lower_arch(const ArchSpec& spec);
// The same from rows the caller already has: layers == arch_layers(spec).
Graph lower_arch(const ArchSpec& spec, const std::vector<LayerInfo>& layers);
// Reasons why lower_arch would refuse spec (empty: int8-deployable).
std::vector<std::string> int8_problems(const ArchSpec& spec);
// Structure plus BN-folded float weights read from `net` (as built by build_network(spec)).
// Throws Error naming the module path when the module does not match the spec.
Graph lower_network(const ArchSpec& spec, autograd::Module& net);

// Float reference of the folded graph: images [N, C, H, W] -> logits [N, classes].
// observe (optional) sees every tensor [N, C, H, W] as soon as it is computed (tensor 0 first).
using TensorObserver = std::function<void(int tensor, const Tensor& value)>;
Tensor run_float(const Graph& graph, const Tensor& images, const TensorObserver& observe = {});

}  // namespace piconas::nas::deploy
