// Successive halving (Jamieson & Talwalkar; the inner loop of Hyperband): a
// multi-fidelity selection over n candidates. Rung 0 evaluates every candidate
// at `first_budget` (e.g. training images or steps); each later rung keeps the
// best ceil(size / eta) of the previous rung (ties to the lower index) and
// multiplies the budget by eta, until one candidate is left.
// evaluate(candidate, budget) returns a score, higher is better (e.g.
// validation accuracy after a short training); it is called in rung order,
// candidates in index order. Total cost: sum over rungs of size * budget
// (halving_cost). For the selection stage of `piconas run` (nas/pipeline,
// stages_train.cpp) and bench/search_quality.py, which runs the same rule. With
// score_winner false the last rung's single candidate is not evaluated (its
// score is NaN): `piconas run` trains the winner fully anyway.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace piconas::nas::search {

struct HalvingRung {
  int64_t budget = 0;
  std::vector<int64_t> candidates;  // indices into the original list, in evaluation order
  std::vector<double> scores;       // one per candidate
};

// n >= 1, first_budget >= 1, eta >= 2. The winner is the last rung's single
// candidate.
std::vector<HalvingRung> successive_halving(
    int64_t n, int64_t first_budget, int eta,
    const std::function<double(int64_t candidate, int64_t budget)> &evaluate,
    bool score_winner = true);

// The same selection with a whole rung evaluated by one call: evaluate_rung(candidates, budget)
// returns one score per candidate, in order (`piconas run` trains a rung's candidates on
// several MPI ranks at once). With score_winner false the last rung is not passed to it.
std::vector<HalvingRung> successive_halving_by_rung(
    int64_t n, int64_t first_budget, int eta,
    const std::function<std::vector<double>(const std::vector<int64_t> &candidates,
                                            int64_t budget)> &evaluate_rung,
    bool score_winner = true);

// Sum of size * budget over the evaluations that successive_halving(n,
// first_budget, eta,
// .., score_winner) runs; Error on overflow.
int64_t halving_cost(int64_t n, int64_t first_budget, int eta, bool score_winner = true);

}  // namespace piconas::nas::search
