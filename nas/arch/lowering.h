// The one lowering of an architecture: arch_layers(spec) expands an ArchSpec into the typed list
// of its layers, in execution order, with shapes, parameter and MAC counts. Every consumer reads
// this list: the cost model (nas/arch/arch_cost.h, nas/search/cost_model.h), the training network
// (nas/builder.h), the int8 graph (nas/deploy/graph.h) and the DNAS cost (nas/dnas). A new block
// kind is added here (and in arch_spec/arch_text for its description) and nowhere else.
//
// Rows: the input row first, then per layer
//   Conv, Depthwise dense conv (groups 1), depthwise conv (groups == input channels); "same"
//                   padding per axis (same_pad_before zeros before, k/2 after), bias only where no
//                   BatchNorm follows
//   BatchNorm, LayerNorm (over channels), Activation (kind in `activation`)
//   Add             residual add of the row `skip` (the block input, or a Basic block's
//                   projection) and the row before
//   GlobalAvgPool   -> Cx1x1
//   ChannelMul      squeeze-and-excitation scale: the row `skip` (CxHxW features) times the row
//                   before (the Cx1x1 gate), channel by channel -> CxHxW; in a graph network
//                   the gate may also have the features' shape (input == output, type "mul"):
//                   their elementwise product, or be 1xHxW (type "mul"): each pixel's channels
//                   times its gate value (spatial attention); both the int8 graph's Mul layer
//                   (mul_gate tells the three apart)
//   FullyConnected  classifier, with bias; with classifier_hidden, first the hidden linear layer
//                   "fc" (module path fc.0) and its activation "fc.act" (fc.1)
//   MaxPool, AvgPool graph networks only
// A graph network (ArchSpec::graph) lowers to one row per GraphLayer, in its order, named and
// module-pathed by the layer's name; a row's `source` is set whenever it reads another row than
// the one before it, an Add's `skip` is its second input; a Mul becomes a ChannelMul row whose
// `skip` is the features (its first input) and whose source is the gate (its second).
// The layer structure of each block is the one documented in nas/arch/arch_spec.h. A Basic block
// lowers to [shortcut 1x1 conv (bias, reads the block input)], conv1 (reads the block input),
// BN, act, conv2, BN, add (skip: the shortcut row or the block input), act; module paths
// blocks.i.shortcut, blocks.i.body.0..4, blocks.i.add, blocks.i.act.
// An ir block with `se` has, after its depthwise act, the rows GlobalAvgPool (bN.se.pool),
// Conv 1x1 with bias (bN.se.reduce), Activation ReLU, Conv 1x1 with bias (bN.se.expand),
// Activation Hardsigmoid (bN.se.gate), ChannelMul (bN.se.scale, skip: the depthwise act row);
// module paths P.K.0..4 for the five inner rows and P.K for the scale, P.K being the SE module.
//   params  conv/linear weights, biases where present, BatchNorm and LayerNorm gamma + beta
//           (2 per channel; BN running statistics are buffers, not parameters).
//   MACs    conv: out_c * out_h * out_w * (in_c / groups) * kh * kw; linear: in * out;
//           zero for norms, activations, residual adds and pooling (docs/metrics.md, costs).
// arch_layers calls check_arch first, and throws Error when a count or a running total would
// overflow int64.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"

namespace piconas::nas {

// Output size of a "same"-padded layer on one axis: padding (k-1)/2 before and k/2 after the
// image (k-1 in all), (in + (k-1) - k) / stride + 1 == (in - 1) / stride + 1 == ceil(in / stride).
// The one place this formula lives.
inline int64_t same_out(int64_t in, int stride) { return (in - 1) / stride + 1; }
// Zeros before the image on one axis ("same"): (k-1)/2 (k/2 for an odd kernel); k/2 follow it.
inline int same_pad_before(int kernel) { return (kernel - 1) / 2; }

// Output size of a conv or pooling window on one axis (floor), for any padding and dilation;
// 0 or less: the window does not fit.
inline int64_t window_out(int64_t in, int kernel, int stride, int pad_before, int pad_after,
                          int dilation) {
  return (in + int64_t{pad_before} + pad_after - int64_t{dilation} * (kernel - 1) - 1) / stride + 1;
}
inline int64_t window_out(int64_t in, int kernel, int stride, int pad, int dilation) {
  return window_out(in, kernel, stride, pad, pad, dilation);
}

// Output shape of a "same"-padded conv with out_channels channels.
inline Shape3 same_conv_out(const Shape3& in, int64_t out_channels, Size2 stride) {
  return {out_channels, same_out(in.h, stride.h), same_out(in.w, stride.w)};
}

// The one list of layer kinds: the rows of the lowering and the layers of deploy's int8 graph
// (nas/deploy/graph.h), which folds BatchNorm and Activation rows into the Conv before them and
// uses the remaining kinds. (ops/op_list.def is another list: the differentiable kernels of ops/,
// with no shapes or structure, such as sigmoid, mul, dropout and the loss.)
enum class LayerKind {
  Input,
  Conv,
  Depthwise,
  BatchNorm,
  LayerNorm,
  Activation,
  Add,
  GlobalAvgPool,
  FullyConnected,
  MaxPool,  // graph networks only (nas/arch/arch_spec.h, GraphLayer)
  AvgPool,
  ChannelMul,  // squeeze-and-excitation scale (blocks with se); graph mul of one shape
  Hardswish,   // int8 graph only: a hard-swish Activation row, a layer of its own there because
               // it is not a clamp that fuses into the conv before it
  Mul,         // int8 graph only: a graph mul's ChannelMul row whose gate is not Cx1x1 (the
               // elementwise product of two tensors of one shape; TFLite's MUL)
  Logistic     // int8 graph only: a sigmoid Activation row, a layer of its own (TFLite's
               // LOGISTIC, a lookup in a 256-entry table)
};
const char* layer_kind_name(LayerKind kind);  // "conv", "depthwise", "batchnorm", ...

// The gate of a ChannelMul row (its `input`): Cx1x1 (the squeeze-and-excitation channel scale),
// the features' shape (elementwise product; also a Cx1x1 gate on 1x1 features) or 1xHxW (one
// value per pixel, broadcast over the channels: spatial attention).
enum class MulGate { Channel, Elementwise, Pixel };

// Channel width of a block layer's input or output, relative to the block: its input width, its
// hidden width (input x expansion) or its output width. The DNAS cost substitutes learned counts.
enum class BlockWidth { None, In, Hidden, Out };

struct LayerInfo {
  std::string name;  // "stem.conv", "b3.dw.bn", "b3.add", "pool", "classifier"
  LayerKind kind = LayerKind::Input;
  std::string type;  // "conv3x3/s2", "dwconv5x5", "bn", "ln", "relu6", "add", "avgpool", "linear"
  Shape3 output;     // per image; pool and classifier outputs are Cx1x1
  int64_t params = 0;
  int64_t macs = 0;
  // Structure, for the consumers that build or lower the layer.
  std::string path;  // module path in build_network's tree: "stem.0", "blocks.3.body.1",
                     // "head.1", "pool", "classifier"; Add rows: "blocks.3.add"; input: ""
  Shape3 input;      // per image
  Size2 kernel, stride;
  // Zeros before (pad) and after (pad_end) the image per axis: Conv, Depthwise ("same":
  // same_pad_before and k/2 after; a graph conv: its pad and pad_after), MaxPool, AvgPool
  // (symmetric: pad_end == pad).
  Size2 pad{0, 0}, pad_end{0, 0}, dilation;
  int64_t groups = 1;                        // Depthwise: the input channels
  bool bias = false;                         // Conv, Depthwise, FullyConnected
  Activation activation = Activation::ReLU;  // Activation rows
  int block = -1;  // index in spec.blocks; -1 for input, stem, head, pool, classifier
  int skip = -1;   // Add rows: index of the row whose output is the residual input;
                   // ChannelMul rows: the row whose features the gate scales
  int source = -1;  // index of the row this row reads; -1: the row before. A Basic block's
                    // projection and first conv read the block input (source = its row).
  BlockWidth in_width = BlockWidth::None, out_width = BlockWidth::None;  // block rows
  double eps = 1e-5;               // BatchNorm
  bool count_include_pad = false;  // AvgPool
};

std::vector<LayerInfo> arch_layers(const ArchSpec& spec);
// The gate form of a ChannelMul row (Error for other rows).
MulGate mul_gate(const LayerInfo& row);
// The index of the row that row `index` reads: its source, or the row before it.
inline size_t source_row(const LayerInfo& row, size_t index) {
  return row.source >= 0 ? static_cast<size_t>(row.source) : index - 1;
}
// The rows of a graph network (spec.graph not empty; arch_layers calls it after check_arch).
// Throws Error naming the layer when shapes do not fit: channels of an Add or a Conv's groups,
// a window larger than its padded input, a count overflowing int64.
std::vector<LayerInfo> graph_layers(const ArchSpec& spec);

// The rows of one block whose input is `input`, named and numbered as block `index` of a
// network; the first row is an Input row for `input` (the residual Add's skip row). No
// check_arch: the caller has checked the spec the block belongs to.
std::vector<LayerInfo> block_layers(const BlockSpec& block, const Shape3& input,
                                    Activation activation, int index);

}  // namespace piconas::nas
