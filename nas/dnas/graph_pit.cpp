#include "nas/dnas/graph_pit.h"

#include <numeric>

#include "autograd/functions.h"
#include "nas/builder.h"

namespace piconas::nas::dnas {

using autograd::Variable;

namespace {

// Channel spaces joined by Add rows (union-find); a space joined to a fixed one
// is fixed.
struct Spaces {
  std::vector<size_t> parent;
  std::vector<bool> fixed;
  std::vector<size_t> producer;  // the row that first produced the space
  size_t make(size_t row, bool is_fixed) {
    parent.push_back(parent.size());
    fixed.push_back(is_fixed);
    producer.push_back(row);
    return parent.size() - 1;
  }
  size_t root(size_t s) {
    while (parent[s] != s) s = parent[s] = parent[parent[s]];
    return s;
  }
  void join(size_t a, size_t b) {
    a = root(a);
    b = root(b);
    if (a == b) return;
    if (b < a) std::swap(a, b);  // the earlier producer names the group
    parent[b] = a;
    fixed[a] = fixed[a] || fixed[b];
  }
};


bool grouped(const LayerInfo &row) { return row.kind == LayerKind::Conv && row.groups > 1; }

std::vector<int64_t> all_of(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// dst = src[rows, cols, ...] for a tensor of rank >= 1 (cols: dim 1; ignored
// for rank 1).
void take(const Tensor &src, Tensor &dst, const std::vector<int64_t> &rows,
          const std::vector<int64_t> &cols, const std::string &name) {
  const Shape &s = src.shape();
  const int64_t src_cols = s.size() >= 2 ? s[1] : 1;
  int64_t inner = 1;
  for (size_t d = 2; d < s.size(); ++d) inner *= s[d];
  const std::vector<int64_t> c = s.size() >= 2 ? cols : std::vector<int64_t>{0};
  Shape want = s;
  want[0] = static_cast<int64_t>(rows.size());
  if (s.size() >= 2) want[1] = static_cast<int64_t>(c.size());
  PICONAS_CHECK(dst.shape() == want, "graph PIT export: '" << name << "' sliced is "
                                                           << shape_str(want) << ", expected "
                                                           << shape_str(dst.shape()));
  int64_t at = 0;
  for (int64_t r : rows)
    for (int64_t col : c)
      for (int64_t k = 0; k < inner; ++k) dst.set(at++, src.get((r * src_cols + col) * inner + k));
}
}  // namespace

GraphPitNetwork::GraphPitNetwork(const ArchSpec &seed) : seed_(seed) {
  PICONAS_CHECK(!seed.graph.empty(), "GraphPitNetwork: the seed is not a graph network");
  rows_ = arch_layers(seed_);
  Spaces spaces;
  std::vector<size_t> space(rows_.size());
  space[0] = spaces.make(0, true);  // the image channels
  for (size_t i = 1; i < rows_.size(); ++i) {
    const LayerInfo &row = rows_[i];
    const size_t in = space[source_row(row, i)];
    std::shared_ptr<autograd::Module> m = build_module(row);
    if (m) register_module(row.path, m);
    modules_.push_back(std::move(m));
    switch (row.kind) {
      case LayerKind::Conv:
        if (grouped(row)) spaces.fixed[spaces.root(in)] = true;
        space[i] = spaces.make(i, grouped(row));
        break;
      case LayerKind::FullyConnected:
        space[i] = spaces.make(i, true);
        break;
      case LayerKind::ChannelMul:
        if (mul_gate(row) == MulGate::Pixel) {  // a 1xHxW gate: its one channel stays
          spaces.fixed[spaces.root(in)] = true;
          space[i] = space[static_cast<size_t>(row.skip)];
          break;
        }
        [[fallthrough]];  // a Cx1x1 or same-shape gate's channels are the features'
      case LayerKind::Add:
        spaces.join(in, space[static_cast<size_t>(row.skip)]);
        space[i] = spaces.root(in);
        break;
      default:  // depthwise, norms, activations, pools keep the channels
        space[i] = in;
    }
  }
  modules_.insert(modules_.begin(), nullptr);  // the input row
  std::map<size_t, std::shared_ptr<MaskGroup>> by_root;
  row_group_.resize(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) {
    const size_t r = spaces.root(space[i]);
    if (spaces.fixed[r]) continue;
    auto &g = by_root[r];
    if (!g) {
      const LayerInfo &producer = rows_[spaces.producer[r]];
      g = std::make_shared<MaskGroup>();
      g->name = producer.name;
      g->gamma = Variable(Tensor::full({producer.output.c}, 1.0), true);
      groups_.push_back(g);
    }
    row_group_[i] = g;
  }
}

Variable GraphPitNetwork::forward(const Variable &x) {
  for (const auto &g : groups_) g->mask = binarize_mask(g->gamma);
  std::vector<Variable> outputs(rows_.size());
  outputs[0] = x;
  for (size_t i = 1; i < rows_.size(); ++i) {
    const LayerInfo &row = rows_[i];
    Variable y = graph_row_forward(row, i, outputs, modules_[i].get());
    const bool masked = row.kind == LayerKind::Conv || row.kind == LayerKind::Depthwise ||
                        row.kind == LayerKind::BatchNorm;
    if (masked && row_group_[i]) y = channel_mask(y, row_group_[i]->mask);
    outputs[i] = y;
  }
  return outputs.back();
}

std::vector<Variable> GraphPitNetwork::arch_parameters() const {
  std::vector<Variable> out;
  for (const auto &g : groups_) out.push_back(g->gamma);
  return out;
}

Variable GraphPitNetwork::icv_total() const { return Variable(Tensor::zeros({1})); }

Variable GraphPitNetwork::cost(CostKind kind) const {
  auto count = [&](size_t row) {
    const auto &g = row_group_[row];
    if (!g) return cost_constant(static_cast<double>(rows_[row].output.c));
    PICONAS_CHECK(g->mask.defined(), "GraphPitNetwork::cost: call forward() first");
    return autograd::sum(g->mask);
  };
  Variable params = cost_constant(0.0), macs = cost_constant(0.0);
  for (size_t i = 1; i < rows_.size(); ++i) {
    const LayerInfo &row = rows_[i];
    const Variable out = count(i);
    const Variable in = count(source_row(row, i));
    const double k = static_cast<double>(row.kernel.h) * row.kernel.w;
    const double out_hw = static_cast<double>(row.output.h) * row.output.w;
    Variable p = cost_constant(0.0), m = cost_constant(0.0);
    switch (row.kind) {
      case LayerKind::Conv:
      case LayerKind::Depthwise: {
        if (grouped(row)) {  // fixed on both sides
          p = cost_constant(static_cast<double>(row.params));
          m = cost_constant(static_cast<double>(row.macs));
          break;
        }
        const Variable w = row.kind == LayerKind::Depthwise
                               ? autograd::scale(out, k)
                               : autograd::scale(autograd::mul(in, out), k);
        p = row.bias ? autograd::add(w, out) : w;
        m = autograd::scale(w, out_hw);
        break;
      }
      case LayerKind::BatchNorm:
        p = autograd::scale(out, 2.0);
        break;
      case LayerKind::FullyConnected: {
        const double hw = static_cast<double>(row.input.h) * row.input.w;
        const Variable w = autograd::scale(in, hw * static_cast<double>(row.output.c));
        p = row.bias ? autograd::add(w, cost_constant(static_cast<double>(row.output.c))) : w;
        m = w;
        break;
      }
      default:
        break;  // activations, adds and pools cost nothing
    }
    params = autograd::add(params, p);
    macs = autograd::add(macs, m);
  }
  return kind == CostKind::Params ? params : macs;
}

DnasExport export_graph_network(const GraphPitNetwork &net) {
  const std::vector<LayerInfo> &rows = net.rows();
  auto keep = [&](size_t row) {
    const auto &g = net.group_of(row);
    return g ? g->alive() : all_of(rows[row].output.c);
  };
  DnasExport ex;
  ex.arch = net.seed();
  std::map<std::string, size_t> row_of_path;
  for (size_t i = 1; i < rows.size(); ++i) {
    row_of_path[rows[i].path] = i;
    GraphLayer &layer = ex.arch.graph[i - 1];
    if (layer.op != GraphOp::Conv || !net.group_of(i)) continue;
    layer.out_channels = static_cast<int64_t>(keep(i).size());
    if (rows[i].kind == LayerKind::Depthwise) layer.groups = layer.out_channels;
  }
  auto plain = build_network(ex.arch);
  const std::map<std::string, Tensor> src = net.state();
  for (auto &[name, dst] : plain->state()) {
    const size_t dot = name.rfind('.');
    const auto found = row_of_path.find(name.substr(0, dot));
    PICONAS_CHECK(dot != std::string::npos && found != row_of_path.end() && src.count(name),
                  "graph PIT export: no layer for tensor '" << name << "'");
    const size_t i = found->second;
    const LayerInfo &row = rows[i];
    const Tensor &from = src.at(name);
    const size_t in = source_row(row, i);
    std::vector<int64_t> out_keep = keep(i),
                         in_keep = all_of(from.ndim() >= 2 ? from.shape()[1] : 1);
    if (row.kind == LayerKind::Conv && !grouped(row)) in_keep = keep(in);
    if (row.kind == LayerKind::FullyConnected) {
      out_keep = all_of(row.output.c);
      const int64_t hw = row.input.h * row.input.w;
      in_keep.clear();
      for (int64_t c : keep(in))
        for (int64_t p = 0; p < hw; ++p) in_keep.push_back(c * hw + p);
    }
    take(from, dst, out_keep, in_keep, name);
    ex.state[name] = dst;
  }
  return ex;
}

}  // namespace piconas::nas::dnas
