// Search with every real training-free metric (nas/metrics/score.h) on built networks: the
// history is byte-identical for 1 and 2 threads, also when rea scores a lone child per cycle.
#include <doctest/doctest.h>

#include "core/parallel.h"
#include "nas/metrics/score.h"
#include "nas/search/search_io.h"

using namespace piconas;
using namespace piconas::nas;

TEST_CASE("real metrics: identical history for 1 and 2 threads") {
  search::SpaceOptions o;
  o.input = {1, 28, 28};
  o.num_classes = 10;
  auto space = search::make_search_space("blocks", o);
  Rng rng(1);
  metrics::ScoringData data{Tensor({8, 1, 28, 28}), {0, 1, 2, 3, 4, 5, 6, 7}};
  fill_normal(data.images, rng, 0, 1);
  const search::ScoreFn score = [&](const search::Candidate& c) {
    auto net = space->build(c);
    return score_network(*net, data, metrics::network_metric_names(), 1, 3);
  };
  for (search::StrategyKind strategy :
       {search::StrategyKind::Random, search::StrategyKind::Rea, search::StrategyKind::FreeRea}) {
    search::SearchSettings s;
    s.metrics.clear();
    for (const std::string& m : metrics::network_metric_names()) s.metrics.push_back({m, 1.0});
    s.metrics.push_back({"skip", 1.0});
    s.strategy = strategy;
    s.population = 6;
    s.sample_size = 3;
    s.steps = 4;
    s.seed = 3;
    s.checkpoint_every = 0;
    std::string csv[2];
    const int previous = num_threads();
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      csv[threads - 1] = search::history_csv(search::run_search(*space, s, score), s);
    }
    set_num_threads(previous);
    CHECK(csv[0] == csv[1]);
    CHECK(csv[0].size() > 500);  // header + 7 or more scored rows
  }
}
