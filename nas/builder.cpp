#include "nas/builder.h"

#include <algorithm>
#include <string>

#include "autograd/functions.h"
#include "nas/arch/lowering.h"

namespace piconas::nas {

using namespace autograd;

autograd::ActivationKind to_activation_kind(Activation activation) {
  switch (activation) {
    case Activation::ReLU:
      return ActivationKind::ReLU;
    case Activation::ReLU6:
      return ActivationKind::ReLU6;
    case Activation::GELU:
      return ActivationKind::GELU;
    case Activation::Hardswish:
      return ActivationKind::Hardswish;
    case Activation::Hardsigmoid:
      return ActivationKind::Hardsigmoid;
    case Activation::Sigmoid:
      return ActivationKind::Sigmoid;
  }
  throw Error("unknown activation");
}

namespace {
// A Sequential whose children are named, for readable parameter names.
class NamedSequential : public Sequential {
 public:
  template <class M>
  void add_named(const std::string& name, std::shared_ptr<M> module) {
    register_module(name, std::move(module));
  }
};

}  // namespace

std::shared_ptr<Module> build_module(const LayerInfo& row) {
  switch (row.kind) {
    case LayerKind::Conv:
    case LayerKind::Depthwise:
    {
      // "same" (the blocks' rows: autograd's padding -1, per axis) or symmetric padding.
      const bool same = row.pad == Size2{same_pad_before(row.kernel.h), same_pad_before(row.kernel.w)} &&
                        row.pad_end == Size2{row.kernel.h / 2, row.kernel.w / 2} && row.dilation == Size2{};
      PICONAS_CHECK(same || row.dilation.h == row.dilation.w,
                    "build_network: layer '" << row.name
                                             << "' has a dilation per axis, that autograd::Conv2d does not support");
      Conv2dOptions o{row.input.c, row.output.c, row.kernel.h, row.stride.h,
                      same ? -1 : row.pad.h, same ? 1 : row.dilation.h,
                      row.groups, row.bias, row.kernel.w, row.stride.w};
      if (!same) {  // explicit zeros per side (graph networks)
        o.padding_w = row.pad.w;
        o.padding_h_end = row.pad_end.h;
        o.padding_w_end = row.pad_end.w;
      }
      return std::make_shared<Conv2d>(o);
    }
    case LayerKind::BatchNorm:
      return std::make_shared<BatchNorm2d>(row.output.c, 0.1, row.eps);
    case LayerKind::LayerNorm:
      return std::make_shared<LayerNorm2d>(row.output.c);
    case LayerKind::Activation:
      return std::make_shared<autograd::Activation>(to_activation_kind(row.activation));
    case LayerKind::GlobalAvgPool:
      return std::make_shared<GlobalAvgPool>();
    case LayerKind::FullyConnected:
      return std::make_shared<Linear>(row.input.c * row.input.h * row.input.w, row.output.c,
                                      row.bias);
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      const ops::Pool2dParams p{row.kernel.h, row.kernel.w, row.stride.h, row.stride.w,
                                row.pad.h,    row.pad.w,    row.count_include_pad};
      if (row.kind == LayerKind::MaxPool) return std::make_shared<MaxPool2d>(p);
      return std::make_shared<AvgPool2d>(p);
    }
    case LayerKind::Input:
    case LayerKind::Add:
    case LayerKind::ChannelMul:
      break;
    case LayerKind::Hardswish:  // int8 graph only (lowering.h): no lowering row has it
    case LayerKind::Logistic:
    case LayerKind::Mul:
      throw Error("build_network: layer '" + row.name + "' is not a lowering row");
  }
  return nullptr;
}

namespace {
// A basic residual block (nas/arch/arch_spec.h, Basic): act(body(x) + shortcut(x)), the shortcut
// being the identity or a 1x1 projection conv. Children "shortcut" (when present), "body", "act".
class BasicResidual : public Module {
 public:
  BasicResidual(std::shared_ptr<Module> shortcut, std::shared_ptr<Module> body,
                std::shared_ptr<Module> act) {
    if (shortcut) shortcut_ = register_module("shortcut", std::move(shortcut));
    body_ = register_module("body", std::move(body));
    act_ = register_module("act", std::move(act));
  }
  Variable forward(const Variable& x) override {
    const Variable skip = shortcut_ ? (*shortcut_)(x) : x;
    return (*act_)(add(skip, (*body_)(x)));
  }
  const char* kind() const override { return "basic_residual"; }

 private:
  std::shared_ptr<Module> shortcut_, body_, act_;
};

// Squeeze-and-excitation (nas/arch/arch_spec.h): x * gate(x), gate = children "1".."4" applied
// to the global average pool "0" of x, as [N, C, 1, 1].
class SqueezeExcite : public Module {
 public:
  explicit SqueezeExcite(const std::vector<std::shared_ptr<Module>>& parts) {
    for (size_t i = 0; i < parts.size(); ++i)
      parts_.push_back(register_module(std::to_string(i), parts[i]));
  }
  Variable forward(const Variable& x) override {
    Variable g = (*parts_[0])(x);
    g = reshape(g, {x.shape()[0], x.shape()[1], 1, 1});
    for (size_t i = 1; i < parts_.size(); ++i) g = (*parts_[i])(g);
    return channel_mul(x, g);
  }
  const char* kind() const override { return "squeeze_excite"; }

 private:
  std::vector<std::shared_ptr<Module>> parts_;
};

bool path_ends_with(const LayerInfo& row, const std::string& suffix) {
  return row.path.size() >= suffix.size() &&
         row.path.compare(row.path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The block rows (first row: its input) as a Sequential, in a Residual when they end in an add,
// or as a BasicResidual when the add is followed by the block's own activation.
std::shared_ptr<Module> block_module(const std::vector<LayerInfo>& rows, size_t begin, size_t end) {
  auto body = std::make_shared<Sequential>();
  std::shared_ptr<Module> shortcut, act;
  bool residual = false;
  for (size_t i = begin; i < end; ++i) {
    if (rows[i].kind == LayerKind::GlobalAvgPool) {  // an SE module: the rows up to its scale
      std::vector<std::shared_ptr<Module>> parts;
      for (; i < end && rows[i].kind != LayerKind::ChannelMul; ++i) parts.push_back(build_module(rows[i]));
      PICONAS_CHECK(i < end, "build_network: block row '" << rows[begin].name
                                                          << "' has a pool without its SE scale");
      body->add(std::make_shared<SqueezeExcite>(parts));
      continue;
    }
    if (rows[i].kind == LayerKind::Add) residual = true;
    auto m = build_module(rows[i]);
    if (!m) continue;
    if (path_ends_with(rows[i], ".shortcut"))
      shortcut = m;
    else if (residual && rows[i].kind == LayerKind::Activation)
      act = m;
    else
      body->add(m);
  }
  if (act) return std::make_shared<BasicResidual>(shortcut, body, act);
  if (residual) return std::make_shared<Residual>(body);
  return body;
}
// A BatchNorm2d directly followed by a ReLU or ReLU6 in a Sequential (conv -> BN -> act) runs
// as one fused op in training (autograd batchnorm2d_act, the same bits as the two modules):
// the BatchNorm applies the activation and the Activation module passes its input through.
// Both modules stay, so parameter names and forward hooks are unchanged. Not for the
// SuperNet's blocks (build_block): their channel masks go between BatchNorm and activation.
void fuse_batchnorm_activations(Module& net) {
  net.visit([](Module& m) {
    if (std::string(m.kind()) != "sequential") return;  // GraphNetwork: not run in sequence
    const auto& children = m.children();
    for (size_t i = 0; i + 1 < children.size(); ++i) {
      auto* bn = dynamic_cast<BatchNorm2d*>(children[i].second.get());
      auto* act = dynamic_cast<autograd::Activation*>(children[i + 1].second.get());
      if (!bn || !act) continue;
      if (act->activation() == ActivationKind::ReLU)
        bn->activation = ops::NormActivation::ReLU;
      else if (act->activation() == ActivationKind::ReLU6)
        bn->activation = ops::NormActivation::ReLU6;
      else
        continue;
      act->applied_by_batchnorm = true;
    }
  });
}
}  // namespace

Variable graph_output(const LayerInfo& row, const Variable& y) {
  if (row.kind != LayerKind::GlobalAvgPool) return y;
  return reshape(y, {y.shape()[0], y.shape()[1], 1, 1});
}

Variable gated(MulGate gate, const Variable& features, const Variable& g) {
  switch (gate) {
    case MulGate::Channel: return channel_mul(features, g);
    case MulGate::Elementwise: return mul(features, g);
    case MulGate::Pixel: return pixel_mul(features, g);
  }
  throw Error("gated: unknown gate form");
}

Variable graph_row_forward(const LayerInfo& row, size_t index, const std::vector<Variable>& outputs,
                           Module* module) {
  Variable in = outputs[source_row(row, index)];
  if (row.kind == LayerKind::Add) return autograd::add(in, outputs[static_cast<size_t>(row.skip)]);
  if (row.kind == LayerKind::ChannelMul)  // features (skip) times the gate
    return gated(mul_gate(row), outputs[static_cast<size_t>(row.skip)], in);
  if (row.kind == LayerKind::FullyConnected && in.value().ndim() == 4)  // flatten C, H, W
    in = reshape(in, {in.shape()[0], in.shape()[1] * in.shape()[2] * in.shape()[3]});
  return graph_output(row, (*module)(in));
}

GraphNetwork::GraphNetwork(std::vector<LayerInfo> rows) : rows_(std::move(rows)) {
  for (const LayerInfo& row : rows_) {
    std::shared_ptr<Module> m = build_module(row);
    if (m) register_module(row.path, m);
    modules_.push_back(std::move(m));
  }
}

Variable GraphNetwork::forward(const Variable& x) {
  std::vector<Variable> outputs(rows_.size());
  outputs[0] = x;
  for (size_t i = 1; i < rows_.size(); ++i) {
    outputs[i] = graph_row_forward(rows_[i], i, outputs, modules_[i].get());
  }
  return outputs.back();
}

std::shared_ptr<Module> build_block(const BlockSpec& b, int64_t in, Activation act) {
  // Spatial size does not change the modules; 1x1 keeps the shapes small.
  const std::vector<LayerInfo> rows = block_layers(b, Shape3{in, 1, 1}, act, 0);
  return block_module(rows, 1, rows.size());
}

std::shared_ptr<Sequential> build_network(const ArchSpec& spec) {
  const std::vector<LayerInfo> rows = arch_layers(spec);
  if (!spec.graph.empty()) return std::make_shared<GraphNetwork>(rows);
  auto starts = [](const LayerInfo& row, const char* prefix) {
    return row.path.rfind(prefix, 0) == 0;
  };
  auto net = std::make_shared<NamedSequential>();
  auto stem = std::make_shared<Sequential>();
  auto blocks = std::make_shared<Sequential>();
  auto head = std::make_shared<Sequential>();
  std::shared_ptr<Sequential> fc;
  net->add_named("stem", stem);
  net->add_named("blocks", blocks);
  if (std::any_of(rows.begin(), rows.end(), [&](const LayerInfo& r) { return starts(r, "head."); }))
    net->add_named("head", head);
  for (size_t i = 1; i < rows.size();) {
    const LayerInfo& row = rows[i];
    if (row.block >= 0) {  // every row of this block
      size_t end = i;
      while (end < rows.size() && rows[end].block == row.block) ++end;
      blocks->add(block_module(rows, i, end));
      i = end;
      continue;
    }
    if (starts(row, "stem.")) {
      stem->add(build_module(row));
    } else if (starts(row, "head.")) {
      head->add(build_module(row));
    } else if (starts(row, "fc.")) {  // the hidden classifier layer, after the pool
      if (!fc) {
        fc = std::make_shared<Sequential>();
        net->add_named("fc", fc);
      }
      fc->add(build_module(row));
    } else {
      net->add_named(row.path, build_module(row));
    }
    ++i;
  }
  fuse_batchnorm_activations(*net);
  return net;
}

}  // namespace piconas::nas
