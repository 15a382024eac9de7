// DnasNetwork::cost: the layer formulas of the lowering (nas/arch/lowering.h) written on autograd
// scalars, so channel counts (sums of PIT masks) and branch weights theta carry gradients. The
// block rows come from block_layers; their BlockWidth says which learned count each width is.
#include "autograd/functions.h"
#include "nas/arch/lowering.h"
#include "nas/dnas/supernet.h"

namespace piconas::nas::dnas {

using autograd::Variable;

Variable cost_constant(double value) { return Variable(Tensor::full({1}, value)); }

namespace {
Variable operator+(const Variable& a, const Variable& b) { return autograd::add(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return autograd::mul(a, b); }
Variable operator*(double f, const Variable& a) { return autograd::scale(a, f); }

struct Costs {
  Variable params = cost_constant(0.0), macs = cost_constant(0.0);
  void add(const Variable& p, const Variable& m) {
    params = params + p;
    macs = macs + m;
  }
  Variable of(CostKind kind) const { return kind == CostKind::Params ? params : macs; }
};

// Stem and head: dense conv "same" padding, no bias, followed by BN; out_hw = output pixels.
void conv_bn(Costs& c, const Variable& cin, const Variable& cout, Size2 k, double out_hw) {
  const Variable w = static_cast<double>(k.h * k.w) * (cin * cout);
  c.add(w + 2.0 * cout, out_hw * w);
}

Costs block_cost(const BlockSpec& b, const Variable& cin, const Variable& cout, const Shape3& in,
                 Activation act) {
  Costs c;
  const Variable hidden = static_cast<double>(b.expansion) * cin;
  auto width = [&](BlockWidth w) {
    switch (w) {
      case BlockWidth::In: return cin;
      case BlockWidth::Hidden: return hidden;
      case BlockWidth::Out: return cout;
      case BlockWidth::None: break;
    }
    throw Error("DnasNetwork::cost: a block layer without a width");
  };
  const std::vector<LayerInfo> rows = block_layers(b, in, act, 0);
  for (size_t i = 1; i < rows.size(); ++i) {
    const LayerInfo& row = rows[i];
    const double out_hw = static_cast<double>(row.output.h * row.output.w);
    const double k = static_cast<double>(row.kernel.h * row.kernel.w);
    switch (row.kind) {
      case LayerKind::Conv:
      case LayerKind::Depthwise: {
        // A side without a block width keeps its fixed count (the squeeze of an SE module).
        auto side = [&](BlockWidth bw, int64_t fixed) {
          return bw == BlockWidth::None ? cost_constant(static_cast<double>(fixed)) : width(bw);
        };
        const Variable out = side(row.out_width, row.output.c);
        const Variable w = row.kind == LayerKind::Depthwise
                               ? k * out
                               : k * (side(row.in_width, row.input.c) * out);
        c.add(row.bias ? w + out : w, out_hw * w);
        break;
      }
      case LayerKind::BatchNorm:
      case LayerKind::LayerNorm: c.params = c.params + 2.0 * width(row.out_width); break;
      default: break;  // activations and adds cost nothing
    }
  }
  return c;
}

Variable count(const std::shared_ptr<MaskGroup>& group, int64_t full) {
  if (!group) return cost_constant(static_cast<double>(full));
  PICONAS_CHECK(group->mask.defined(), "DnasNetwork::cost: call forward() first");
  return autograd::sum(group->mask);
}
}  // namespace

Variable DnasNetwork::cost(CostKind kind) const {
  Costs total;
  const ArchSpec& s = seed_;
  const std::vector<LayerInfo> rows = arch_layers(s);
  auto out_hw = [&](const char* name) {
    for (const LayerInfo& row : rows)
      if (row.name == name) return static_cast<double>(row.output.h * row.output.w);
    throw Error(std::string("DnasNetwork::cost: the seed has no layer ") + name);
  };
  Variable channels = count(stem_group_, s.stem.out_channels);
  conv_bn(total, cost_constant(static_cast<double>(s.input.c)), channels, s.stem.kernel,
          out_hw("stem.conv"));
  int64_t last_width = s.stem.out_channels;
  std::shared_ptr<MaskGroup> last_group = stem_group_;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const SuperNet& sn = *blocks_[i];
    const Variable cin = count(sn.in_group(), sn.in_channels());
    const Variable cout = count(sn.out_group(), sn.out_channels());
    for (int64_t j = 0; j < sn.size(); ++j) {
      if (sn.candidates()[j].identity) continue;
      const Costs c = block_cost(sn.spec_of(j), cin, cout, block_inputs_[i], s.activation);
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
    conv_bn(total, features, head, 1, out_hw("head.conv"));
    features = head;
  }
  const double k = static_cast<double>(s.num_classes);
  total.add(k * features + cost_constant(k), k * features);
  return total.of(kind);
}

}  // namespace piconas::nas::dnas
