#include "nas/builder.h"

namespace piconas::nas {

using namespace autograd;

autograd::ActivationKind to_activation_kind(Activation activation) {
  switch (activation) {
    case Activation::ReLU: return ActivationKind::ReLU;
    case Activation::ReLU6: return ActivationKind::ReLU6;
    case Activation::GELU: return ActivationKind::GELU;
    case Activation::Hardswish: return ActivationKind::Hardswish;
  }
  throw Error("unknown activation");
}

namespace {
// conv (no bias) -> BN [-> activation]
void add_conv_bn(Sequential& seq, const Conv2dOptions& conv, const ActivationKind* act) {
  seq.add(std::make_shared<Conv2d>(conv));
  seq.add(std::make_shared<BatchNorm2d>(conv.out_channels));
  if (act) seq.add(std::make_shared<autograd::Activation>(*act));
}

// A Sequential whose children are named, for readable parameter names.
class NamedSequential : public Sequential {
 public:
  template <class M>
  void add_named(const std::string& name, std::shared_ptr<M> module) {
    register_module(name, std::move(module));
  }
};
}  // namespace

std::shared_ptr<Module> build_block(const BlockSpec& b, int64_t in, ActivationKind act) {
  auto body = std::make_shared<Sequential>();
  int64_t out = b.out_channels;
  switch (b.kind) {
    case BlockKind::InvertedResidual: {
      int64_t hidden = in * b.expansion;
      if (b.expansion != 1) add_conv_bn(*body, {in, hidden, 1}, &act);
      add_conv_bn(*body, {hidden, hidden, b.kernel, b.stride, -1, 1, hidden}, &act);
      add_conv_bn(*body, {hidden, out, 1}, nullptr);
      break;
    }
    case BlockKind::DepthwiseSeparable:
      add_conv_bn(*body, {in, in, b.kernel, b.stride, -1, 1, in}, &act);
      add_conv_bn(*body, {in, out, 1}, &act);
      break;
    case BlockKind::ConvNeXt: {
      int64_t hidden = in * b.expansion;
      body->add(std::make_shared<Conv2d>(Conv2dOptions{in, in, b.kernel, b.stride, -1, 1, in, true}));
      body->add(std::make_shared<LayerNorm2d>(in));
      body->add(std::make_shared<Conv2d>(Conv2dOptions{in, hidden, 1, 1, -1, 1, 1, true}));
      body->add(std::make_shared<autograd::Activation>(ActivationKind::GELU));
      body->add(std::make_shared<Conv2d>(Conv2dOptions{hidden, out, 1, 1, -1, 1, 1, true}));
      break;
    }
  }
  if (has_residual(b, static_cast<int>(in))) return std::make_shared<Residual>(body);
  return body;
}

std::shared_ptr<Sequential> build_network(const ArchSpec& spec) {
  check_arch(spec);
  ActivationKind act = to_activation_kind(spec.activation);
  auto net = std::make_shared<NamedSequential>();
  auto stem = std::make_shared<Sequential>();
  add_conv_bn(*stem, {spec.input.c, spec.stem.out_channels, spec.stem.kernel, spec.stem.stride}, &act);
  net->add_named("stem", stem);
  auto blocks = std::make_shared<Sequential>();
  int64_t channels = spec.stem.out_channels;
  for (const BlockSpec& b : spec.blocks) {
    blocks->add(build_block(b, channels, act));
    channels = b.out_channels;
  }
  net->add_named("blocks", blocks);
  if (spec.head_channels > 0) {
    auto head = std::make_shared<Sequential>();
    add_conv_bn(*head, {channels, spec.head_channels, 1}, &act);
    net->add_named("head", head);
    channels = spec.head_channels;
  }
  net->add_named("pool", std::make_shared<GlobalAvgPool>());
  net->add_named("classifier", std::make_shared<Linear>(channels, spec.num_classes));
  return net;
}

}  // namespace piconas::nas
