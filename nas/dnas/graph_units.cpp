// The replaceable layers of a graph network, their candidates' layers and the graph with a
// choice per unit (nas/dnas/graph_supernet.h).
#include <set>

#include "nas/dnas/graph_supernet.h"

namespace piconas::nas::dnas {

namespace {

bool reads_two(const LayerInfo& row) {
  return row.kind == LayerKind::Add || row.kind == LayerKind::ChannelMul;
}

bool dense(const LayerInfo& row) { return row.kind == LayerKind::Conv && row.groups == 1; }

// A layer a unit starts with: a kernel larger than 1x1, stride 1 or 2 on both axes and the "same"
// output size, which every candidate (odd kernel, k/2 zeros each side) also has.
bool spatial(const LayerInfo& row) {
  return (row.kernel.h > 1 || row.kernel.w > 1) && row.stride.square() &&
         (row.stride.h == 1 || row.stride.h == 2) &&
         row.output.h == same_out(row.input.h, row.stride.h) &&
         row.output.w == same_out(row.input.w, row.stride.w);
}

bool pointwise(const LayerInfo& row) {
  return dense(row) && row.kernel == Size2{1, 1} && row.stride == Size2{1, 1} &&
         row.output.h == row.input.h && row.output.w == row.input.w;
}

std::string unique_name(const std::string& base, std::set<std::string>& taken) {
  std::string name = base;
  for (int k = 2; taken.count(name) > 0; ++k) name = base + "_" + std::to_string(k);
  taken.insert(name);
  return name;
}

GraphLayer conv_layer(const std::string& name, int64_t out, int kernel, int stride, int64_t groups,
                      bool bias) {
  GraphLayer l;
  l.name = name;
  l.op = GraphOp::Conv;
  l.out_channels = out;
  l.kernel = kernel;
  l.stride = stride;
  l.pad = kernel / 2;
  l.dilation = 1;
  l.groups = groups;
  l.bias = bias;
  return l;
}

GraphLayer bn_layer(const std::string& name, double eps) {
  GraphLayer l;
  l.name = name;
  l.op = GraphOp::BatchNorm;
  l.eps = eps;
  return l;
}

GraphLayer act_layer(const std::string& name, Activation activation) {
  GraphLayer l;
  l.name = name;
  l.op = GraphOp::Activation;
  l.activation = activation;
  return l;
}

}  // namespace

std::vector<GraphUnit> graph_units(const ArchSpec& seed) {
  PICONAS_CHECK(!seed.graph.empty(), "graph SuperNet: the seed is not a graph network");
  const std::vector<LayerInfo> rows = arch_layers(seed);
  std::vector<int> readers(rows.size(), 0);
  for (size_t i = 1; i < rows.size(); ++i) {
    ++readers[source_row(rows[i], i)];
    if (reads_two(rows[i])) ++readers[static_cast<size_t>(rows[i].skip)];
  }
  std::optional<Activation> first_activation;
  for (const LayerInfo& row : rows)
    if (row.kind == LayerKind::Activation && !first_activation) first_activation = row.activation;
  std::set<std::string> taken;
  for (const GraphLayer& l : seed.graph) taken.insert(l.name);

  std::vector<GraphUnit> units;
  for (size_t i = 1; i < rows.size(); ++i) {
    const LayerInfo& start = rows[i];
    const bool separable = start.kind == LayerKind::Depthwise;
    if (!(dense(start) || separable) || !spatial(start)) continue;
    size_t at = i;
    // Row at + 1 joins the unit when it is of `kind`, reads row `at` alone and is its only reader.
    auto extend = [&](LayerKind kind) {
      const size_t next = at + 1;
      if (next >= rows.size() || rows[next].kind != kind || reads_two(rows[next]) ||
          source_row(rows[next], next) != at || readers[at] != 1)
        return false;
      at = next;
      return true;
    };
    GraphUnit u;
    u.separable = separable;
    std::optional<Activation> dw_activation;
    if (separable) {
      u.dw = start.name;
      if (extend(LayerKind::BatchNorm)) u.dw_bn = rows[at].name;
      if (extend(LayerKind::Activation)) {
        u.dw_act = rows[at].name;
        dw_activation = rows[at].activation;
      }
      if (!extend(LayerKind::Conv) || !pointwise(rows[at])) continue;
    }
    u.conv = rows[at].name;
    if (extend(LayerKind::BatchNorm)) {
      u.batchnorm = true;
      u.bn = rows[at].name;
      u.eps = rows[at].eps;
    }
    if (extend(LayerKind::Activation)) {
      u.act = rows[at].name;
      u.activation = rows[at].activation;
    }
    u.first = i - 1;
    u.last = at - 1;
    u.input = static_cast<int>(source_row(start, i)) - 1;
    u.in = start.input;
    u.out = rows[at].output;
    u.stride = start.stride.h;
    u.inner =
        dw_activation.value_or(u.activation.value_or(first_activation.value_or(Activation::ReLU)));
    if (u.dw.empty()) u.dw = unique_name(u.conv + "_dw", taken);
    if (u.dw_bn.empty()) u.dw_bn = unique_name(u.conv + "_dw_bn", taken);
    if (u.dw_act.empty()) u.dw_act = unique_name(u.conv + "_dw_act", taken);
    units.push_back(u);
    i = at;
  }
  PICONAS_CHECK(!units.empty(),
                "graph SuperNet: no layer of the graph network can be replaced (a conv with a "
                "kernel larger than 1x1, stride 1 or 2 and the \"same\" output size, or such a "
                "depthwise conv followed by a 1x1 conv); use --method pit");
  return units;
}

void check_graph_candidates(const std::vector<Candidate>& candidates) {
  for (const Candidate& c : candidates)
    PICONAS_CHECK(
        c.identity || c.kind == BlockKind::Conv || c.kind == BlockKind::DepthwiseSeparable,
        "graph SuperNet: candidate '"
            << candidate_name(c)
            << "' does not replace a layer of a graph network (cv:kK, ds:kK or skip; "
               "e.g. --candidates plinio)");
}

std::vector<Candidate> unit_candidates(const GraphUnit& unit,
                                       const std::vector<Candidate>& candidates) {
  std::vector<Candidate> fit;
  for (const Candidate& c : candidates)
    if (!c.identity || unit.in == unit.out) fit.push_back(c);
  PICONAS_CHECK(!fit.empty(), "graph SuperNet: no candidate fits layer '"
                                  << unit.conv << "' (" << shape3_str(unit.in) << " -> "
                                  << shape3_str(unit.out) << ")");
  return fit;
}

std::vector<GraphLayer> candidate_layers(const GraphUnit& unit, const Candidate& c) {
  std::vector<GraphLayer> layers;
  if (c.identity) return layers;
  const bool bias = !unit.batchnorm;
  if (c.kind == BlockKind::DepthwiseSeparable) {
    layers.push_back(conv_layer(unit.dw, unit.in.c, c.kernel, unit.stride, unit.in.c, bias));
    if (unit.batchnorm) layers.push_back(bn_layer(unit.dw_bn, unit.eps));
    layers.push_back(act_layer(unit.dw_act, unit.inner));
    layers.push_back(conv_layer(unit.conv, unit.out.c, 1, 1, 1, bias));
  } else {
    PICONAS_CHECK(c.kind == BlockKind::Conv,
                  "graph SuperNet: candidate '" << candidate_name(c) << "' is no layer");
    layers.push_back(conv_layer(unit.conv, unit.out.c, c.kernel, unit.stride, 1, bias));
  }
  if (unit.batchnorm) layers.push_back(bn_layer(unit.bn, unit.eps));
  if (unit.activation) layers.push_back(act_layer(unit.act, *unit.activation));
  return layers;
}

ArchSpec graph_with_choices(const ArchSpec& seed, const std::vector<GraphUnit>& units,
                            const std::vector<std::optional<Candidate>>& choice) {
  PICONAS_CHECK(choice.size() == units.size(), "graph SuperNet: " << choice.size()
                                                                  << " choices for " << units.size()
                                                                  << " layers");
  std::vector<int> unit_at(seed.graph.size(), -1);
  for (size_t u = 0; u < units.size(); ++u) unit_at.at(units[u].first) = static_cast<int>(u);
  ArchSpec out = seed;
  out.graph.clear();
  std::vector<int> moved(seed.graph.size(), -1);  // the new index of each layer's output
  auto remap = [&](int old) { return old < 0 ? -1 : moved[static_cast<size_t>(old)]; };
  for (size_t i = 0; i < seed.graph.size(); ++i) {
    const int u = unit_at[i];
    if (u >= 0 && choice[static_cast<size_t>(u)]) {
      const GraphUnit& unit = units[static_cast<size_t>(u)];
      int at = remap(unit.input);
      for (GraphLayer l : candidate_layers(unit, *choice[static_cast<size_t>(u)])) {
        l.inputs = {at};
        out.graph.push_back(l);
        at = static_cast<int>(out.graph.size()) - 1;
      }
      for (size_t k = unit.first; k <= unit.last; ++k) moved[k] = at;
      i = unit.last;
      continue;
    }
    GraphLayer l = seed.graph[i];
    for (int& input : l.inputs) input = remap(input);
    out.graph.push_back(l);
    moved[i] = static_cast<int>(out.graph.size()) - 1;
  }
  check_arch(out);
  return out;
}

}  // namespace piconas::nas::dnas
