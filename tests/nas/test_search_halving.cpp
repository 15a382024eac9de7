// Successive halving: rung sizes and budgets, ties, the winner under a noisy
// low fidelity, the cost formula and bad arguments.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "nas/search/successive_halving.h"

using namespace piconas;
using namespace piconas::nas;

TEST_CASE(
    "successive halving: 9 candidates, eta 3 -> rungs 9, 3, 1 at budgets "
    "1, 3, 9") {
  // True quality: the index, except candidate 5 (10, the best). Candidate 1
  // gets noise 8 / budget, so at budget 1 the order is 5, 1, 8 (kept in index
  // order: 1, 5, 8).
  auto quality = [](int64_t c) { return c == 5 ? 10.0 : static_cast<double>(c); };
  std::vector<std::pair<int64_t, int64_t>> calls;
  const auto rungs = search::successive_halving(9, 1, 3, [&](int64_t c, int64_t budget) {
    calls.emplace_back(c, budget);
    const double noise = (c == 1 ? 8.0 : 0.0) / static_cast<double>(budget);
    return quality(c) + noise;
  });
  REQUIRE(rungs.size() == 3);
  CHECK(rungs[0].budget == 1);
  CHECK(rungs[0].candidates.size() == 9);
  CHECK(rungs[1].budget == 3);
  CHECK(rungs[1].candidates == std::vector<int64_t>{1, 5, 8});  // kept in index order
  CHECK(rungs[1].scores[0] == doctest::Approx(1 + 8.0 / 3));
  CHECK(rungs[2].budget == 9);
  CHECK(rungs[2].candidates == std::vector<int64_t>{5});
  CHECK(calls.size() == 13);
  CHECK(search::halving_cost(9, 1, 3) == 9 * 1 + 3 * 3 + 1 * 9);
}

TEST_CASE(
    "successive halving: ceil division, ties to the lower index, one "
    "candidate") {
  const auto rungs = search::successive_halving(5, 2, 2, [](int64_t, int64_t) { return 1.0; });
  REQUIRE(rungs.size() == 4);  // 5 -> 3 -> 2 -> 1
  CHECK(rungs[1].candidates == std::vector<int64_t>{0, 1, 2});
  CHECK(rungs[2].candidates == std::vector<int64_t>{0, 1});
  CHECK(rungs[3].candidates == std::vector<int64_t>{0});
  CHECK(rungs[3].budget == 16);
  CHECK(search::halving_cost(5, 2, 2) == 5 * 2 + 3 * 4 + 2 * 8 + 1 * 16);
  const auto single = search::successive_halving(1, 7, 2, [](int64_t, int64_t) { return 0.0; });
  REQUIRE(single.size() == 1);
  CHECK(single[0].budget == 7);
  CHECK(search::halving_cost(1, 7, 2) == 7);
  CHECK_THROWS_AS(search::successive_halving(0, 1, 2, [](int64_t, int64_t) { return 0.0; }), Error);
  CHECK_THROWS_AS(search::halving_cost(3, 1, 1), Error);
}

TEST_CASE(
    "successive halving without scoring the winner: 9 at 1500 images, 3 "
    "at 4500, winner untrained") {
  // Synthetic objective: quality grows with the index, but candidate 2 looks
  // best at low fidelity (bonus 15000 / budget) and falls back at 4500: the
  // winner is 8.
  std::vector<std::pair<int64_t, int64_t>> calls;
  const auto rungs = search::successive_halving(
      9, 1500, 3,
      [&](int64_t c, int64_t budget) {
        calls.emplace_back(c, budget);
        return static_cast<double>(c) + (c == 2 ? 15000.0 / static_cast<double>(budget) : 0.0);
      },
      false);
  REQUIRE(rungs.size() == 3);
  CHECK(rungs[0].candidates.size() == 9);
  CHECK(rungs[1].budget == 4500);
  CHECK(rungs[1].candidates == std::vector<int64_t>{2, 7, 8});
  CHECK(rungs[2].budget == 13500);
  CHECK(rungs[2].candidates == std::vector<int64_t>{8});
  CHECK(std::isnan(rungs[2].scores[0]));
  CHECK(calls.size() == 12);  // 9 + 3: the winner is not evaluated
  CHECK(calls.back() == std::pair<int64_t, int64_t>{8, 4500});
  CHECK(search::halving_cost(9, 1500, 3, false) == 9 * 1500 + 3 * 4500);
  CHECK(search::halving_cost(1, 1500, 3, false) == 0);
  CHECK_THROWS_AS(search::halving_cost(3, INT64_MAX / 2, 2, false), Error);
}
