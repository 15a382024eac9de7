// DnasNetwork::cost: the layer formulas of nas/arch/arch_cost.cpp written on autograd scalars,
// so channel counts (sums of PIT masks) and branch weights theta carry gradients.
#include "autograd/functions.h"
#include "nas/dnas/supernet.h"

namespace piconas::nas::dnas {

using autograd::Variable;

namespace {
Variable constant(double v) { return Variable(Tensor::full({1}, v)); }
Variable operator+(const Variable& a, const Variable& b) { return autograd::add(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return autograd::mul(a, b); }
Variable operator*(double f, const Variable& a) { return autograd::scale(a, f); }

struct Costs {
  Variable params = constant(0.0), macs = constant(0.0);
  void add(const Variable& p, const Variable& m) {
    params = params + p;
    macs = macs + m;
  }
  Variable of(CostKind kind) const { return kind == CostKind::Params ? params : macs; }
};

// Dense conv "same" padding, no bias, followed by BN: out_hw = output pixels.
void conv_bn(Costs& c, const Variable& cin, const Variable& cout, int k, double out_hw) {
  const Variable w = static_cast<double>(k * k) * (cin * cout);
  c.add(w + 2.0 * cout, out_hw * w);
}
void depthwise_bn(Costs& c, const Variable& ch, int k, double out_hw) {
  const Variable w = static_cast<double>(k * k) * ch;
  c.add(w + 2.0 * ch, out_hw * w);
}

Costs block_cost(const BlockSpec& b, const Variable& cin, const Variable& cout, const Shape3& in) {
  Costs c;
  const double in_hw = static_cast<double>(in.h * in.w);
  const double out_hw =
      static_cast<double>(((in.h - 1) / b.stride + 1) * ((in.w - 1) / b.stride + 1));
  const Variable hidden = static_cast<double>(b.expansion) * cin;
  switch (b.kind) {
    case BlockKind::InvertedResidual:
      if (b.expansion != 1) conv_bn(c, cin, hidden, 1, in_hw);
      depthwise_bn(c, hidden, b.kernel, out_hw);
      conv_bn(c, hidden, cout, 1, out_hw);
      break;
    case BlockKind::DepthwiseSeparable:
      depthwise_bn(c, cin, b.kernel, out_hw);
      conv_bn(c, cin, cout, 1, out_hw);
      break;
    case BlockKind::ConvNeXt: {
      const Variable dw = static_cast<double>(b.kernel * b.kernel) * cin;
      c.add(dw + cin + 2.0 * cin, out_hw * dw);  // dw weights + bias, LayerNorm
      const Variable expand = cin * hidden, project = hidden * cout;
      c.add(expand + hidden, out_hw * expand);
      c.add(project + cout, out_hw * project);
      break;
    }
  }
  return c;
}

Variable count(const std::shared_ptr<MaskGroup>& group, int64_t full) {
  if (!group) return constant(static_cast<double>(full));
  PICONAS_CHECK(group->mask.defined(), "DnasNetwork::cost: call forward() first");
  return autograd::sum(group->mask);
}
}  // namespace

Variable DnasNetwork::cost(CostKind kind) const {
  Costs total;
  const ArchSpec& s = seed_;
  const int64_t stem_hw =
      ((s.input.h - 1) / s.stem.stride + 1) * ((s.input.w - 1) / s.stem.stride + 1);
  Variable channels = count(stem_group_, s.stem.out_channels);
  conv_bn(total, constant(static_cast<double>(s.input.c)), channels, s.stem.kernel,
          static_cast<double>(stem_hw));
  int64_t last_width = s.stem.out_channels;
  std::shared_ptr<MaskGroup> last_group = stem_group_;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const SuperNet& sn = *blocks_[i];
    const Variable cin = count(sn.in_group(), sn.in_channels());
    const Variable cout = count(sn.out_group(), sn.out_channels());
    for (int64_t j = 0; j < sn.size(); ++j) {
      if (sn.candidates()[j].identity) continue;
      const Costs c = block_cost(sn.spec_of(j), cin, cout, block_inputs_[i]);
      if (sn.size() == 1) {
        total.add(c.params, c.macs);
      } else {
        PICONAS_CHECK(sn.theta().defined(), "DnasNetwork::cost: call forward() first");
        const Variable t = pick(sn.theta(), j);
        total.add(t * c.params, t * c.macs);
      }
    }
    last_width = sn.out_channels();
    last_group = sn.out_group();
  }
  Variable features = count(last_group, last_width);
  if (s.head_channels > 0) {
    const Variable head = count(head_group_, s.head_channels);
    const Shape3 last = blocks_.empty() ? Shape3{0, (s.input.h - 1) / s.stem.stride + 1,
                                                 (s.input.w - 1) / s.stem.stride + 1}
                                        : block_inputs_.back();
    int64_t h = last.h, w = last.w;
    if (!blocks_.empty()) {
      const int stride = s.blocks.back().stride;
      h = (h - 1) / stride + 1;
      w = (w - 1) / stride + 1;
    }
    conv_bn(total, features, head, 1, static_cast<double>(h * w));
    features = head;
  }
  const double k = static_cast<double>(s.num_classes);
  total.add(k * features + constant(k), k * features);
  return total.of(kind);
}

}  // namespace piconas::nas::dnas
