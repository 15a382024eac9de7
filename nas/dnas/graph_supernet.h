// SuperNet search on a graph network (ArchSpec::graph: an imported ONNX model or the JSON layer
// list of nas/arch/graph_text.h): the SuperNet of the PLiNIO study, one choice per replaceable
// layer, the rest of the graph (adds, 1x1 projections and expansions, muls, pools, the
// classifier) kept as it is.
//
// Replaceable layers ("units", graph_units), in graph order, never overlapping:
//   conv unit       a dense conv (groups 1) with a kernel larger than 1x1, the same stride 1 or 2
//                   on both axes and the "same" output size ceil(in / stride), then the
//                   BatchNorm and the activation that follow it, if any;
//   separable unit  a depthwise conv of that kind, [BatchNorm], [activation], a 1x1 stride-1
//                   dense conv, [BatchNorm], [activation].
// A layer joins a unit only when the unit's layer before it feeds nothing else, so a unit reads
// one tensor and gives one (its last layer's), which the rest of the graph reads as before.
//
// Candidates (the candidate text of nas/dnas/supernet.h; plinio = cv:k3,cv:k5,ds:k3,skip):
//   cv:kK   conv KxK with the unit's stride and "same" padding -> [BN] -> [act]
//   ds:kK   depthwise KxK with the unit's stride -> [BN] -> act -> conv 1x1 -> [BN] -> [act]
//   skip    the identity, where the unit's input and output shapes are equal
// [BN] is there when the unit's last conv has a BatchNorm (its eps; the convs then have no bias,
// else they have one); [act] is the unit's activation after its last conv (none: none); the
// depthwise's act is the unit's own after its depthwise, else [act], else the graph's first
// activation, else ReLU. The candidate's layers keep the unit's names (its last conv, BatchNorm
// and activation; a separable unit's depthwise layers); a missing one is named after the last
// conv with "_dw", "_dw_bn", "_dw_act" or "_bn" (made unique with "_2", "_3", ...).
//
// GraphSuperNetwork runs the seed's rows as GraphNetwork does (nas/builder.h), each unit replaced
// by a SuperNet whose branches are the rows of the candidate's layers in the lowering of the seed
// with that one choice (graph_with_choices), so shapes, modules and costs come from the one
// lowering. cost() = the rows outside the units + sum_u sum_j theta_uj * cost(branch uj) (params
// or MACs, the lowering's counts); for a one-hot selection it equals arch_cost() of
// graph_with_choices of that selection exactly. No PIT masks (PIT runs after it:
// pit-after-supernet).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "nas/arch/lowering.h"
#include "nas/dnas/dnas_export.h"
#include "nas/dnas/supernet.h"

namespace piconas::nas::dnas {

struct GraphUnit {
  size_t first = 0, last = 0;  // graph layer indices (ArchSpec::graph), inclusive
  int input = -1;              // the layer the unit reads; -1: the network input
  Shape3 in, out;              // per image
  int stride = 1;
  bool separable = false;  // a depthwise + 1x1 unit
  bool batchnorm = false;  // a BatchNorm after the last conv
  double eps = 1e-5;
  std::optional<Activation> activation;  // after the last conv (and its BatchNorm)
  Activation inner = Activation::ReLU;   // a ds candidate's activation after its depthwise
  // Layer names of the candidates (the unit's own where it has the layer).
  std::string conv, bn, act, dw, dw_bn, dw_act;
};

// The replaceable layers; throws Error when the graph has none.
std::vector<GraphUnit> graph_units(const ArchSpec& seed);

// Error unless every candidate is a cv, a ds or the identity.
void check_graph_candidates(const std::vector<Candidate>& candidates);

// The candidates that fit the unit, in order (skip only where its input and output shapes are
// equal); throws when none does.
std::vector<Candidate> unit_candidates(const GraphUnit& unit,
                                       const std::vector<Candidate>& candidates);

// The layers of candidate c for the unit, in order (inputs unset: each reads the one before).
std::vector<GraphLayer> candidate_layers(const GraphUnit& unit, const Candidate& c);

// The seed with unit u replaced by choice[u] (std::nullopt: kept as it is); inputs renumbered.
ArchSpec graph_with_choices(const ArchSpec& seed, const std::vector<GraphUnit>& units,
                            const std::vector<std::optional<Candidate>>& choice);

class GraphSuperNetwork : public SearchNetwork {
 public:
  GraphSuperNetwork(const ArchSpec& seed, const std::vector<Candidate>& candidates);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "graph_supernet"; }

  const ArchSpec& seed() const { return seed_; }
  const std::vector<GraphUnit>& units() const { return units_; }
  SelectionState& selection() override { return *selection_; }
  // One SuperNet per unit; its candidates are unit_candidates of the unit.
  const std::vector<std::shared_ptr<SuperNet>>& blocks() const override { return supernets_; }
  const std::vector<std::shared_ptr<MaskGroup>>& groups() const override { return no_groups_; }
  // State-name prefix of the module of a layer of branch j of unit u ("supernets.u.branches.j.p").
  std::string branch_prefix(size_t unit, int64_t branch, const std::string& layer) const;

  std::vector<autograd::Variable> arch_parameters() const override;  // the alphas
  autograd::Variable cost(CostKind kind) const override;
  autograd::Variable icv_total() const override;
  void clamp_masks() override {}

 private:
  struct BranchCost {
    double params = 0, macs = 0;
  };
  ArchSpec seed_;
  std::vector<LayerInfo> rows_;
  std::vector<GraphUnit> units_;
  std::vector<int> unit_of_row_;                            // -1 outside the units
  std::vector<std::shared_ptr<autograd::Module>> modules_;  // per row outside the units
  std::shared_ptr<SelectionState> selection_;
  std::vector<std::shared_ptr<SuperNet>> supernets_;
  std::vector<std::vector<std::vector<std::string>>> branch_layers_;  // [unit][branch] names
  std::vector<std::vector<BranchCost>> branch_costs_;                 // [unit][branch]
  BranchCost fixed_;                                                  // rows outside the units
  std::vector<std::shared_ptr<MaskGroup>> no_groups_;
};

// The graph network of every unit's argmax candidate (graph_with_choices) and its weights, taken
// from the search network (names of build_network(arch)->state()), so that it computes what the
// search network computes under the Argmax selection. choices: the argmax branch per unit.
DnasExport export_graph_supernet(const GraphSuperNetwork& network);

}  // namespace piconas::nas::dnas
