// Successive halving (Jamieson & Talwalkar; the inner loop of Hyperband): a multi-fidelity
// selection over n candidates. Rung 0 evaluates every candidate at `first_budget` (e.g.
// training images or steps); each later rung keeps the best ceil(size / eta) of the previous
// rung (ties to the lower index) and multiplies the budget by eta, until one candidate is
// left. evaluate(candidate, budget) returns a score, higher is better (e.g. validation
// accuracy after a short training); it is called in rung order, candidates in index order.
// Total cost: sum over rungs of size * budget (halving_cost). For the selection stage of
// `piconas run` (not wired yet) and bench/search_quality.py, which runs the same rule.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace piconas::nas {

struct HalvingRung {
  int64_t budget = 0;
  std::vector<int64_t> candidates;  // indices into the original list, in evaluation order
  std::vector<double> scores;       // one per candidate
};

// n >= 1, first_budget >= 1, eta >= 2. The winner is the last rung's single candidate.
std::vector<HalvingRung> successive_halving(
    int64_t n, int64_t first_budget, int eta,
    const std::function<double(int64_t candidate, int64_t budget)>& evaluate);

// Sum of size * budget over the rungs that successive_halving(n, first_budget, eta) runs.
int64_t halving_cost(int64_t n, int64_t first_budget, int eta);

}  // namespace piconas::nas
