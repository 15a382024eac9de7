// build_network: turns an ArchSpec into a trainable autograd Module, one module per row of its
// lowering (arch_layers, nas/arch/lowering.h), so parameter counts equal arch_cost().
// The module maps [N, C, H, W] images to [N, classes] logits. Parameters start at zero:
// call initialize(rng) before use.
// Names are stable and readable: "stem.conv", "blocks.3.dw", "head.bn", "classifier".
#pragma once
#include <memory>

#include "autograd/layers.h"
#include "nas/arch/lowering.h"

namespace piconas::nas {

autograd::ActivationKind to_activation_kind(Activation activation);

// A graph network (spec.graph not empty) becomes a GraphNetwork. In a block network each
// BatchNorm2d followed by a ReLU / ReLU6 applies that activation itself (a fused op in training,
// autograd batchnorm2d_act, the same bits) and the Activation module passes its input through.
std::shared_ptr<autograd::Sequential> build_network(const ArchSpec& spec);

// The module of a graph network: one child per row that has parameters or computes (named by
// the layer, so tensors are "conv1.weight", "bn1.running_mean"), run in row order; Add rows add
// their two inputs, and the classifier flattens a CxHxW input. A Sequential only so that every
// reader of build_network's result takes it; its children are not run in sequence.
class GraphNetwork : public autograd::Sequential {
 public:
  explicit GraphNetwork(std::vector<LayerInfo> rows);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "graph"; }

 private:
  std::vector<LayerInfo> rows_;
  std::vector<std::shared_ptr<autograd::Module>> modules_;  // per row; nullptr: Input, Add, ChannelMul
};

// One block of the network: a Sequential of its layers (block_layers), wrapped in a Residual
// when has_residual(block, in_channels); the same modules build_network makes for it.
std::shared_ptr<autograd::Module> build_block(const BlockSpec& block, int64_t in_channels,
                                              Activation act);

// A graph network row's output as the next rows read it: a GlobalAvgPool's [N, C] becomes
// [N, C, 1, 1] (a 1x1 conv of a squeeze-and-excitation module may read it); others as they are.
autograd::Variable graph_output(const LayerInfo& row, const autograd::Variable& y);

// A ChannelMul row's product of the features and the gate, by the gate's form (mul_gate):
// channel_mul, mul or pixel_mul.
autograd::Variable gated(MulGate gate, const autograd::Variable& features,
                         const autograd::Variable& g);

// A graph network row's output from the outputs of the rows before it (indexed by row): Add and
// ChannelMul combine the row they read (source_row) with their skip row, a FullyConnected
// flattens a CxHxW input, every other row runs its module. The one forward of a graph row, for
// GraphNetwork and the graph PIT and SuperNet networks of nas/dnas.
autograd::Variable graph_row_forward(const LayerInfo& row, size_t index,
                                     const std::vector<autograd::Variable>& outputs,
                                     autograd::Module* module);

// The module of one lowered row; nullptr for rows that are no module (Input, Add, ChannelMul).
std::shared_ptr<autograd::Module> build_module(const LayerInfo& row);

}  // namespace piconas::nas
