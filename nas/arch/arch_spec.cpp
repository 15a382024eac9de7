#include "nas/arch/arch_spec.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "nas/arch/lowering.h"

namespace piconas::nas {

BlockSpec plain_block(BlockKind kind, int kernel, int expansion, int stride, int channels) {
  return BlockSpec{kind, kernel, expansion, stride, channels, false, std::nullopt, 0};
}

namespace {

// Structural ranges: wide enough for any real network; the costs of arch_cost.cpp are computed
// with overflow checks, since these ranges alone do not keep them within int64.
constexpr int kMaxChannels = 65536;
constexpr int64_t kMaxSpatial = 16384;
constexpr int kMaxKernel = 15;
constexpr int kMaxStride = 4;
constexpr int kMaxExpansion = 16;
constexpr int kMaxClasses = 1000000;

template <class Container>
bool contains(const Container& values, int v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

template <class Container>
std::string set_str(const Container& values) {
  std::ostringstream out;
  out << "{";
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  out << "}";
  return out.str();
}

std::string block_name(size_t i) { return "block " + std::to_string(i); }

std::string join_problems(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace

const char* block_kind_name(BlockKind kind) {
  switch (kind) {
    case BlockKind::InvertedResidual:
      return "ir";
    case BlockKind::DepthwiseSeparable:
      return "ds";
    case BlockKind::ConvNeXt:
      return "cn";
    case BlockKind::Basic:
      return "rb";
    case BlockKind::Conv:
      return "cv";
  }
  throw Error("block_kind_name: invalid BlockKind " + std::to_string(static_cast<int>(kind)));
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::ReLU:
      return "relu";
    case Activation::ReLU6:
      return "relu6";
    case Activation::GELU:
      return "gelu";
    case Activation::Hardswish:
      return "hswish";
    case Activation::Hardsigmoid:
      return "hsigmoid";
    case Activation::Sigmoid:
      return "sigmoid";
  }
  throw Error("activation_name: invalid Activation " + std::to_string(static_cast<int>(act)));
}

std::string size2_str(Size2 s) {
  return s.square() ? std::to_string(s.h) : std::to_string(s.h) + "x" + std::to_string(s.w);
}

std::string shape3_str(const Shape3& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

bool has_residual(const BlockSpec& block, int in_channels) {
  if (block.kind == BlockKind::Basic) return true;
  return has_expansion(block.kind) && block.stride == 1 &&
         block.out_channels == in_channels;
}

int64_t make_divisible8(double v) {
  int64_t rounded = std::max<int64_t>(8, static_cast<int64_t>(v + 4) / 8 * 8);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += 8;
  return rounded;
}

int64_t se_channels(int64_t hidden) { return make_divisible8(static_cast<double>(hidden / 4)); }

bool has_expansion(BlockKind kind) {
  return kind == BlockKind::InvertedResidual || kind == BlockKind::ConvNeXt;
}

bool has_projection(const BlockSpec& block, int in_channels) {
  return block.kind == BlockKind::Basic && (block.stride != 1 || block.out_channels != in_channels);
}

const char* graph_op_name(GraphOp op) {
  switch (op) {
    case GraphOp::Conv:
      return "conv";
    case GraphOp::BatchNorm:
      return "batchnorm";
    case GraphOp::Activation:
      return "activation";
    case GraphOp::Add:
      return "add";
    case GraphOp::MaxPool:
      return "maxpool";
    case GraphOp::AvgPool:
      return "avgpool";
    case GraphOp::GlobalAvgPool:
      return "global_avgpool";
    case GraphOp::FullyConnected:
      return "linear";
    case GraphOp::Mul:
      return "mul";
  }
  throw Error("graph_op_name: invalid GraphOp " + std::to_string(static_cast<int>(op)));
}

std::vector<std::string> graph_problems(const ArchSpec& spec) {
  std::vector<std::string> p;
  const std::vector<GraphLayer>& layers = spec.graph;
  if (!spec.blocks.empty() || spec.head_channels != 0 || spec.classifier_hidden != 0)
    p.push_back("a graph network has no blocks, head or fc");
  if (layers.size() > kMaxGraphLayers)
    p.push_back(std::to_string(layers.size()) + " layers, over the limit of " +
                std::to_string(kMaxGraphLayers));
  auto in_range = [&](const std::string& where, const char* field, int64_t v, int64_t lo,
                      int64_t hi) {
    if (v < lo || v > hi)
      p.push_back(where + ": " + field + " " + std::to_string(v) + " not in " +
                  std::to_string(lo) + ".." + std::to_string(hi));
  };
  auto size2_in_range = [&](const std::string& where, const char* field, Size2 v, int lo, int hi) {
    in_range(where, field, v.h, lo, hi);
    in_range(where, field, v.w, lo, hi);
  };
  std::vector<std::string> names;
  for (size_t i = 0; i < layers.size() && i < kMaxGraphLayers; ++i) {
    const GraphLayer& l = layers[i];
    const std::string where = "layer " + std::to_string(i) + " '" + l.name.substr(0, 64) + "'";
    const bool name_ok = !l.name.empty() && l.name.size() <= 64 &&
                         std::all_of(l.name.begin(), l.name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '_';
                         });
    if (!name_ok) p.push_back(where + ": a name is 1..64 letters, digits or '_'");
    if (std::find(names.begin(), names.end(), l.name) != names.end())
      p.push_back(where + ": the name is used twice");
    names.push_back(l.name);
    const int op = static_cast<int>(l.op);
    if (op < 0 || op > static_cast<int>(GraphOp::Mul)) {
      p.push_back(where + ": invalid op " + std::to_string(op));
      continue;
    }
    const size_t wanted = l.op == GraphOp::Add || l.op == GraphOp::Mul ? 2 : 1;
    if (l.inputs.size() != wanted)
      p.push_back(where + ": " + graph_op_name(l.op) + " takes " + std::to_string(wanted) +
                  " input(s), got " + std::to_string(l.inputs.size()));
    for (int input : l.inputs)
      if (input < -1 || input >= static_cast<int>(i))
        p.push_back(where + ": input " + std::to_string(input) +
                    " is not an earlier layer (-1: the network input)");
    switch (l.op) {
      case GraphOp::Conv:
        in_range(where, "output channels", l.out_channels, 1, kMaxChannels);
        in_range(where, "groups", l.groups, 1, kMaxChannels);
        size2_in_range(where, "dilation", l.dilation, 1, kMaxKernel);
        if (l.pad_end != Size2{-1, -1}) size2_in_range(where, "padding after", l.pad_end, 0, kMaxKernel);
        [[fallthrough]];
      case GraphOp::MaxPool:
      case GraphOp::AvgPool:
        size2_in_range(where, "kernel", l.kernel, 1, kMaxKernel);
        size2_in_range(where, "stride", l.stride, 1, kMaxKernel);
        size2_in_range(where, "padding", l.pad, 0, kMaxKernel);
        if (l.op != GraphOp::Conv && l.pad_end != Size2{-1, -1})
          p.push_back(where + ": padding per side (pad_end) is for convs only");
        break;
      case GraphOp::FullyConnected:
        in_range(where, "output features", l.out_channels, 1, kMaxClasses);
        break;
      case GraphOp::BatchNorm:
        if (!(l.eps > 0 && l.eps < 1)) p.push_back(where + ": eps " + std::to_string(l.eps) + " not in (0, 1)");
        break;
      case GraphOp::Activation: {
        const int a = static_cast<int>(l.activation);
        if (a < 0 || a > static_cast<int>(Activation::Sigmoid))
          p.push_back(where + ": invalid activation " + std::to_string(a));
        break;
      }
      case GraphOp::Add:
      case GraphOp::GlobalAvgPool:
      case GraphOp::Mul:
        break;
    }
  }
  if (layers.empty() || layers.back().op != GraphOp::FullyConnected)
    p.push_back("the last layer must be the fully connected classifier");
  else if (layers.back().out_channels != spec.num_classes)
    p.push_back("the classifier has " + std::to_string(layers.back().out_channels) +
                " outputs but the network " + std::to_string(spec.num_classes) + " classes");
  return p;
}

std::vector<std::string> arch_problems(const ArchSpec& spec) {
  std::vector<std::string> p;
  const Shape3& in = spec.input;
  if (in.c < 1 || in.c > kMaxChannels || in.h < 1 || in.h > kMaxSpatial || in.w < 1 ||
      in.w > kMaxSpatial)
    p.push_back("input " + shape3_str(in) + ": channels must be in 1.." +
                std::to_string(kMaxChannels) + " and height/width in 1.." +
                std::to_string(kMaxSpatial));
  if (spec.blocks.size() > kMaxBlocks)
    p.push_back(std::to_string(spec.blocks.size()) + " blocks, over the limit of " + std::to_string(kMaxBlocks));
  if (spec.num_classes < 1 || spec.num_classes > kMaxClasses)
    p.push_back("classes " + std::to_string(spec.num_classes) + " not in 1.." +
                std::to_string(kMaxClasses));
  if (!spec.graph.empty()) {
    for (std::string& problem : graph_problems(spec)) p.push_back(std::move(problem));
    return p;
  }
  auto in_range = [](int v, int hi) { return v >= 1 && v <= hi; };
  auto check_channels = [&](const std::string& where, int channels) {
    if (!in_range(channels, kMaxChannels))
      p.push_back(where + ": output channels " + std::to_string(channels) + " not in 1.." +
                  std::to_string(kMaxChannels));
  };
  auto check_stride = [&](const std::string& where, Size2 stride) {
    if (!in_range(stride.h, kMaxStride) || !in_range(stride.w, kMaxStride))
      p.push_back(where + ": stride " + size2_str(stride) + " not in 1.." +
                  std::to_string(kMaxStride));
  };
  int64_t h = in.h, w = in.w;
  // A stride > 1 on a 1x1 map would shrink it below 1 under valid padding; with "same" padding it
  // silently keeps 1x1, which only wastes a layer, so the description is rejected.
  auto advance = [&](const std::string& where, Size2 stride) {
    if (!in_range(stride.h, kMaxStride) || !in_range(stride.w, kMaxStride) || h < 1 || w < 1)
      return;
    if ((stride.h > 1 && h == 1) || (stride.w > 1 && w == 1))
      p.push_back(where + ": stride " + size2_str(stride) + " on a " + std::to_string(h) + "x" +
                  std::to_string(w) + " feature map (spatial size would drop below 1)");
    h = same_out(h, stride.h);
    w = same_out(w, stride.w);
  };
  check_channels("stem", spec.stem.out_channels);
  const Size2 sk = spec.stem.kernel;
  if (!in_range(sk.h, kMaxKernel) || !in_range(sk.w, kMaxKernel))
    p.push_back("stem: kernel " + size2_str(sk) + " not in 1.." + std::to_string(kMaxKernel));
  check_stride("stem", spec.stem.stride);
  advance("stem", spec.stem.stride);
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const BlockSpec& b = spec.blocks[i];
    const std::string where = block_name(i);
    if (b.kind != BlockKind::InvertedResidual && b.kind != BlockKind::DepthwiseSeparable &&
        b.kind != BlockKind::ConvNeXt && b.kind != BlockKind::Basic && b.kind != BlockKind::Conv) {
      p.push_back(where + ": invalid block kind " + std::to_string(static_cast<int>(b.kind)));
      continue;
    }
    check_channels(where, b.out_channels);
    if (!in_range(b.kernel, kMaxKernel) || b.kernel % 2 == 0)
      p.push_back(where + ": kernel " + std::to_string(b.kernel) + " must be odd and in 1.." +
                  std::to_string(kMaxKernel));
    check_stride(where, b.stride);
    if (!has_expansion(b.kind)) {
      const char* name = b.kind == BlockKind::Basic  ? "basic residual"
                         : b.kind == BlockKind::Conv ? "conv"
                                                     : "depthwise-separable";
      if (b.expansion != 1)
        p.push_back(where + ": " + name + " block has expansion " + std::to_string(b.expansion) +
                    ", must be 1");
    } else if (b.expansion < 1 || b.expansion > kMaxExpansion) {
      p.push_back(where + ": expansion " + std::to_string(b.expansion) + " not in 1.." +
                  std::to_string(kMaxExpansion));
    }
    if (b.hidden != 0) {
      if (b.kind != BlockKind::InvertedResidual)
        p.push_back(where + ": " + block_kind_name(b.kind) +
                    " block has a hidden width (only ir blocks take one)");
      else if (!in_range(b.hidden, kMaxChannels))
        p.push_back(where + ": hidden width " + std::to_string(b.hidden) + " not in 1.." +
                    std::to_string(kMaxChannels));
      else if (b.expansion != 1)
        p.push_back(where + ": has both a hidden width " + std::to_string(b.hidden) +
                    " and expansion " + std::to_string(b.expansion) + " (expansion must be 1)");
    }
    if (b.kind != BlockKind::InvertedResidual && (b.se || b.activation))
      p.push_back(where + ": " + block_kind_name(b.kind) +
                  " block has an se or activation option (only ir blocks take them)");
    if (b.activation) {
      const Activation a = *b.activation;
      if (a != Activation::ReLU && a != Activation::ReLU6 && a != Activation::Hardswish)
        p.push_back(where + ": activation " + std::to_string(static_cast<int>(a)) +
                    " is not relu, relu6 or hswish");
      else if (a == spec.activation)
        p.push_back(where + ": activation " + activation_name(a) +
                    " is the network's: leave it out");
    }
    advance(where, b.stride);
  }
  if (spec.head_channels < 0 || spec.head_channels > kMaxChannels)
    p.push_back("head: channels " + std::to_string(spec.head_channels) + " not in 0.." +
                std::to_string(kMaxChannels));
  if (spec.classifier_hidden < 0 || spec.classifier_hidden > kMaxChannels)
    p.push_back("fc: channels " + std::to_string(spec.classifier_hidden) + " not in 0.." +
                std::to_string(kMaxChannels));
  const int a = static_cast<int>(spec.activation);
  if (a < 0 || a > static_cast<int>(Activation::Hardswish))
    p.push_back("invalid activation " + std::to_string(a));
  return p;
}

std::vector<std::string> blocks_space_problems(const ArchSpec& spec, bool mobilenetv3_values) {
  std::vector<std::string> p = arch_problems(spec);
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const BlockSpec& b = spec.blocks[i];
    const std::string where = block_name(i);
    if (!contains(kBlocksKernels, b.kernel))
      p.push_back(where + ": kernel " + std::to_string(b.kernel) + " not in the blocks space " +
                  set_str(kBlocksKernels));
    const bool mbv3_expansion = mobilenetv3_values && contains(kBlocksMbv3Expansions, b.expansion);
    if (has_expansion(b.kind) && b.hidden == 0 && !contains(kBlocksExpansions, b.expansion) &&
        !mbv3_expansion)
      p.push_back(where + ": expansion " + std::to_string(b.expansion) +
                  " not in the blocks space " + set_str(kBlocksExpansions) +
                  (mobilenetv3_values ? " + " + set_str(kBlocksMbv3Expansions) : ""));
    if (b.stride != 1 && b.stride != 2)
      p.push_back(where + ": stride " + std::to_string(b.stride) +
                  " not in the blocks space {1,2}");
    if (!contains(kBlocksChannels, b.out_channels) &&
        !(mobilenetv3_values && contains(kBlocksMbv3Channels, b.out_channels)))
      p.push_back(where + ": output channels " + std::to_string(b.out_channels) +
                  " not in the blocks space " + set_str(kBlocksChannels) +
                  (mobilenetv3_values ? " + " + set_str(kBlocksMbv3Channels) : ""));
    if (b.hidden != 0)
      p.push_back(where + ": hidden width " + std::to_string(b.hidden) +
                  " (the blocks space has expansions only)");
  }
  if (spec.classifier_hidden != 0)
    p.push_back("fc=" + std::to_string(spec.classifier_hidden) +
                " (the blocks space has no hidden classifier layer)");
  return p;
}

void check_arch(const ArchSpec& spec) {
  const auto problems = arch_problems(spec);
  PICONAS_CHECK(problems.empty(), "invalid architecture: " << join_problems(problems));
}

namespace {
// Everything of the expansion but the blocks.
ArchSpec mbv2_shell(const Mbv2Spec& spec) {
  ArchSpec arch;
  arch.input = spec.input;
  arch.num_classes = spec.num_classes;
  arch.activation = spec.activation;
  arch.stem = spec.stem;
  arch.head_channels = spec.head_channels;
  return arch;
}
}  // namespace

ArchSpec expand_mbv2(const Mbv2Spec& spec) {
  ArchSpec arch = mbv2_shell(spec);
  for (int s = 0; s < kMbv2Stages; ++s) {
    const Mbv2Stage& stage = spec.stages[s];
    PICONAS_CHECK(stage.depth >= 1 && stage.depth <= kMbv2MaxDepth,
                  "expand_mbv2: stage " << s + 1 << " depth " << stage.depth << " not in 1.."
                                        << kMbv2MaxDepth);
    for (int d = 0; d < stage.depth; ++d)
      arch.blocks.push_back(plain_block(BlockKind::InvertedResidual, 3, stage.expansion,
                                        d == 0 ? kMbv2Strides[s] : 1, stage.channels));
  }
  return arch;
}

std::vector<std::string> mbv2_problems(const Mbv2Spec& spec) {
  std::vector<std::string> p;
  for (int s = 0; s < kMbv2Stages; ++s) {
    const Mbv2Stage& st = spec.stages[s];
    const std::string where = "stage " + std::to_string(s + 1);
    if (st.depth < 1 || st.depth > kMbv2MaxDepth)
      p.push_back(where + ": depth " + std::to_string(st.depth) + " not in 1.." +
                  std::to_string(kMbv2MaxDepth));
    if (st.expansion < 1 || st.expansion > kMbv2MaxExpansion)
      p.push_back(where + ": expansion " + std::to_string(st.expansion) + " not in 1.." +
                  std::to_string(kMbv2MaxExpansion));
    if (!contains(kMbv2Channels, st.channels))
      p.push_back(where + ": channels " + std::to_string(st.channels) + " not in the mbv2 space " +
                  set_str(kMbv2Channels));
  }
  // Structural checks of the expansion; with broken stages only of input, stem and head.
  const ArchSpec arch = p.empty() ? expand_mbv2(spec) : mbv2_shell(spec);
  for (auto& reason : arch_problems(arch)) p.push_back(std::move(reason));
  return p;
}

void check_mbv2(const Mbv2Spec& spec) {
  const auto problems = mbv2_problems(spec);
  PICONAS_CHECK(problems.empty(), "invalid mbv2 architecture: " << join_problems(problems));
}

}  // namespace piconas::nas
