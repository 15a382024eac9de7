// PIT channel search on a graph network (ArchSpec::graph: an imported ONNX
// model or the JSON layer list of nas/arch/graph_text.h).
//
// Channel spaces: every conv with groups 1 starts a space of its output
// channels; a depthwise conv, BatchNorm, activation and pool keeps its input's
// space; an Add, and a Mul's channel scale (squeeze-and-excitation: features
// times a Cx1x1 gate), joins the spaces of its two inputs (their channels must
// match one to one). Spaces that cannot be pruned are fixed: the network input, the
// classifier output and both sides of a grouped (not depthwise) conv, whose
// channel groups would no longer line up (and every space joined to one of
// those). Each prunable space is one MaskGroup (named after the layer that
// first produces it) with the PIT gamma and binarised mask of
// nas/dnas/supernet.h.
//
// Forward: the rows of the graph in order, as GraphNetwork (nas/builder.h) runs
// them, with the mask of its space multiplied into the output of every conv,
// depthwise conv and BatchNorm of a prunable space. A masked channel is then
// exactly 0 everywhere (the activations, pools and adds of the subset keep 0 at
// 0; a gate of a dead channel scales a 0), so removing it changes no other
// channel. The children are the modules of
// build_network(seed) under the same names, so a checkpoint of the seed (an
// imported model) loads as is, and the weights train with the masks. cost() is
// the lowering's formula per row with the alive counts (sum of the masks) in
// place of the pruned widths; it equals arch_cost() of the exported network.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nas/arch/lowering.h"
#include "nas/dnas/dnas_export.h"
#include "nas/dnas/supernet.h"

namespace piconas::nas::dnas {

class GraphPitNetwork : public SearchNetwork {
 public:
  explicit GraphPitNetwork(const ArchSpec &seed);
  autograd::Variable forward(const autograd::Variable &x) override;
  const char *kind() const override { return "graph_pit"; }

  const ArchSpec &seed() const { return seed_; }
  const std::vector<LayerInfo> &rows() const { return rows_; }
  SelectionState &selection() override { return selection_; }
  const std::vector<std::shared_ptr<SuperNet>> &blocks() const override { return no_blocks_; }
  const std::vector<std::shared_ptr<MaskGroup>> &groups() const override { return groups_; }
  // The mask group of row r's output channels; nullptr where they are fixed.
  const std::shared_ptr<MaskGroup> &group_of(size_t row) const { return row_group_[row]; }

  std::vector<autograd::Variable> arch_parameters() const override;  // the gammas
  autograd::Variable cost(CostKind kind) const override;
  autograd::Variable icv_total() const override;  // [1] zero: no SuperNet
  void clamp_masks() override { clamp_gammas(groups_); }

 private:
  ArchSpec seed_;
  std::vector<LayerInfo> rows_;
  std::vector<std::shared_ptr<autograd::Module>> modules_;  // per row; nullptr: Input, Add
  std::vector<std::shared_ptr<MaskGroup>> row_group_;       // per row
  std::vector<std::shared_ptr<MaskGroup>> groups_;
  std::vector<std::shared_ptr<SuperNet>> no_blocks_;
  SelectionState selection_;
};

// The graph network with the alive channels only (conv widths and depthwise
// groups shrunk) and its weights sliced from the search network's (names of
// build_network(arch)->state()), so it computes what the masked network
// computes. choices is empty, ghost_channels 0 (a graph network has no residual
// rule to keep).
DnasExport export_graph_network(const GraphPitNetwork &network);

}  // namespace piconas::nas::dnas
