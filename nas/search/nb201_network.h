// The NAS-Bench-201 network (Dong & Yang, 2020) as an autograd Module, and its costs.
//
// Genotype: one op per edge of a 4-node cell, edges in the order of the genotype text
// (0->1, 0->2, 1->2, 0->3, 1->3, 2->3). Node 0 is the cell input, node j = sum over i < j of
// op(i->j)(node i), the cell output is node 3. Ops:
//   none          the zero tensor (the edge is absent; a node with only none inputs is zero)
//   skip_connect  identity
//   nor_conv_kxk  ReLU -> Conv kxk stride 1 pad k/2 (no bias) -> BN
//   avg_pool_3x3  3x3 stride 1 pad 1 average, padding excluded from the count
// Macro network: stem conv3x3 (in -> C, no bias) + BN; N cells at C; reduction block C -> 2C;
// N cells at 2C; reduction 2C -> 4C; N cells at 4C; BN, ReLU, global average pool, linear
// (with bias). Reduction = ResNet basic block: ReLU-conv3x3 s2-BN, ReLU-conv3x3-BN, plus the
// shortcut avgpool 2x2 s2 -> conv1x1 (no bias). Standard: C = 16, N = 5.
// Child names: "stem", "cells.<k>" (reductions included, k = 0..3N+1), "lastact", "classifier";
// edges "e<j>_<i>" inside a cell.
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "autograd/layers.h"
#include "nas/arch/arch_spec.h"
#include "nas/search/cost_model.h"

namespace piconas::nas::search {

enum class Nb201Op { None = 0, SkipConnect = 1, NorConv1x1 = 2, NorConv3x3 = 3, AvgPool3x3 = 4 };
inline constexpr int kNb201Ops = 5;
inline constexpr int kNb201Edges = 6;
using Nb201Genotype = std::array<Nb201Op, kNb201Edges>;
// (source, destination) node of each edge.
inline constexpr std::array<std::array<int, 2>, kNb201Edges> kNb201EdgeNodes{
    {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}};

struct Nb201MacroOptions {
  Shape3 input{3, 32, 32};
  int num_classes = 10;
  int channels = 16;
  int cells_per_stage = 5;
};

class Nb201Cell : public autograd::Module {
 public:
  Nb201Cell(const Nb201Genotype& genotype, int64_t channels);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "nb201_cell"; }

 private:
  Nb201Genotype genotype_;
  std::array<std::shared_ptr<autograd::Module>, kNb201Edges> edges_;  // null: none / skip
};

class Nb201Reduction : public autograd::Module {
 public:
  Nb201Reduction(int64_t in_channels, int64_t out_channels);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "nb201_reduction"; }

 private:
  std::shared_ptr<autograd::Module> conv_a_, conv_b_, shortcut_;
};

class Nb201Network : public autograd::Module {
 public:
  Nb201Network(const Nb201Genotype& genotype, const Nb201MacroOptions& options);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "nb201_network"; }

 private:
  std::vector<std::shared_ptr<autograd::Module>> stages_;  // every child, in order
};

// Problems of the macro options (sizes, input sides divisible by 4 for the two reductions).
std::vector<std::string> nb201_macro_problems(const Nb201MacroOptions& options);
// Parameters and MACs exactly as the module has them; peak_sram and flash as estimated by
// cost_model.h (cells: every node still read later, plus the node being summed and one op
// output; BN folded into the conv before it, the final BN kept as 8 bytes per channel).
CostEstimate nb201_cost(const Nb201Genotype& genotype, const Nb201MacroOptions& options);

}  // namespace piconas::nas::search
