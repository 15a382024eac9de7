// The "nb201" search space: NAS-Bench-201 cells (5 ops on 6 edges, 15,625 cells) in the
// standard macro network of nb201_network.h (input and classes from SpaceOptions; C = 16, N = 5).
// Genes: 6 op indices (Nb201Op as int), edge order of the text. Text (the NAS-Bench-201
// "arch_str"): |op~0|+|op~0|op~1|+|op~0|op~1|op~2| — node j lists its inputs i = 0..j-1.
// Mutation redraws one edge's op to a different one; crossover takes every edge from either
// parent. Skip (FreeREA): mean over skip_connect edges of the nodes jumped (dst - src - 1).
#pragma once
#include <string>
#include <string_view>

#include "nas/search/nb201_network.h"
#include "nas/search/search_space.h"

namespace piconas::nas::search {

// "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3".
const char* nb201_op_name(Nb201Op op);
Nb201Op parse_nb201_op(std::string_view name);  // Error on unknown names
std::string nb201_text(const Nb201Genotype& genotype);
// Strict inverse of nb201_text; Error naming the offending token and its position.
Nb201Genotype parse_nb201(std::string_view text);
double nb201_skip(const Nb201Genotype& genotype);

class Nb201Space : public SearchSpace {
 public:
  explicit Nb201Space(const SpaceOptions& options);
  const char* name() const override { return "nb201"; }
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

  Nb201Genotype genotype_of(const Candidate& c) const;

 private:
  Nb201MacroOptions macro_;
};

}  // namespace piconas::nas::search
