// make_network_score_fn: the one place the apps call nas/metrics/score.h.
#include "apps/scoring_setup.h"
#include "nas/metrics/score.h"

namespace piconas::apps {

nas::ScoreFn make_network_score_fn(const nas::SearchSpace& space, const ScoringSetup& setup,
                                   const std::vector<std::string>& metrics, int trials,
                                   uint64_t seed) {
  nas::ScoringData data{setup.images, setup.labels};
  return [&space, data, metrics, trials, seed](const nas::Candidate& candidate) {
    auto net = space.build(candidate);
    return nas::score_network(*net, data, metrics, trials, seed);
  };
}

}  // namespace piconas::apps
