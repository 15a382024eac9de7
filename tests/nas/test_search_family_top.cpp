// The aggregate's top with at most N networks per family (nas/search/family_top.h): the
// candidate part of the `piconas run` shortlist with shortlist_per_family.
#include <doctest/doctest.h>

#include <limits>

#include "core/error.h"
#include "nas/arch/arch_text.h"
#include "nas/search/family_top.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

const std::string kPrefix = "blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2|";

search::HistoryEntry entry(const std::string& blocks, bool feasible) {
  search::HistoryEntry e;
  e.candidate.text = kPrefix + blocks + "|head=0";
  e.candidate.arch = parse_arch(e.candidate.text);
  e.feasible = feasible;
  return e;
}

// Families: A = s2c32|s1c64 (entries 0, 1, 3, 6), B = s2c32|s2c64 (2, 5), C = s1c16|s2c64|s1c64
// (4). Entry 3 is refused, entry 6 repeats entry 0's text; 1 and 2 tie.
std::vector<search::HistoryEntry> history() {
  return {entry("ir:k3e2s2c32|ir:k3e4s1c64", true),   entry("ds:k5s2c32|ir:k7e6s1c64", true),
          entry("ir:k3e2s2c32|ds:k3s2c64", true),     entry("ds:k3s2c32|ds:k3s1c64", false),
          entry("ds:k3s1c16|ir:k3e2s2c64|ds:k5s1c64", true), entry("ir:k5e6s2c32|ir:k5e6s2c64", true),
          entry("ir:k3e2s2c32|ir:k3e4s1c64", true)};
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<double> kAggregates = {5.0, 4.0, 4.0, kNaN, 1.0, 3.0, 5.0};

}  // namespace

TEST_CASE("family_key: each block's stride and width; kinds, kernels and expansions are free") {
  CHECK(search::family_key(parse_arch(kPrefix + "ir:k3e2s2c32|ds:k7s1c64|ir:k5e6s2c320|head=0")) ==
        "s2c32|s1c64|s2c320");
  CHECK(search::family_key(parse_arch(kPrefix + "ds:k5s2c32|ir:k3e4s1c64|ds:k3s2c320|head=0")) ==
        "s2c32|s1c64|s2c320");
  // A different stride, width or block count is another family.
  CHECK(search::family_key(parse_arch(kPrefix + "ir:k3e2s1c32|ds:k7s1c64|ir:k5e6s2c320|head=0")) ==
        "s1c32|s1c64|s2c320");
  CHECK(search::family_key(parse_arch(kPrefix + "ir:k3e2s2c32|ds:k7s1c96|ir:k5e6s2c320|head=0")) ==
        "s2c32|s1c96|s2c320");
  CHECK(search::family_key(parse_arch(kPrefix + "ir:k3e2s2c32|ds:k7s1c64|head=0")) == "s2c32|s1c64");
}

TEST_CASE("top_per_family: best aggregate first, at most N per family, one per text, feasible only") {
  const auto h = history();
  // Order by aggregate: 0 (A), 6 (= 0's text), 1 (A), 2 (B), 5 (B), 4 (C); 3 is refused.
  CHECK(search::top_per_family(h, kAggregates, 9, 1) == std::vector<int64_t>{0, 2, 4});
  CHECK(search::top_per_family(h, kAggregates, 9, 2) == std::vector<int64_t>{0, 1, 2, 5, 4});
  CHECK(search::top_per_family(h, kAggregates, 2, 1) == std::vector<int64_t>{0, 2});
  // 0: no family limit, the search's own top (one per text, ties to the earlier entry).
  CHECK(search::top_per_family(h, kAggregates, 9, 0) == std::vector<int64_t>{0, 1, 2, 5, 4});
  CHECK(search::top_per_family(h, kAggregates, 3, 0) == std::vector<int64_t>{0, 1, 2});
  CHECK(search::top_per_family(h, kAggregates, 0, 1).empty());
  // A repeated text does not use up its family's place.
  std::vector<double> repeat_first = kAggregates;
  repeat_first[6] = 6.0;
  CHECK(search::top_per_family(h, repeat_first, 9, 2) == std::vector<int64_t>{6, 1, 2, 5, 4});
}

TEST_CASE("top_per_family: entries without an architecture are families of their own") {
  std::vector<search::HistoryEntry> h(3);
  h[0].candidate = search::Candidate{"x", {}, std::nullopt};
  h[1].candidate = search::Candidate{"y", {}, std::nullopt};
  h[2].candidate = search::Candidate{"x", {}, std::nullopt};
  CHECK(search::top_per_family(h, {1.0, 3.0, 2.0}, 5, 1) == std::vector<int64_t>{1, 2});
}

TEST_CASE("top_per_family: bad arguments are named") {
  const auto h = history();
  CHECK_THROWS_WITH_AS(search::top_per_family(h, kAggregates, -1, 1), doctest::Contains("count"), Error);
  CHECK_THROWS_WITH_AS(search::top_per_family(h, kAggregates, 3, -1), doctest::Contains("per_family"), Error);
  CHECK_THROWS_WITH_AS(search::top_per_family(h, {1.0}, 3, 1), doctest::Contains("1 aggregates for 7"), Error);
}
