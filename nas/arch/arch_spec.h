// Typed architecture descriptions for the two block-based search spaces.
//
// ArchSpec ("blocks" space, and the block-level form every network expands to):
//   stem   conv kh x kw stride sh x sw (no bias) -> BN -> act
//   blocks each one of
//     InvertedResidual   (MobileNetV2 MBConv) [1x1 expand to in*t -> BN -> act] (skipped when
//                        t == 1), depthwise kxk stride s -> BN -> act, 1x1 project -> BN (linear);
//                        + input when stride 1 and in == out channels. MobileNetV3's bneck
//                        options: `se` inserts a squeeze-and-excitation module after the
//                        depthwise act (global average pool -> 1x1 reduce to se_channels(hidden)
//                        (bias) -> ReLU -> 1x1 expand to hidden (bias) -> hard-sigmoid ->
//                        channel-wise multiply of the depthwise output); `activation`, when
//                        set, replaces the network's activation in this block; `hidden`,
//                        when not 0, is the hidden width instead of in*t (MobileNetV3's widths
//                        200 and 184 after 80 channels; no expand conv when it equals in).
//     DepthwiseSeparable depthwise kxk stride s -> BN -> act, 1x1 pointwise -> BN -> act;
//                        no residual; expansion is always 1.
//     ConvNeXt           depthwise kxk stride s (bias) -> LayerNorm over channels ->
//                        1x1 expand to in*t (bias) -> GELU -> 1x1 project (bias);
//                        + input when stride 1 and in == out channels. GELU whatever `activation`.
//     Basic              (ResNet basic residual block) kxk conv stride s -> BN -> act -> kxk conv
//                        stride 1 -> BN, + the input (or, when the stride is not 1 or the width
//                        changes, its 1x1 stride-s projection conv with bias and no BN), -> act
//                        after the add; expansion is always 1.
//     Conv               (a plain layer: the PLiNIO SuperNet's conv 3x3 / 5x5 choice) kxk conv
//                        stride s -> BN -> act; no residual; expansion is always 1.
//   head   optional 1x1 conv (no bias) -> BN -> act (head_channels == 0: none)
//   global average pool, [classifier_hidden != 0: linear to classifier_hidden (bias) -> act,
//   MobileNetV3's last stage], linear classifier (with bias).
// Every conv uses "same" padding: (k-1)/2 zeros before and k/2 after the image per axis (the
// same k/2 on both sides for an odd kernel), output ceil(in / stride); convs followed by BN carry
// no bias. `activation` is the
// activation of stem, head, inverted residual and depthwise-separable blocks.
//
// Mbv2Spec ("mbv2" space): the 7-stage MobileNetV2 space. Stage i repeats `depth` inverted
// residual blocks (kernel 3) with one expansion and one output width; the first block of a stage
// has stride kMbv2Strides[i], the rest stride 1. expand_mbv2() gives its ArchSpec.
//
// Validity: the *_problems functions return human-readable reasons (empty = valid); the check_*
// functions throw piconas::Error listing all of them. Text forms live in nas/arch/arch_text.h,
// costs in nas/arch/arch_cost.h.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace piconas::nas {

enum class BlockKind { InvertedResidual, DepthwiseSeparable, ConvNeXt, Basic, Conv };
// Hardsigmoid and Sigmoid are gates of squeeze-and-excitation modules only (Sigmoid: an imported
// network's, nas/onnx); no block text names them, and they are never a network's or a block's
// activation. Graph networks (graph_text.h) name them "hsigmoid" and "sigmoid".
enum class Activation { ReLU, ReLU6, GELU, Hardswish, Hardsigmoid, Sigmoid };

// Text names: block kinds "ir", "ds", "cn", "rb", "cv"; activations "relu", "relu6", "gelu",
// "hswish" (and "hsigmoid", "sigmoid" in layer tables and graph networks).
const char* block_kind_name(BlockKind kind);
const char* activation_name(Activation act);

struct Shape3 {  // one image, channels-first
  int64_t c = 0, h = 0, w = 0;
  bool operator==(const Shape3&) const = default;
};
std::string shape3_str(const Shape3& s);  // "3x96x96"

struct Size2 {  // a kernel, stride, padding or dilation per axis; an int is a square one
  int h = 1, w = 1;
  constexpr Size2() = default;
  constexpr Size2(int square) : h(square), w(square) {}  // NOLINT(google-explicit-constructor)
  constexpr Size2(int height, int width) : h(height), w(width) {}
  constexpr bool square() const { return h == w; }
  bool operator==(const Size2&) const = default;
};
std::string size2_str(Size2 s);  // "3" (square) or "10x4" (height x width)

// The stem may have a non-square kernel and stride (DS-CNN's 10x4 stride 2), even sizes
// included; block kernels are square and odd.
struct StemSpec {
  int out_channels = 16;
  Size2 kernel = 3;
  Size2 stride = 2;
  bool operator==(const StemSpec&) const = default;
};

struct BlockSpec {
  BlockKind kind = BlockKind::InvertedResidual;
  int kernel = 3;
  int expansion = 1;  // always 1 for DepthwiseSeparable, Basic and Conv
  int stride = 1;
  int out_channels = 16;
  // InvertedResidual only (MobileNetV3's bneck): a squeeze-and-excitation module, and the
  // block's own activation (relu, relu6 or hswish; unset: the network's).
  bool se = false;
  std::optional<Activation> activation;
  // InvertedResidual only: the hidden width when it is not in * expansion (0: in * expansion;
  // the text form writes h<hidden> in place of e<expansion>, and expansion is then 1).
  int hidden = 0;
  bool operator==(const BlockSpec&) const = default;
};

// A block with the network's activation, no squeeze-and-excitation and hidden = in * expansion.
BlockSpec plain_block(BlockKind kind, int kernel, int expansion, int stride, int channels);

// The hidden (expanded) width of an ir or cn block whose input has in_channels channels.
inline int64_t hidden_channels(const BlockSpec& b, int64_t in_channels) {
  return b.hidden > 0 ? b.hidden : in_channels * b.expansion;
}

// torchvision's _make_divisible(v, 8) in its own (double) arithmetic: the multiple of 8 nearest
// v (halves up), at least 8, plus 8 when that falls below 90 % of v. The one rounding of
// MobileNetV3's widths: the SE squeeze (v = hidden / 4, an integer) and every width-multiplied
// channel count (v = channels * width, a double as in torchvision: at a few widths the product
// rounds below an exact multiple-of-8 boundary, e.g. 200 * 0.58, and torchvision's network has
// the smaller width, so the rounding is not done in exact rational arithmetic).
int64_t make_divisible8(double v);
// Squeeze width of the SE module of a block with `hidden` channels: MobileNetV3's
// make_divisible8(hidden / 4) (hidden / 4 floored first, as torchvision's hidden // 4).
int64_t se_channels(int64_t hidden);
// The activation block b runs: its own, or the network's.
inline Activation block_activation(const BlockSpec& b, Activation network) {
  return b.activation.value_or(network);
}

// ---- graph networks ----
// A network given as its layer list instead of blocks: an imported ONNX model (nas/onnx) or the
// JSON form of nas/arch/graph_text.h. Each layer reads the outputs of earlier layers (index into
// the list; -1 is the network input); the last layer is the FullyConnected classifier.
//   Conv            out_channels, kernel, stride, pad (zeros before the image per axis), pad_end
//                   (zeros after it; {-1, -1}: pad, symmetric), dilation, groups, bias;
//                   groups == in == out channels is a depthwise conv
//   BatchNorm       eps; Activation: activation; Add: two inputs of one shape
//   MaxPool, AvgPool kernel, stride, pad (AvgPool: count_include_pad); GlobalAvgPool -> Cx1x1
//   FullyConnected  out_channels, bias; reads C*H*W features (flattened)
//   Mul             inputs {features CxHxW, gate Cx1x1}: each channel of the features times its
//                   gate value (the squeeze-and-excitation scale; lowers to a ChannelMul row);
//                   or {a, b} of one shape: their elementwise product (a ChannelMul row whose
//                   input, the gate's shape, equals its output; float only, no int8 kernel)
enum class GraphOp {
  Conv,
  BatchNorm,
  Activation,
  Add,
  MaxPool,
  AvgPool,
  GlobalAvgPool,
  FullyConnected,
  Mul
};
const char* graph_op_name(GraphOp op);  // "conv", "batchnorm", "activation", "add", "maxpool", ...

struct GraphLayer {
  std::string name;  // unique, letters, digits and '_': the module (and tensor) name prefix
  GraphOp op = GraphOp::Conv;
  std::vector<int> inputs;  // one (Add, Mul: two) indices of earlier layers; -1: the network input
  int64_t out_channels = 0;  // Conv, FullyConnected
  Size2 kernel, stride, pad{0, 0}, dilation;  // Conv and pools
  Size2 pad_end{-1, -1};                      // Conv: zeros after the image; {-1, -1}: pad
  int64_t groups = 1;
  bool bias = false;                          // Conv, FullyConnected
  Activation activation = Activation::ReLU;   // Activation
  double eps = 1e-5;                          // BatchNorm
  bool count_include_pad = false;             // AvgPool
  bool operator==(const GraphLayer&) const = default;
};
inline constexpr size_t kMaxGraphLayers = 4096;
// Zeros after the image per axis: pad_end where given, else pad.
inline Size2 pad_after(const GraphLayer& l) { return l.pad_end == Size2{-1, -1} ? l.pad : l.pad_end; }

struct ArchSpec {
  Shape3 input{3, 96, 96};
  int num_classes = 2;
  Activation activation = Activation::ReLU6;
  StemSpec stem;
  std::vector<BlockSpec> blocks;
  int head_channels = 0;  // 0: no head conv
  // Not 0: a hidden linear layer (bias) -> act between the pool and the classifier (MobileNetV3's
  // 1x1 conv "NBN" 1280 on the pooled features); text ",fc=N" after head=.
  int classifier_hidden = 0;
  // Not empty: the network is this layer list (stem, blocks and head unused; num_classes is the
  // classifier's width).
  std::vector<GraphLayer> graph;
  bool operator==(const ArchSpec&) const = default;
};

// True when the block adds its input (stride 1 and unchanged width; never for DS; always for
// Basic, whose add takes the projected input where the shape changes).
bool has_residual(const BlockSpec& block, int in_channels);
// False for the kinds whose expansion is always 1 (ds, rb, cv): their text has no e field.
bool has_expansion(BlockKind kind);
// True for a Basic block whose shortcut is a 1x1 projection conv (stride != 1 or width changes).
bool has_projection(const BlockSpec& block, int in_channels);

// Structural problems of any ArchSpec: sizes out of range, even kernels, DS with expansion != 1,
// a stride-2 layer on a 1x1 feature map (the spatial size would drop below 1).
// Most blocks an architecture may have (MobileNetV2 has 17); bounds memory and output for any
// text, checkpoint or search candidate.
inline constexpr size_t kMaxBlocks = 1024;
std::vector<std::string> arch_problems(const ArchSpec& spec);
// arch_problems plus membership in the blocks search space: block kernel {3,5,7}, expansion
// {2,4,6} (IR, ConvNeXt), stride {1,2}, output channels {16,32,64,96,160,320}; with
// mobilenetv3_values also expansions {1,3} and channels {24,40,48} (MobileNetV3's).
std::vector<std::string> blocks_space_problems(const ArchSpec& spec,
                                               bool mobilenetv3_values = false);
void check_arch(const ArchSpec& spec);  // throws Error listing arch_problems
// The problems of a graph network's fields (arch_problems calls it when spec.graph is not empty):
// names, input indices, ranges, a FullyConnected last layer of num_classes outputs, no blocks.
// Shapes are checked by the lowering (graph_layers, nas/arch/lowering.h).
std::vector<std::string> graph_problems(const ArchSpec& spec);

inline constexpr std::array<int, 3> kBlocksKernels{3, 5, 7};
inline constexpr std::array<int, 3> kBlocksExpansions{2, 4, 6};
inline constexpr std::array<int, 6> kBlocksChannels{16, 32, 64, 96, 160, 320};
// The values the blocks space adds with its MobileNetV3 option (SpaceOptions::ir_options).
inline constexpr std::array<int, 2> kBlocksMbv3Expansions{1, 3};
inline constexpr std::array<int, 3> kBlocksMbv3Channels{24, 40, 48};

// ---- mbv2 space ----
inline constexpr int kMbv2Stages = 7;
inline constexpr std::array<int, kMbv2Stages> kMbv2Strides{1, 2, 2, 2, 1, 2, 1};
inline constexpr int kMbv2MaxDepth = 4;
inline constexpr int kMbv2MaxExpansion = 6;
// Stage output widths the space allows; the short key stores the index as one hex digit.
inline constexpr std::array<int, 16> kMbv2Channels{8,  16,  24,  32,  40,  48,  64,  80,
                                                   96, 112, 128, 160, 192, 256, 320, 384};

struct Mbv2Stage {
  int depth = 1;      // 1..4 blocks
  int expansion = 6;  // 1..6; 1 = no expand conv
  int channels = 16;  // one of kMbv2Channels
  bool operator==(const Mbv2Stage&) const = default;
};

struct Mbv2Spec {
  Shape3 input{3, 96, 96};
  int num_classes = 2;
  Activation activation = Activation::ReLU6;
  StemSpec stem;
  std::array<Mbv2Stage, kMbv2Stages> stages{};
  int head_channels = 0;
  bool operator==(const Mbv2Spec&) const = default;
};

ArchSpec expand_mbv2(const Mbv2Spec& spec);
// Space membership (depth 1..4, expansion 1..6, channels in kMbv2Channels) plus the structural
// problems of the expansion.
std::vector<std::string> mbv2_problems(const Mbv2Spec& spec);
void check_mbv2(const Mbv2Spec& spec);

// ---- named reference networks (defined in reference_networks.cpp) ----
// mbv2-bench: 3x96x96, 2 classes, ReLU6, stem 16 3x3 s2, t=6 everywhere,
//   c=[16,24,32,64,96,160,320], n=[1,2,3,4,3,3,1], no head conv.
Mbv2Spec mbv2_bench();
// mobilenetv2: the standard network: 3x224x224, 1000 classes, stem 32, t=[1,6,6,6,6,6,6],
//   head 1280.
Mbv2Spec mobilenetv2_standard();
// tiny-bench: 1x28x28, 10 classes, ReLU, stem 3x3 1->8 s1, then DS 3x3 blocks
//   16 s1, 32 s2, 32 s1, 64 s2.
ArchSpec tiny_bench();
// resnet8: the MLPerf Tiny image classification network (CIFAR-10): 3x32x32, 10 classes, ReLU,
//   stem 16 3x3 s1, Basic 3x3 blocks 16 s1, 32 s2, 64 s2, no head conv.
ArchSpec resnet8();
// dscnn: the MLPerf Tiny keyword spotting network (DS-CNN): 1x49x10 MFCC, 12 classes, ReLU,
//   stem 64 10x4 s2, 4 DS 3x3 blocks of 64 channels, stride 1, no head conv.
ArchSpec dscnn();
// mobilenetv1-025: the MLPerf Tiny Visual Wake Words network (MobileNetV1, width 0.25):
//   3x96x96, 2 classes, ReLU, stem 8 3x3 s2, 13 DS 3x3 blocks with widths
//   16, 32 s2, 32, 64 s2, 64, 128 s2, 128 x5, 256 s2, 256, no head conv.
ArchSpec mobilenetv1_025();
// mobilenetv3-small: MobileNetV3-Small (Howard et al. 2019, Table 2) at width multiplier 1.0 for
//   a Visual Wake Words input: 3x96x96, 2 classes, hswish, stem 16 3x3 s2, 11 bneck blocks
//   (ir, kernel, expansion, stride, channels, se, relu where the paper has RE), head 576. Integer
//   expansions: the paper's hidden widths 72 and 88 become 64 (16x4) and 96 (24x4); the others
//   are exact. No 1024-wide hidden classifier layer (pool -> linear classifier).
ArchSpec mobilenetv3_small();
// mobilenetv3-small with ",width=W": torchvision's mobilenet_v3_small at width multiplier `width`,
//   the paper's widths exact (hidden 72 and 88 as `h` where not an integer multiple), head
//   6 x the last output, fc make_divisible(1024 * width, 8), the rounding of mobilenetv3_large;
//   the input and classes of mobilenetv3_small() (3x96x96, 2). Width 1.0 is torchvision's network
//   (2,542,856 params at 3x224x224 and 1000 classes), not the integer-expansion
//   mobilenetv3_small() above. Throws unless 0 < width <= 4.
ArchSpec mobilenetv3_small(double width);
// mobilenetv3-large: MobileNetV3-Large (Howard et al. 2019, Table 1; torchvision's
//   mobilenet_v3_large) at width multiplier `width` (torchvision's rule: every stem, hidden and
//   output width w becomes make_divisible(w * width, 8); head 6 x the last output; fc
//   make_divisible(1280 * width, 8)), for ImageNet: 3x224x224, 1000 classes, hswish, 15 bneck
//   blocks (ir; `h` where the hidden width is not an integer multiple of the input), head 960,
//   fc 1280 (the paper's 1x1 conv "NBN" on the pooled features). Throws unless 0 < width <= 4.
ArchSpec mobilenetv3_large(double width = 1.0);

}  // namespace piconas::nas
