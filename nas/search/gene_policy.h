// The policy of the rl search strategy: one categorical distribution per decision of a
// space's fixed-length encoding (SearchSpace::decision_sizes), parameterised by logits
// (softmax), trained with REINFORCE and a moving-average baseline:
//   advantage_b = reward_b - baseline        (baseline: the first batch's mean reward, then
//                                             baseline <- decay * baseline + (1 - decay) * mean)
//   logits_d   += learning_rate * mean_b advantage_b * (onehot(a_bd) - softmax(logits_d))
// which is gradient ascent on E[reward] with grad log pi(a) = onehot(a) - softmax per decision.
// Sampling reads one uniform draw per decision from the caller's Rng (inverse CDF), so a seed
// fixes every draw; all arithmetic is serial, so the policy does not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace piconas::nas::search {

struct PolicyState {
  std::vector<std::vector<double>> logits;  // per decision, one per value; all 0 = uniform
  double baseline = 0;
  bool has_baseline = false;
  int64_t updates = 0;
  // The search's batch drawn since the last update: decisions and history entries (an
  // interrupted batch is completed after a resume, so updates fall at the same draws).
  std::vector<std::vector<int>> pending_decisions;
  std::vector<int64_t> pending_entries;
};

// A uniform policy over decisions with these sizes (each >= 1).
PolicyState uniform_policy(const std::vector<int>& decision_sizes);
// One value per decision, drawn from softmax(logits).
std::vector<int> sample_decisions(const PolicyState& policy, Rng& rng);
// softmax of one decision's logits.
std::vector<double> decision_probabilities(const std::vector<double>& logits);
// One REINFORCE step on a batch of (decisions, reward) pairs (batch non-empty).
void reinforce_update(PolicyState& policy, const std::vector<std::vector<int>>& decisions,
                      const std::vector<double>& rewards, double learning_rate,
                      double baseline_decay);

}  // namespace piconas::nas::search
