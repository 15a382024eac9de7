// The "mbv2" search space: the 7-stage MobileNetV2 space of nas/arch/arch_spec.h around a base
// (input, classes, activation, stem, head from SpaceOptions).
// Genes: 21 = per stage [depth 1..4, expansion 1..6, channel index 0..15 into kMbv2Channels].
// Text: the 21-character mbv2 key (nas/arch/arch_text.h). Mutation redraws one gene uniformly
// among the 21 to a different value; crossover takes every gene from either parent.
#pragma once
#include "nas/search/search_space.h"

namespace piconas::nas::search {

inline constexpr int kMbv2Genes = 3 * kMbv2Stages;

class Mbv2Space : public SearchSpace {
 public:
  explicit Mbv2Space(const SpaceOptions& options);
  const char* name() const override { return "mbv2"; }
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

  Mbv2Spec spec_of(const std::vector<int>& genes) const;

 private:
  std::vector<std::string> gene_problems(const std::vector<int>& genes) const;
  Mbv2Spec base_;
  deploy::PlanOptions deploy_memory_;  // SpaceOptions: the memory model of cost()
  int64_t deploy_max_sram_ = 0;
};

}  // namespace piconas::nas::search
