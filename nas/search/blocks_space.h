// The "blocks" search space (docs/metrics.md section 7): a fixed stem, min_blocks..max_blocks
// blocks of kind ir / ds / cn with kernel {3,5,7}, expansion {2,4,6} (1 for ds), stride {1,2}
// and output channels {16,32,64,96,160,320}, then the fixed head and classifier. Basic residual
// and plain conv blocks (rb, cv; expansion 1) are never drawn but are expressed: a seed or a
// parsed text (parse also takes a reference name, e.g. "resnet8") may hold them, and mutation
// keeps or changes them like any block. The same holds for MobileNetV3's ir options (:se and a
// block activation): parsed and kept always, drawn and mutated only with
// SpaceOptions::ir_options, which also adds expansions {1,3} and widths {24,40,48}.
// Genes: 7 per block [kind, kernel, expansion, stride, out_channels, se, activation]
// (search_space.h). Text: the blocks text form of the whole ArchSpec (nas/arch/arch_text.h).
// Mutation picks one gene uniformly among every block field (the expansion of a ds, rb or cv
// block is not a gene; se and activation are genes of ir blocks with ir_options only) and the
// block count (which appends a random block or drops the last one), and redraws it to a
// different value; a kind change to ds sets expansion 1, a change from ds, rb or cv draws one; a
// change away from ir clears se and activation. Crossover takes each block from either parent
// (the child's length from one of them). With int8_block_kinds_only, sample and mutate draw
// ir and ds blocks only (se and relu/relu6/hswish are int8-deployable). Draws that leave the
// space (e.g. a stride-2 layer on a 1x1 map) are redrawn. Without ir_options every draw is
// the one of the five-gene space before these genes existed.
#pragma once
#include "nas/search/search_space.h"

namespace piconas::nas::search {

inline constexpr int kBlockGenes = 7;

class BlocksSpace : public SearchSpace {
 public:
  explicit BlocksSpace(const SpaceOptions& options);
  const char* name() const override { return "blocks"; }
  Candidate sample(Rng& rng) const override;
  Candidate mutate(const Candidate& parent, Rng& rng) const override;
  Candidate crossover(const Candidate& a, const Candidate& b, Rng& rng) const override;
  std::vector<std::string> problems(const Candidate& c) const override;
  Candidate parse(std::string_view text) const override;
  Candidate from_genes(const std::vector<int>& genes) const override;
  std::vector<int> decision_sizes() const override;
  Candidate decode(const std::vector<int>& decisions) const override;
  std::shared_ptr<autograd::Module> build(const Candidate& c) const override;
  double skip(const Candidate& c) const override;
  CostEstimate cost(const Candidate& c) const override;

  // The ArchSpec of genes (base fields from the options); no validity check.
  ArchSpec spec_of(const std::vector<int>& genes) const;

 private:
  std::vector<std::string> spec_problems(const ArchSpec& spec) const;
  std::vector<int> random_block(Rng& rng) const;
  SpaceOptions options_;
  std::vector<int> kinds_;  // block kinds drawn (int8_block_kinds_only: no cn)
  std::vector<int> expansions_, channels_;  // drawn values (ir_options: MobileNetV3's added)
  std::vector<int> activation_genes_;       // ir_options: 0 and the non-network activations
};

}  // namespace piconas::nas::search
