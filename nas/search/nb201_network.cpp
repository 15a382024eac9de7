#include "nas/search/nb201_network.h"

#include <algorithm>

#include "core/error.h"

namespace piconas::nas::search {

using namespace autograd;

namespace {

// ReLU -> conv (no bias) -> BN
std::shared_ptr<Module> relu_conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  auto seq = std::make_shared<Sequential>();
  seq->add(std::make_shared<autograd::Activation>(ActivationKind::ReLU));
  seq->add(std::make_shared<Conv2d>(Conv2dOptions{in, out, kernel, stride}));
  seq->add(std::make_shared<BatchNorm2d>(out));
  return seq;
}

}  // namespace

Nb201Cell::Nb201Cell(const Nb201Genotype& genotype, int64_t channels) : genotype_(genotype) {
  for (int e = 0; e < kNb201Edges; ++e) {
    std::shared_ptr<Module> op;
    switch (genotype[e]) {
      case Nb201Op::None:
      case Nb201Op::SkipConnect:
        break;
      case Nb201Op::NorConv1x1:
        op = relu_conv_bn(channels, channels, 1, 1);
        break;
      case Nb201Op::NorConv3x3:
        op = relu_conv_bn(channels, channels, 3, 1);
        break;
      case Nb201Op::AvgPool3x3:
        op = std::make_shared<AvgPool2d>(ops::Pool2dParams{3, 3, 1, 1, 1, 1, false});
        break;
    }
    if (op) {
      const auto& nodes = kNb201EdgeNodes[e];
      std::string name = "e";
      name.append(std::to_string(nodes[1])).append("_").append(std::to_string(nodes[0]));
      register_module(name, op);
    }
    edges_[e] = op;
  }
}

Variable Nb201Cell::forward(const Variable& x) {
  std::array<Variable, 4> nodes;
  nodes[0] = x;
  for (int j = 1; j < 4; ++j) {
    Variable sum;
    for (int e = 0; e < kNb201Edges; ++e) {
      if (kNb201EdgeNodes[e][1] != j || genotype_[e] == Nb201Op::None) continue;
      const Variable& input = nodes[kNb201EdgeNodes[e][0]];
      Variable y = edges_[e] ? (*edges_[e])(input) : input;
      sum = sum.defined() ? add(sum, y) : y;
    }
    nodes[j] = sum.defined() ? sum : scale(x, 0.0);
  }
  return nodes[3];
}

Nb201Reduction::Nb201Reduction(int64_t in_channels, int64_t out_channels) {
  conv_a_ = register_module("conv_a", relu_conv_bn(in_channels, out_channels, 3, 2));
  conv_b_ = register_module("conv_b", relu_conv_bn(out_channels, out_channels, 3, 1));
  auto shortcut = std::make_shared<Sequential>();
  shortcut->add(std::make_shared<AvgPool2d>(ops::Pool2dParams{2, 2, 2, 2, 0, 0, false}));
  shortcut->add(std::make_shared<Conv2d>(Conv2dOptions{in_channels, out_channels, 1}));
  shortcut_ = register_module("shortcut", std::shared_ptr<Module>(shortcut));
}

Variable Nb201Reduction::forward(const Variable& x) {
  return add((*conv_b_)((*conv_a_)(x)), (*shortcut_)(x));
}

std::vector<std::string> nb201_macro_problems(const Nb201MacroOptions& o) {
  std::vector<std::string> problems;
  if (o.input.c < 1 || o.input.c > 4096) problems.push_back("input channels out of 1..4096");
  if (o.input.h < 4 || o.input.w < 4 || o.input.h % 4 || o.input.w % 4 || o.input.h > 4096 ||
      o.input.w > 4096)
    problems.push_back("nb201 input " + shape3_str(o.input) +
                       ": height and width must be multiples of 4 (two stride-2 reductions)");
  if (o.num_classes < 1) problems.push_back("num_classes must be >= 1");
  if (o.channels < 1 || o.channels > 4096) problems.push_back("channels out of 1..4096");
  if (o.cells_per_stage < 0 || o.cells_per_stage > 64)
    problems.push_back("cells per stage out of 0..64");
  return problems;
}

Nb201Network::Nb201Network(const Nb201Genotype& genotype, const Nb201MacroOptions& o) {
  const auto problems = nb201_macro_problems(o);
  PICONAS_CHECK(problems.empty(), "nb201 network: " << problems.front());
  const int64_t c = o.channels;
  auto stem = std::make_shared<Sequential>();
  stem->add(std::make_shared<Conv2d>(Conv2dOptions{o.input.c, c, 3}));
  stem->add(std::make_shared<BatchNorm2d>(c));
  stages_.push_back(register_module("stem", std::shared_ptr<Module>(stem)));
  auto cells = std::make_shared<Sequential>();
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t width = c << stage;
    if (stage > 0) cells->add(std::make_shared<Nb201Reduction>(width / 2, width));
    for (int k = 0; k < o.cells_per_stage; ++k)
      cells->add(std::make_shared<Nb201Cell>(genotype, width));
  }
  stages_.push_back(register_module("cells", std::shared_ptr<Module>(cells)));
  auto lastact = std::make_shared<Sequential>();
  lastact->add(std::make_shared<BatchNorm2d>(4 * c));
  lastact->add(std::make_shared<autograd::Activation>(ActivationKind::ReLU));
  stages_.push_back(register_module("lastact", std::shared_ptr<Module>(lastact)));
  stages_.push_back(
      register_module("pool", std::shared_ptr<Module>(std::make_shared<GlobalAvgPool>())));
  stages_.push_back(register_module(
      "classifier", std::shared_ptr<Module>(std::make_shared<Linear>(4 * c, o.num_classes))));
}

Variable Nb201Network::forward(const Variable& x) {
  Variable y = x;
  for (const auto& stage : stages_) y = (*stage)(y);
  return y;
}

CostEstimate nb201_cost(const Nb201Genotype& genotype, const Nb201MacroOptions& o) {
  const auto problems = nb201_macro_problems(o);
  PICONAS_CHECK(problems.empty(), "nb201 cost: " << problems.front());
  CostEstimate cost;
  // A conv followed by BN: weights, BN gamma+beta, MACs at an output map of hw pixels; flash
  // holds the int8 weights and 12 bytes per output channel (BN folded).
  auto conv = [&](int64_t in, int64_t out, int64_t k, int64_t hw, bool bn) {
    const int64_t weights = in * out * k * k;
    cost.params += weights + (bn ? 2 * out : 0);
    cost.macs += weights * hw;
    cost.flash += weights + kFlashBytesPerChannel * out;
  };
  const int64_t c = o.channels;
  int64_t h = o.input.h, w = o.input.w;
  conv(o.input.c, c, 3, h * w, true);
  cost.peak_sram = (o.input.c + c) * h * w;

  // Cell peak: at node j, every node i < j still read by an edge into j or later, the sum
  // being built for j, and one op output when an incoming edge computes something.
  int64_t cell_units = 0;
  for (int j = 1; j < 4; ++j) {
    int64_t units = 1;
    bool computes = false;
    for (int i = 0; i < j; ++i) {
      bool read_later = false;
      for (int e = 0; e < kNb201Edges; ++e)
        if (kNb201EdgeNodes[e][0] == i && kNb201EdgeNodes[e][1] >= j &&
            genotype[e] != Nb201Op::None)
          read_later = true;
      units += read_later ? 1 : 0;
    }
    for (int e = 0; e < kNb201Edges; ++e)
      if (kNb201EdgeNodes[e][1] == j && genotype[e] != Nb201Op::None &&
          genotype[e] != Nb201Op::SkipConnect)
        computes = true;
    cell_units = std::max(cell_units, units + (computes ? 1 : 0));
  }
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t width = c << stage;
    if (stage > 0) {
      const int64_t in = width / 2, in_size = in * h * w;
      h /= 2;
      w /= 2;
      const int64_t out_size = width * h * w, pooled = in * h * w;
      conv(in, width, 3, h * w, true);     // conv_a
      conv(width, width, 3, h * w, true);  // conv_b
      conv(in, width, 1, h * w, false);    // shortcut
      cost.peak_sram = std::max({cost.peak_sram, in_size + 2 * out_size,
                                 in_size + out_size + pooled, 2 * out_size + pooled, 3 * out_size});
    }
    if (o.cells_per_stage > 0)
      cost.peak_sram = std::max(cost.peak_sram, cell_units * width * h * w);
    for (int k = 0; k < o.cells_per_stage; ++k)
      for (Nb201Op op : genotype) {
        if (op == Nb201Op::NorConv1x1) conv(width, width, 1, h * w, true);
        if (op == Nb201Op::NorConv3x3) conv(width, width, 3, h * w, true);
      }
  }
  const int64_t last = 4 * c;
  cost.params += 2 * last;  // lastact BN, not foldable (it follows an add)
  cost.flash += kFlashBytesPerNormChannel * last;
  cost.params += last * o.num_classes + o.num_classes;
  cost.macs += last * o.num_classes;
  cost.flash += last * o.num_classes + kFlashBytesPerChannel * o.num_classes;
  cost.peak_sram = std::max(cost.peak_sram, last * h * w + last);
  return cost;
}

}  // namespace piconas::nas::search
