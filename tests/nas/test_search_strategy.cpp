// Search strategies: invariants of docs/metrics.md section 5, determinism across thread counts,
// resume equivalence, constraints and the impossible-constraint error, budgets.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "core/atomic_file.h"
#include "core/parallel.h"
#include "nas/search/search_io.h"
#include "search_test_util.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::test;

namespace {

std::unique_ptr<search::SearchSpace> nb201_space() {
  search::SpaceOptions o;
  o.input = {3, 32, 32};
  return search::make_search_space("nb201", o);
}

search::SearchSettings small_settings(search::StrategyKind strategy, int64_t steps) {
  search::SearchSettings s;
  s.strategy = strategy;
  s.population = 12;
  s.sample_size = 5;
  s.batch = 4;
  s.steps = steps;
  s.seed = 42;
  s.checkpoint_every = 0;
  return s;
}

int64_t feasible_count(const search::SearchState& state) {
  int64_t n = 0;
  for (const auto& e : state.history) n += e.feasible ? 1 : 0;
  return n;
}

struct ThreadCount {
  explicit ThreadCount(int n) : previous(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(previous); }
  int previous;
};

}  // namespace

TEST_CASE("rea invariants: |population| = P, |history| = P + cycles, the oldest leaves") {
  auto space = nb201_space();
  for (int64_t cycles : {1, 3, 20}) {
    CAPTURE(cycles);
    const search::SearchResult r =
        run_search(*space, small_settings(search::StrategyKind::Rea, cycles), synthetic_metrics);
    CHECK(r.state.population.size() == 12);
    CHECK(feasible_count(r.state) == 12 + cycles);
    CHECK(r.state.step == cycles);
    // Aging: the population is exactly the last P candidates, oldest first.
    for (size_t k = 0; k < 12; ++k) {
      CHECK(r.state.population[k].entry == static_cast<int64_t>(r.state.history.size() - 12 + k));
      CHECK(r.state.population[k].generation ==
            r.state.history[r.state.population[k].entry].generation);
    }
    // Every child is a one-gene mutant of some earlier candidate.
    const auto& h = r.state.history;
    for (size_t i = 12; i < h.size(); ++i) {
      bool found = false;
      for (size_t j = 0; j < i && !found; ++j) {
        int diff = 0;
        for (size_t g = 0; g < 6; ++g) diff += h[i].candidate.genes[g] != h[j].candidate.genes[g];
        found = diff == 1;
      }
      CHECK(found);
    }
  }
}

TEST_CASE("freerea invariants: |population| = N, distinct members, pick = best over history") {
  auto space = nb201_space();
  for (int64_t cycles : {1, 5, 30}) {
    CAPTURE(cycles);
    const search::SearchResult r = run_search(
        *space, small_settings(search::StrategyKind::FreeRea, cycles), synthetic_metrics);
    CHECK(r.state.population.size() == 12);
    std::set<std::string> texts;
    for (const search::Member& m : r.state.population) {
      texts.insert(r.state.history[m.entry].candidate.text);
      CHECK(m.generation <= cycles);
      CHECK(r.state.history[m.entry].feasible);
    }
    CHECK(texts.size() == 12);
    // History has no duplicate genotype; at most 3 children per cycle.
    std::set<std::string> all;
    for (const auto& e : r.state.history) all.insert(e.candidate.text);
    CHECK(all.size() == r.state.history.size());
    CHECK(feasible_count(r.state) <= 12 + 3 * cycles);
    // Final pick: the best aggregate over the whole feasible history.
    std::vector<search::MetricValues> values;
    std::vector<size_t> index;
    for (size_t i = 0; i < r.state.history.size(); ++i) {
      values.push_back(r.state.history[i].metrics);
      index.push_back(i);
    }
    const auto agg = search::freerea_aggregate(values, search::SearchSettings{}.metrics);
    const size_t best = std::max_element(agg.begin(), agg.end()) - agg.begin();
    CHECK(r.best == static_cast<int64_t>(index[best]));
    CHECK(r.aggregates[r.best] == doctest::Approx(agg[best]));
    CHECK(r.top.size() == 10);
  }
}

TEST_CASE("random search: steps count candidates, best by aggregate") {
  auto space = nb201_space();
  const search::SearchResult r =
      run_search(*space, small_settings(search::StrategyKind::Random, 25), synthetic_metrics);
  CHECK(feasible_count(r.state) == 25);
  CHECK(r.state.history.back().generation == 25);
  for (double a : r.aggregates) CHECK(a <= r.aggregates[r.best]);
}

TEST_CASE("same seed and settings: byte-identical history for 1 and 2 threads") {
  search::SpaceOptions blocks_options;
  auto blocks = search::make_search_space("blocks", blocks_options);
  auto nb201 = nb201_space();
  for (search::StrategyKind strategy : {search::StrategyKind::Random, search::StrategyKind::Rea,
                                        search::StrategyKind::FreeRea, search::StrategyKind::Rl}) {
    for (const search::SearchSpace* space : {nb201.get(), blocks.get()}) {
      const std::string strategy_text = search::strategy_name(strategy);
      CAPTURE(strategy_text);
      const std::string space_text = space->name();
      CAPTURE(space_text);
      search::SearchSettings s = small_settings(strategy, 15);
      s.constraints.max_macs = space == blocks.get() ? 3000000 : 0;
      std::string csv[2], best[2];
      for (int threads : {1, 2}) {
        ThreadCount scope(threads);
        const search::SearchResult r = run_search(*space, s, synthetic_metrics);
        csv[threads - 1] = search::history_csv(r, s);
        best[threads - 1] = search::best_json(r, s);
      }
      CHECK(csv[0] == csv[1]);
      CHECK(best[0] == best[1]);
      s.seed = 43;
      CHECK(search::history_csv(search::run_search(*space, s, synthetic_metrics), s) != csv[0]);
    }
  }
}

TEST_CASE("resume after a crash or a stop ends byte-identical to an uninterrupted run") {
  auto space = nb201_space();
  for (search::StrategyKind strategy : {search::StrategyKind::Random, search::StrategyKind::Rea,
                                        search::StrategyKind::FreeRea, search::StrategyKind::Rl}) {
    const std::string strategy_text = search::strategy_name(strategy);
    CAPTURE(strategy_text);
    search::SearchSettings s = small_settings(strategy, 20);
    s.aggregator = strategy == search::StrategyKind::Rea ? search::AggregatorKind::ZScore
                                                         : search::AggregatorKind::FreeRea;
    s.constraints.max_params = 600000;
    s.checkpoint_every = 3;
    SearchTempDir whole_dir, crash_dir, stop_dir;
    s.output_dir = whole_dir.str();
    const search::SearchResult whole = run_search(*space, s, synthetic_metrics);
    const std::string expected = search::history_csv(whole, s);

    // Crash: the score function throws after a few checkpoints (12 calls for the population).
    const int crash_call =
        strategy == search::StrategyKind::Random || strategy == search::StrategyKind::Rl ? 16
        : strategy == search::StrategyKind::Rea                                          ? 20
                                                                                         : 28;
    s.output_dir = crash_dir.str();
    std::atomic<int> calls{0};
    auto crashing = [&](const search::Candidate& c) {
      if (++calls == crash_call) throw Error("simulated crash");
      return synthetic_metrics(c);
    };
    CHECK_THROWS_WITH_AS(search::run_search(*space, s, crashing), "simulated crash", Error);
    const auto saved = nlohmann::json::parse(read_file(search::search_state_path(s.output_dir)));
    CHECK(saved.at("state").at("step").get<int64_t>() > 0);  // resumes mid-search
    s.resume = true;
    const search::SearchResult resumed = run_search(*space, s, synthetic_metrics);
    CHECK(history_csv(resumed, s) == expected);
    CHECK(search::best_json(resumed, s) == best_json(whole, s));

    // Stop after 7 steps, then resume to 20.
    s.output_dir = stop_dir.str();
    s.resume = false;
    s.steps = 7;
    const search::SearchResult first = run_search(*space, s, synthetic_metrics);
    CHECK(first.state.step == 7);
    const double checkpointed_seconds =
        nlohmann::json::parse(read_file(search::search_state_path(s.output_dir)))
            .at("state")
            .at("elapsed_seconds")
            .get<double>();
    s.resume = true;
    s.steps = 20;
    const search::SearchResult second = run_search(*space, s, synthetic_metrics);
    CHECK(history_csv(second, s) == expected);
    // Time carries over from the checkpoint (taken just before the first run returned).
    CHECK(second.state.elapsed_seconds >= checkpointed_seconds);

    // A checkpoint refuses settings that change the draws.
    s.seed = 7;
    CHECK_THROWS_AS(search::run_search(*space, s, synthetic_metrics), Error);
  }
  search::SearchSettings s = small_settings(search::StrategyKind::Rea, 5);
  SearchTempDir empty;
  s.output_dir = empty.str();
  s.resume = true;
  CHECK_THROWS_AS(search::run_search(*space, s, synthetic_metrics), Error);
}

TEST_CASE("constraints reject candidates; impossible constraints give a clear error") {
  auto space = nb201_space();
  for (search::StrategyKind strategy : {search::StrategyKind::Random, search::StrategyKind::Rea,
                                        search::StrategyKind::FreeRea, search::StrategyKind::Rl}) {
    const std::string strategy_text = search::strategy_name(strategy);
    CAPTURE(strategy_text);
    search::SearchSettings s = small_settings(strategy, 10);
    s.constraints.max_params = 300000;
    s.constraints.max_macs = 60000000;
    const search::SearchResult r = run_search(*space, s, synthetic_metrics);
    int64_t infeasible = 0;
    for (const auto& e : r.state.history) {
      if (e.feasible) {
        CHECK(e.cost.params <= 300000);
        CHECK(e.cost.macs <= 60000000);
      } else {
        ++infeasible;
        CHECK((e.cost.params > 300000 || e.cost.macs > 60000000));
        CHECK(e.metrics.empty());
      }
    }
    CHECK(infeasible > 0);
    for (const search::Member& m : r.state.population) CHECK(r.state.history[m.entry].feasible);

    s.constraints = {};
    s.constraints.max_flash = 10;
    s.max_infeasible = 50;
    CHECK_THROWS_WITH_AS(search::run_search(*space, s, synthetic_metrics),
                         doctest::Contains("50 consecutive candidates violate the constraints"),
                         Error);
  }
}

TEST_CASE("budgets and settings checks") {
  auto space = nb201_space();
  search::SearchSettings s = small_settings(search::StrategyKind::FreeRea, 0);
  s.time_budget = 0.05;
  const search::SearchResult r = run_search(*space, s, synthetic_metrics);
  CHECK(r.state.step > 0);
  CHECK(r.state.elapsed_seconds >= 0.05);
  s.time_budget = 0;
  CHECK_THROWS_AS(search::run_search(*space, s, synthetic_metrics), Error);
  s = small_settings(search::StrategyKind::Rea, 3);
  s.metrics = {{"naswot", 1}, {"snip", 1}};
  CHECK_THROWS_WITH_AS(search::run_search(*space, s, synthetic_metrics),
                       doctest::Contains("'snip'"), Error);
  // Architecture-only metrics need no score function call.
  s.metrics = {{"skip", 1}, {"params", -1}};
  int called = 0;
  const search::SearchResult arch_only = run_search(*space, s, [&](const search::Candidate&) {
    ++called;
    return search::MetricValues{};
  });
  CHECK(called == 0);
  CHECK(arch_only.state.history[0].metrics.at("params") == arch_only.state.history[0].cost.params);
}

TEST_CASE("progress callback reports steps and a formatted line") {
  auto space = nb201_space();
  std::vector<search::SearchProgress> seen;
  run_search(*space, small_settings(search::StrategyKind::Rea, 4), synthetic_metrics,
             [&](const search::SearchProgress& p) { seen.push_back(p); });
  REQUIRE(seen.size() == 5);  // after the initial population, then every step
  CHECK(seen.back().step == 4);
  CHECK(seen.back().evaluated == 16);
  const std::string line = search::format_progress({3, 10, 20, 1, 75.0, 3725.0});
  CHECK(line == "step 3/10  evaluated 20  infeasible 1  elapsed 1m15s  ETA 1h02m");
}
