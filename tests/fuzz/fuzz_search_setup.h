// The searches behind the search_state.json seeds and fuzz target (fuzz_search_state.cpp,
// make_seeds.cpp): every space with three small settings (random + freerea aggregation, rea +
// zscore, freerea + freerea), and a synthetic, deterministic metric function, so that a
// resumed search runs in microseconds without building networks.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nas/search/search.h"
#include "nas/search/search_space.h"

namespace piconas::nas::fuzz {

inline std::vector<std::unique_ptr<search::SearchSpace>> fuzz_spaces() {
  std::vector<std::unique_ptr<search::SearchSpace>> spaces;
  for (const char* name : {"blocks", "mbv2", "nb201"})
    spaces.push_back(search::make_search_space(name, search::SpaceOptions{}));
  return spaces;
}

inline std::vector<search::SearchSettings> fuzz_settings() {
  std::vector<search::SearchSettings> all;
  const search::StrategyKind strategies[] = {search::StrategyKind::Random, search::StrategyKind::Rea,
                                     search::StrategyKind::FreeRea};
  const search::AggregatorKind aggregators[] = {search::AggregatorKind::FreeRea, search::AggregatorKind::ZScore,
                                        search::AggregatorKind::FreeRea};
  for (int i = 0; i < 3; ++i) {
    search::SearchSettings s;
    s.strategy = strategies[i];
    s.aggregator = aggregators[i];
    s.population = 4;
    s.sample_size = 2;
    s.batch = 2;
    s.steps = 3;
    s.seed = 7;
    s.metrics = {{"naswot", 1.0}, {"logsynflow", 0.5}};
    s.max_infeasible = 50;
    s.checkpoint_every = 0;
    all.push_back(s);
  }
  return all;
}

inline search::MetricValues fuzz_metrics(const search::Candidate& c) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : c.text) h = (h ^ ch) * 1099511628211ULL;
  return {{"naswot", static_cast<double>(h % 1000)}, {"logsynflow", static_cast<double>(h % 37)}};
}

}  // namespace piconas::nas::fuzz
