#include "nas/search/gene_policy.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace piconas::nas::search {

PolicyState uniform_policy(const std::vector<int>& decision_sizes) {
  PolicyState policy;
  for (int size : decision_sizes) {
    PICONAS_CHECK(size >= 1, "policy: a decision with " << size << " values");
    policy.logits.emplace_back(static_cast<size_t>(size), 0.0);
  }
  return policy;
}

std::vector<double> decision_probabilities(const std::vector<double>& logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p;
  double sum = 0;
  for (double l : logits) {
    p.push_back(std::exp(l - top));
    sum += p.back();
  }
  for (double& v : p) v /= sum;
  return p;
}

std::vector<int> sample_decisions(const PolicyState& policy, Rng& rng) {
  std::vector<int> decisions;
  for (const auto& logits : policy.logits) {
    const std::vector<double> p = decision_probabilities(logits);
    const double u = rng.uniform();
    double cumulative = 0;
    int value = static_cast<int>(p.size()) - 1;  // u within rounding of 1
    for (size_t v = 0; v < p.size(); ++v) {
      cumulative += p[v];
      if (u < cumulative) {
        value = static_cast<int>(v);
        break;
      }
    }
    decisions.push_back(value);
  }
  return decisions;
}

void reinforce_update(PolicyState& policy, const std::vector<std::vector<int>>& decisions,
                      const std::vector<double>& rewards, double learning_rate,
                      double baseline_decay) {
  PICONAS_CHECK(
      !decisions.empty() && decisions.size() == rewards.size(),
      "policy: " << decisions.size() << " decision vectors for " << rewards.size() << " rewards");
  double mean = 0;
  for (double r : rewards) mean += r;
  mean /= static_cast<double>(rewards.size());
  if (!policy.has_baseline) {
    policy.baseline = mean;
    policy.has_baseline = true;
  }
  const double batch = static_cast<double>(rewards.size());
  for (size_t d = 0; d < policy.logits.size(); ++d) {
    std::vector<double>& logits = policy.logits[d];
    const std::vector<double> p = decision_probabilities(logits);
    std::vector<double> step(logits.size(), 0.0);
    for (size_t b = 0; b < decisions.size(); ++b) {
      PICONAS_CHECK(
          decisions[b].size() == policy.logits.size(),
          "policy: " << decisions[b].size() << " decisions, expected " << policy.logits.size());
      const double advantage = rewards[b] - policy.baseline;
      for (size_t v = 0; v < logits.size(); ++v)
        step[v] += advantage * ((static_cast<int>(v) == decisions[b][d] ? 1.0 : 0.0) - p[v]);
    }
    for (size_t v = 0; v < logits.size(); ++v) logits[v] += learning_rate * step[v] / batch;
  }
  policy.baseline = baseline_decay * policy.baseline + (1 - baseline_decay) * mean;
  ++policy.updates;
}

}  // namespace piconas::nas::search
