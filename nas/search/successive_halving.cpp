#include "nas/search/successive_halving.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace piconas::nas::search {

namespace {
void check_arguments(int64_t n, int64_t first_budget, int eta) {
  PICONAS_CHECK(n >= 1 && first_budget >= 1 && eta >= 2,
                "successive halving: need n >= 1, first budget >= 1 and eta >= 2, got n "
                    << n << ", budget " << first_budget << ", eta " << eta);
}

int64_t survivors(int64_t size, int eta) { return (size + eta - 1) / eta; }
}  // namespace

std::vector<HalvingRung> successive_halving(int64_t n, int64_t first_budget, int eta,
                                            const std::function<double(int64_t, int64_t)> &evaluate,
                                            bool score_winner) {
  return successive_halving_by_rung(
      n, first_budget, eta,
      [&evaluate](const std::vector<int64_t> &candidates, int64_t budget) {
        std::vector<double> scores;
        for (int64_t c : candidates) scores.push_back(evaluate(c, budget));
        return scores;
      },
      score_winner);
}

std::vector<HalvingRung> successive_halving_by_rung(
    int64_t n, int64_t first_budget, int eta,
    const std::function<std::vector<double>(const std::vector<int64_t> &, int64_t)> &evaluate_rung,
    bool score_winner) {
  check_arguments(n, first_budget, eta);
  std::vector<HalvingRung> rungs;
  std::vector<int64_t> alive(static_cast<size_t>(n));
  std::iota(alive.begin(), alive.end(), int64_t{0});
  int64_t budget = first_budget;
  while (true) {
    HalvingRung rung{budget, alive, {}};
    const bool last = alive.size() == 1;
    if (last && !score_winner) {
      rung.scores.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
      rung.scores = evaluate_rung(alive, budget);
      PICONAS_CHECK(rung.scores.size() == alive.size(),
                    "successive halving: " << rung.scores.size() << " scores for "
                                           << alive.size() << " candidates");
    }
    rungs.push_back(rung);
    if (last) break;
    std::vector<size_t> order(alive.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return rung.scores[a] > rung.scores[b]; });
    order.resize(static_cast<size_t>(survivors(static_cast<int64_t>(alive.size()), eta)));
    std::sort(order.begin(), order.end());
    std::vector<int64_t> next;
    for (size_t k : order) next.push_back(alive[k]);
    alive = std::move(next);
    PICONAS_CHECK(budget <= INT64_MAX / eta, "successive halving: budget overflow");
    budget *= eta;
  }
  return rungs;
}

int64_t halving_cost(int64_t n, int64_t first_budget, int eta, bool score_winner) {
  check_arguments(n, first_budget, eta);
  int64_t cost = 0;
  for (int64_t size = n, budget = first_budget;; size = survivors(size, eta)) {
    if (size > 1 || score_winner) {
      PICONAS_CHECK(budget <= (INT64_MAX - cost) / size, "successive halving: budget overflow");
      cost += size * budget;
    }
    if (size == 1) break;
    PICONAS_CHECK(budget <= INT64_MAX / eta, "successive halving: budget overflow");
    budget *= eta;
  }
  return cost;
}

}  // namespace piconas::nas::search
