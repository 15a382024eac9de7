#include "nas/dnas/dnas_export.h"

#include <algorithm>
#include <numeric>

#include "nas/builder.h"

namespace piconas::nas::dnas {

using autograd::BatchNorm2d;
using autograd::Conv2d;
using autograd::LayerNorm2d;
using autograd::Linear;
using autograd::Module;

namespace {

// Kept channels of one width, in ascending order, with the ghosts among them.
struct Keep {
  std::vector<int64_t> index;
  std::vector<bool> ghost;
  static Keep all(int64_t n) {
    Keep k;
    k.index.resize(static_cast<size_t>(n));
    std::iota(k.index.begin(), k.index.end(), 0);
    k.ghost.assign(k.index.size(), false);
    return k;
  }
  Keep expanded(int64_t factor) const {
    Keep k;
    for (size_t i = 0; i < index.size(); ++i)
      for (int64_t r = 0; r < factor; ++r) {
        k.index.push_back(index[i] * factor + r);
        k.ghost.push_back(ghost[i]);
      }
    return k;
  }
  int size() const { return static_cast<int>(index.size()); }
};

// dst = src[rows, cols, ...]; an empty cols keeps dim 1 whole.
void take(const Tensor& src, Tensor& dst, const std::vector<int64_t>& rows,
          const std::vector<int64_t>& cols) {
  const Shape& s = src.shape();
  const int64_t src_cols = s.size() >= 2 ? s[1] : 1;
  int64_t inner = 1;
  for (size_t d = 2; d < s.size(); ++d) inner *= s[d];
  std::vector<int64_t> c = cols;
  if (c.empty()) {
    c.resize(static_cast<size_t>(src_cols));
    std::iota(c.begin(), c.end(), 0);
  }
  Shape want = s;
  want[0] = static_cast<int64_t>(rows.size());
  if (s.size() >= 2) want[1] = static_cast<int64_t>(c.size());
  PICONAS_CHECK(dst.shape() == want,
                "export: slice of " << shape_str(s) << " is " << shape_str(want)
                                    << " but the exported tensor is " << shape_str(dst.shape()));
  int64_t at = 0;
  for (int64_t r : rows)
    for (int64_t col : c)
      for (int64_t k = 0; k < inner; ++k) dst.set(at++, src.get((r * src_cols + col) * inner + k));
}

void copy_stack(Module& src, Module& dst, const Keep& in, const Keep& out);

// The kept channels of a BatchNorm; ghost channels get gamma = beta = 0 (they output 0).
void copy_bn(BatchNorm2d& from, BatchNorm2d& to, const Keep& keep) {
  take(from.gamma.value(), to.gamma.value(), keep.index, {});
  take(from.beta.value(), to.beta.value(), keep.index, {});
  take(from.state.running_mean, to.state.running_mean, keep.index, {});
  take(from.state.running_var, to.state.running_var, keep.index, {});
  for (size_t c = 0; c < keep.ghost.size(); ++c)
    if (keep.ghost[c]) {
      to.gamma.value().set(static_cast<int64_t>(c), 0.0);
      to.beta.value().set(static_cast<int64_t>(c), 0.0);
    }
}

Module* child_named(Module& m, const std::string& name) {
  for (const auto& [n, c] : m.children())
    if (n == name) return c.get();
  return nullptr;
}

// A basic residual block: the body's two convs and the projection all produce the output width
// (supernet.cpp, forward_basic_masked). A ghost output channel also gets a zero projection row,
// so that it adds 0 + 0 like the masked channel it stands for.
void copy_basic(Module& src, Module& dst, const Keep& in, const Keep& out) {
  Module* from = child_named(src, "shortcut");
  Module* to = child_named(dst, "shortcut");
  PICONAS_CHECK((from == nullptr) == (to == nullptr),
                "export: a basic block's projection shortcut appears on one side only");
  if (from) {
    auto& a = dynamic_cast<Conv2d&>(*from);
    auto& b = dynamic_cast<Conv2d&>(*to);
    take(a.weight.value(), b.weight.value(), out.index, in.index);
    take(a.bias.value(), b.bias.value(), out.index, {});
    const int64_t per_row = b.weight.value().numel() / static_cast<int64_t>(out.index.size());
    for (size_t c = 0; c < out.ghost.size(); ++c)
      if (out.ghost[c]) {
        b.bias.value().set(static_cast<int64_t>(c), 0.0);
        for (int64_t k = 0; k < per_row; ++k)
          b.weight.value().set(static_cast<int64_t>(c) * per_row + k, 0.0);
      }
  }
  Keep current = in;
  const auto& s = child_named(src, "body")->children();
  const auto& d = child_named(dst, "body")->children();
  for (size_t i = 0; i < s.size(); ++i) {
    if (auto* conv = dynamic_cast<Conv2d*>(s[i].second.get())) {
      auto& b = dynamic_cast<Conv2d&>(*d[i].second);
      take(conv->weight.value(), b.weight.value(), out.index, current.index);
      current = out;
    } else if (auto* bn = dynamic_cast<BatchNorm2d*>(s[i].second.get())) {
      copy_bn(*bn, dynamic_cast<BatchNorm2d&>(*d[i].second), current);
    }
  }
}

// Walks the layers of a source stack and the matching exported stack together.
void copy_stack(Module& src, Module& dst, const Keep& in, const Keep& out) {
  PICONAS_CHECK(std::string(src.kind()) == dst.kind(),
                "export: layer kinds differ: " << src.kind() << " vs " << dst.kind());
  if (std::string(src.kind()) == "basic_residual") {
    copy_basic(src, dst, in, out);
    return;
  }
  if (std::string(src.kind()) == "residual") {
    copy_stack(*src.children().at(0).second, *dst.children().at(0).second, in, out);
    return;
  }
  const auto& s = src.children();
  const auto& d = dst.children();
  PICONAS_CHECK(s.size() == d.size(), "export: " << s.size() << " vs " << d.size() << " layers");
  size_t last_dense = s.size();
  for (size_t i = 0; i < s.size(); ++i)
    if (auto* conv = dynamic_cast<Conv2d*>(s[i].second.get()); conv && conv->options().groups == 1)
      last_dense = i;
  Keep current = in;
  for (size_t i = 0; i < s.size(); ++i) {
    Module& a = *s[i].second;
    Module& b = *d[i].second;
    if (auto* conv = dynamic_cast<Conv2d*>(&a)) {
      auto& to = dynamic_cast<Conv2d&>(b);
      const auto& o = conv->options();
      Keep next = current;
      std::vector<int64_t> cols;
      if (o.groups == 1) {
        next = i == last_dense ? out : current.expanded(o.out_channels / o.in_channels);
        cols = current.index;
      }
      take(conv->weight.value(), to.weight.value(), next.index, cols);
      if (conv->bias.defined()) take(conv->bias.value(), to.bias.value(), next.index, {});
      current = next;
    } else if (auto* bn = dynamic_cast<BatchNorm2d*>(&a)) {
      copy_bn(*bn, dynamic_cast<BatchNorm2d&>(b), current);
    } else if (auto* ln = dynamic_cast<LayerNorm2d*>(&a)) {
      auto& to = dynamic_cast<LayerNorm2d&>(b);
      take(ln->gamma.value(), to.gamma.value(), current.index, {});
      take(ln->beta.value(), to.beta.value(), current.index, {});
    }
  }
}

Keep keep_of(const std::shared_ptr<MaskGroup>& group, int64_t full) {
  if (!group) return Keep::all(full);
  Keep k;
  k.index = group->alive();
  k.ghost.assign(k.index.size(), false);
  return k;
}

// Adds the dead channel with the largest gamma as a ghost; false when none is dead.
bool add_ghost(Keep& keep, const MaskGroup& group) {
  const std::vector<double> g = group.gamma.value().to_vector();
  int64_t best = -1;
  for (size_t c = 0; c < g.size(); ++c) {
    const auto ci = static_cast<int64_t>(c);
    if (std::find(keep.index.begin(), keep.index.end(), ci) != keep.index.end()) continue;
    if (best < 0 || g[c] > g[static_cast<size_t>(best)]) best = ci;
  }
  if (best < 0) return false;
  const auto pos =
      std::lower_bound(keep.index.begin(), keep.index.end(), best) - keep.index.begin();
  keep.index.insert(keep.index.begin() + pos, best);
  keep.ghost.insert(keep.ghost.begin() + pos, true);
  return true;
}

}  // namespace

DnasExport export_network(const DnasNetwork& net) {
  const ArchSpec& seed = net.seed();
  std::map<const MaskGroup*, Keep> keeps;
  for (const auto& g : net.groups()) keeps[g.get()] = keep_of(g, 0);
  auto keep = [&](const std::shared_ptr<MaskGroup>& g, int64_t full) {
    return g ? keeps.at(g.get()) : Keep::all(full);
  };
  DnasExport result;
  for (const auto& sn : net.blocks()) result.choices.push_back(sn->argmax());
  // Ghost channels against residuals the supernet does not have (repeat until none appears).
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < net.blocks().size(); ++i) {
      const SuperNet& sn = *net.blocks()[i];
      const int64_t j = result.choices[i];
      if (sn.candidates()[j].identity || sn.in_group() == sn.out_group()) continue;
      const BlockSpec b = sn.spec_of(j);
      // Only ir/cn (residual when stride 1 and in == out) and rb (identity shortcut instead of
      // a projection) change structure when the alive widths become equal.
      if ((!has_expansion(b.kind) && b.kind != BlockKind::Basic) || b.stride != 1) continue;
      Keep& in = keeps.at(sn.in_group().get());
      Keep& out = keeps.at(sn.out_group().get());
      if (in.size() != out.size()) continue;
      PICONAS_CHECK(add_ghost(out, *sn.out_group()) || add_ghost(in, *sn.in_group()),
                    "export: block " << i << " cannot avoid an unwanted residual");
      changed = true;
    }
  }
  for (const auto& [group, k] : keeps)
    result.ghost_channels += std::count(k.ghost.begin(), k.ghost.end(), true);

  ArchSpec arch = seed;
  arch.stem.out_channels = keep(net.stem_group(), seed.stem.out_channels).size();
  arch.blocks.clear();
  for (size_t i = 0; i < net.blocks().size(); ++i) {
    const SuperNet& sn = *net.blocks()[i];
    if (sn.candidates()[result.choices[i]].identity) continue;
    BlockSpec b = sn.spec_of(result.choices[i]);
    b.out_channels = keep(sn.out_group(), sn.out_channels()).size();
    arch.blocks.push_back(b);
  }
  if (seed.head_channels > 0)
    arch.head_channels = keep(net.head_group(), seed.head_channels).size();
  check_arch(arch);
  result.arch = arch;

  auto plain = build_network(arch);
  auto plain_child = [&](const std::string& name) -> Module& {
    for (const auto& [n, m] : plain->children())
      if (n == name) return *m;
    throw Error("export: exported network has no '" + name + "'");
  };
  const Keep image = Keep::all(seed.input.c);
  Keep current = keep(net.stem_group(), seed.stem.out_channels);
  copy_stack(*net.child("stem"), plain_child("stem"), image, current);
  const auto& exported_blocks = plain_child("blocks").children();
  size_t e = 0;
  for (size_t i = 0; i < net.blocks().size(); ++i) {
    const SuperNet& sn = *net.blocks()[i];
    const int64_t j = result.choices[i];
    const Keep out = keep(sn.out_group(), sn.out_channels());
    if (!sn.candidates()[j].identity)
      copy_stack(*sn.branch(j), *exported_blocks.at(e++).second, current, out);
    current = out;
  }
  if (seed.head_channels > 0) {
    const Keep head = keep(net.head_group(), seed.head_channels);
    copy_stack(*net.child("head"), plain_child("head"), current, head);
    current = head;
  }
  auto& from = dynamic_cast<Linear&>(*net.child("classifier"));
  auto& to = dynamic_cast<Linear&>(plain_child("classifier"));
  take(from.weight.value(), to.weight.value(), Keep::all(seed.num_classes).index, current.index);
  take(from.bias.value(), to.bias.value(), Keep::all(seed.num_classes).index, {});
  result.state = plain->state();
  return result;
}

}  // namespace piconas::nas::dnas
