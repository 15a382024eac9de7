#include "nas/dnas/graph_supernet.h"

#include <algorithm>
#include <map>

#include "autograd/functions.h"
#include "nas/builder.h"

namespace piconas::nas::dnas {

using autograd::Module;
using autograd::Variable;

namespace {
}  // namespace

GraphSuperNetwork::GraphSuperNetwork(const ArchSpec& seed, const std::vector<Candidate>& candidates)
    : seed_(seed), selection_(std::make_shared<SelectionState>()) {
  check_graph_candidates(candidates);
  units_ = graph_units(seed_);
  rows_ = arch_layers(seed_);
  unit_of_row_.assign(rows_.size(), -1);
  for (size_t u = 0; u < units_.size(); ++u)
    for (size_t k = units_[u].first; k <= units_[u].last; ++k)
      unit_of_row_[k + 1] = static_cast<int>(u);
  modules_.resize(rows_.size());
  for (size_t i = 1; i < rows_.size(); ++i) {
    if (unit_of_row_[i] >= 0) continue;
    modules_[i] = build_module(rows_[i]);
    if (modules_[i]) register_module(rows_[i].path, modules_[i]);
    fixed_.params += static_cast<double>(rows_[i].params);
    fixed_.macs += static_cast<double>(rows_[i].macs);
  }
  auto supernets = register_module("supernets", std::make_shared<autograd::Sequential>());
  for (size_t u = 0; u < units_.size(); ++u) {
    const std::vector<Candidate> fit = unit_candidates(units_[u], candidates);
    std::vector<std::shared_ptr<Module>> branches;
    branch_layers_.emplace_back();
    branch_costs_.emplace_back();
    for (const Candidate& c : fit) {
      std::vector<std::string> names;
      BranchCost cost;
      std::shared_ptr<autograd::Sequential> branch;
      if (!c.identity) {
        // The branch's rows as the lowering of the seed with this one choice gives them.
        std::vector<std::optional<Candidate>> choice(units_.size());
        choice[u] = c;
        const std::vector<LayerInfo> rows = arch_layers(graph_with_choices(seed_, units_, choice));
        branch = std::make_shared<autograd::Sequential>();
        for (const GraphLayer& l : candidate_layers(units_[u], c)) {
          const auto row = std::find_if(rows.begin(), rows.end(),
                                        [&](const LayerInfo& r) { return r.name == l.name; });
          PICONAS_CHECK(row != rows.end(), "graph SuperNet: no row '" << l.name << "'");
          branch->add(build_module(*row));
          names.push_back(l.name);
          cost.params += static_cast<double>(row->params);
          cost.macs += static_cast<double>(row->macs);
        }
      }
      branches.push_back(branch);
      branch_layers_.back().push_back(names);
      branch_costs_.back().push_back(cost);
    }
    auto sn = std::make_shared<SuperNet>(fit, branches, units_[u].in.c,
                                         static_cast<int>(units_[u].out.c), selection_);
    supernets->add(sn);
    supernets_.push_back(sn);
  }
}

std::string GraphSuperNetwork::branch_prefix(size_t unit, int64_t branch,
                                             const std::string& layer) const {
  const std::vector<std::string>& names = branch_layers_.at(unit).at(static_cast<size_t>(branch));
  const auto at = std::find(names.begin(), names.end(), layer);
  PICONAS_CHECK(at != names.end(), "graph SuperNet: branch " << branch << " of layer '"
                                                             << units_.at(unit).conv
                                                             << "' has no layer '" << layer << "'");
  return "supernets." + std::to_string(unit) + ".branches." + std::to_string(branch) + "." +
         std::to_string(at - names.begin());
}

Variable GraphSuperNetwork::forward(const Variable& x) {
  std::vector<Variable> outputs(rows_.size());
  outputs[0] = x;
  for (size_t i = 1; i < rows_.size(); ++i) {
    if (const int u = unit_of_row_[i]; u >= 0) {  // the unit's output is its last row's
      const GraphUnit& unit = units_[static_cast<size_t>(u)];
      if (i == unit.first + 1)
        outputs[unit.last + 1] =
            (*supernets_[static_cast<size_t>(u)])(outputs[static_cast<size_t>(unit.input + 1)]);
      continue;
    }
    outputs[i] = graph_row_forward(rows_[i], i, outputs, modules_[i].get());
  }
  return outputs.back();
}

std::vector<Variable> GraphSuperNetwork::arch_parameters() const {
  std::vector<Variable> out;
  for (const auto& sn : supernets_)
    if (sn->alpha().defined()) out.push_back(sn->alpha());
  return out;
}

Variable GraphSuperNetwork::cost(CostKind kind) const {
  auto of = [&](const BranchCost& c) { return kind == CostKind::Params ? c.params : c.macs; };
  Variable total = cost_constant(of(fixed_));
  for (size_t u = 0; u < supernets_.size(); ++u) {
    const SuperNet& sn = *supernets_[u];
    for (int64_t j = 0; j < sn.size(); ++j) {
      const double c = of(branch_costs_[u][static_cast<size_t>(j)]);
      if (sn.size() == 1) {
        total = autograd::add(total, cost_constant(c));
        continue;
      }
      PICONAS_CHECK(sn.theta().defined(), "GraphSuperNetwork::cost: call forward() first");
      total = autograd::add(total, autograd::scale(pick(sn.theta(), j), c));
    }
  }
  return total;
}

Variable GraphSuperNetwork::icv_total() const {
  Variable total(Tensor::zeros({1}));
  for (const auto& sn : supernets_)
    if (sn->alpha().defined()) {
      PICONAS_CHECK(sn->theta().defined(), "icv_total: call forward() first");
      total = autograd::add(total, icv(sn->theta()));
    }
  return total;
}

DnasExport export_graph_supernet(const GraphSuperNetwork& net) {
  DnasExport ex;
  std::vector<std::optional<Candidate>> choice;
  for (const auto& sn : net.blocks()) {
    ex.choices.push_back(sn->argmax());
    choice.emplace_back(sn->candidates()[static_cast<size_t>(sn->argmax())]);
  }
  const std::vector<GraphUnit>& units = net.units();
  ex.arch = graph_with_choices(net.seed(), units, choice);
  // The module (state-name prefix) of every exported layer in the search network.
  std::map<std::string, std::string> source;
  std::vector<bool> replaced(net.seed().graph.size(), false);
  for (const GraphUnit& unit : units)
    for (size_t k = unit.first; k <= unit.last; ++k) replaced[k] = true;
  for (size_t i = 0; i < net.seed().graph.size(); ++i)
    if (!replaced[i]) source[net.seed().graph[i].name] = net.seed().graph[i].name;
  for (size_t u = 0; u < units.size(); ++u)
    for (const GraphLayer& l : candidate_layers(units[u], *choice[u]))
      source[l.name] = net.branch_prefix(u, ex.choices[u], l.name);
  const std::map<std::string, Tensor> from = net.state();
  auto plain = build_network(ex.arch);
  for (const auto& [name, tensor] : plain->state()) {
    const size_t dot = name.find('.');
    const auto layer = source.find(name.substr(0, dot));
    PICONAS_CHECK(dot != std::string::npos && layer != source.end(),
                  "graph SuperNet export: no layer for tensor '" << name << "'");
    const auto it = from.find(layer->second + name.substr(dot));
    PICONAS_CHECK(it != from.end() && it->second.shape() == tensor.shape(),
                  "graph SuperNet export: no tensor of shape " << shape_str(tensor.shape())
                                                               << " for '" << name << "'");
    ex.state[name] = it->second.clone();
  }
  return ex;
}

}  // namespace piconas::nas::dnas
