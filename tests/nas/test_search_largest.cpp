// The largest feasible draws of a search history (nas/search/largest_feasible.h): the
// size-aware part of the `piconas run` shortlist.
#include <doctest/doctest.h>

#include <limits>

#include "core/error.h"
#include "nas/search/largest_feasible.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

search::HistoryEntry entry(const std::string& text, int64_t params, int64_t macs, bool feasible,
                           int64_t generation = 0) {
  search::HistoryEntry e;
  e.generation = generation;
  e.candidate.text = text;
  e.feasible = feasible;
  e.cost.params = params;
  e.cost.macs = macs;
  return e;
}

// b is the largest but refused, c is drawn twice, e ties with c on params (later), f is the
// search's top (excluded).
std::vector<search::HistoryEntry> history() {
  return {entry("a", 50, 900, true),  entry("b", 300, 100, false), entry("c", 200, 500, true),
          entry("d", 120, 800, true), entry("c", 200, 500, true),  entry("e", 200, 50, true),
          entry("f", 400, 10, true)};
}

// Every generation counts (DrawSet::All).
constexpr int64_t kEvery = std::numeric_limits<int64_t>::max();

}  // namespace

TEST_CASE(
    "largest_feasible: most params first, feasible only, one per text, top excluded, ties to the "
    "earlier") {
  const auto h = history();
  CHECK(search::largest_feasible(h, {6}, 3, search::SizeKey::Params, kEvery) ==
        std::vector<int64_t>{2, 5, 3});
  CHECK(search::largest_feasible(h, {6}, 1, search::SizeKey::Params, kEvery) == std::vector<int64_t>{2});
  // Only four distinct feasible texts outside the top: fewer than asked.
  CHECK(search::largest_feasible(h, {6}, 10, search::SizeKey::Params, kEvery) ==
        std::vector<int64_t>{2, 5, 3, 0});
  CHECK(search::largest_feasible(h, {6}, 0, search::SizeKey::Params, kEvery).empty());
  // Excluding by text: the top's row 2 also excludes the other draw of "c" (row 4).
  CHECK(search::largest_feasible(h, {2}, 2, search::SizeKey::Params, kEvery) == std::vector<int64_t>{6, 5});
  CHECK(search::largest_feasible(h, {}, 2, search::SizeKey::Params, kEvery) == std::vector<int64_t>{6, 2});
}

TEST_CASE("largest_feasible: by MACs") {
  const auto h = history();
  CHECK(search::largest_feasible(h, {6}, 3, search::SizeKey::Macs, kEvery) ==
        std::vector<int64_t>{0, 3, 2});
  CHECK(search::largest_feasible(h, {0, 3}, 2, search::SizeKey::Macs, kEvery) ==
        std::vector<int64_t>{2, 5});
}

TEST_CASE("largest_feasible: from the initial population (generation 0) only") {
  // Generation 0: a, b (refused), c, d; later: e (the largest), c again, f.
  const std::vector<search::HistoryEntry> h = {
      entry("a", 50, 900, true, 0),  entry("b", 300, 100, false, 0), entry("c", 200, 500, true, 0),
      entry("d", 120, 800, true, 0), entry("e", 250, 50, true, 1),   entry("c", 200, 500, true, 2),
      entry("f", 400, 10, true, 3)};
  CHECK(search::largest_feasible(h, {}, 2, search::SizeKey::Params, 0) ==
        std::vector<int64_t>{2, 3});
  CHECK(search::largest_feasible(h, {}, 2, search::SizeKey::Params, kEvery) ==
        std::vector<int64_t>{6, 4});
  // A later draw of an initial text excludes it too (by text), and fewer than asked remain.
  CHECK(search::largest_feasible(h, {5}, 5, search::SizeKey::Params, 0) ==
        std::vector<int64_t>{3, 0});
  CHECK(search::largest_feasible(h, {}, 1, search::SizeKey::Macs, 0) ==
        std::vector<int64_t>{0});
}

TEST_CASE("largest_feasible: the initial draws of random and rl (generation = 1-based position)") {
  // Random and rl number their draws 1, 2, ...; rl's first batch (here 3) comes from its uniform
  // initial policy, random's draws are all uniform.
  const std::vector<search::HistoryEntry> h = {
      entry("a", 50, 900, true, 1), entry("b", 300, 100, true, 2), entry("c", 200, 500, true, 3),
      entry("d", 350, 800, true, 4), entry("e", 250, 50, true, 5)};
  const auto initial = [](search::StrategyKind strategy, int64_t batch) {
    return search::last_counted_generation(search::DrawSet::Initial, strategy, batch);
  };
  const int64_t rl = initial(search::StrategyKind::Rl, 3);
  CHECK(rl == 3);
  CHECK(search::largest_feasible(h, {}, 2, search::SizeKey::Params, rl) == std::vector<int64_t>{1, 2});
  const int64_t random = initial(search::StrategyKind::Random, 3);
  CHECK(search::largest_feasible(h, {}, 2, search::SizeKey::Params, random) == std::vector<int64_t>{3, 1});
  CHECK(initial(search::StrategyKind::Rea, 3) == 0);
  CHECK(initial(search::StrategyKind::FreeRea, 8) == 0);
  for (search::StrategyKind strategy : {search::StrategyKind::Random, search::StrategyKind::Rea,
                                        search::StrategyKind::FreeRea, search::StrategyKind::Rl})
    CHECK(search::last_counted_generation(search::DrawSet::All, strategy, 3) == kEvery);
}

TEST_CASE("largest_feasible: size keys parse, bad values are named") {
  CHECK(search::parse_draw_set("all") == search::DrawSet::All);
  CHECK(search::parse_draw_set("initial") == search::DrawSet::Initial);
  CHECK(std::string(search::draw_set_name(search::DrawSet::Initial)) == "initial");
  CHECK(std::string(search::draw_set_name(search::DrawSet::All)) == "all");
  CHECK_THROWS_WITH_AS(search::parse_draw_set("first"), doctest::Contains("'first'"), Error);
  CHECK(search::parse_size_key("params") == search::SizeKey::Params);
  CHECK(search::parse_size_key("macs") == search::SizeKey::Macs);
  CHECK(std::string(search::size_key_name(search::SizeKey::Macs)) == "macs");
  CHECK(std::string(search::size_key_name(search::SizeKey::Params)) == "params");
  CHECK_THROWS_WITH_AS(search::parse_size_key("flops"), doctest::Contains("'flops'"), Error);
  using Keys = std::vector<search::SizeKey>;
  CHECK(search::parse_size_keys("params") == Keys{search::SizeKey::Params});
  CHECK(search::parse_size_keys("macs,params") == Keys{search::SizeKey::Macs, search::SizeKey::Params});
  CHECK(search::parse_size_keys("params,macs") == Keys{search::SizeKey::Params, search::SizeKey::Macs});
  CHECK_THROWS_WITH_AS(search::parse_size_keys("params,params"), doctest::Contains("'params' twice"), Error);
  CHECK_THROWS_WITH_AS(search::parse_size_keys("params,flops"), doctest::Contains("'params,flops'"), Error);
  for (const char* bad : {"", ",", "params,", ",macs", "params macs"})
    CHECK_THROWS_WITH_AS(search::parse_size_keys(bad), doctest::Contains(("size keys '" + std::string(bad) + "'").c_str()), Error);
  CHECK_THROWS_WITH_AS(search::largest_feasible(history(), {}, -1, search::SizeKey::Params, kEvery),
                       doctest::Contains("count"), Error);
}
