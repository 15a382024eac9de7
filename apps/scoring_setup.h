// Shared set-up of `piconas search` and `piconas score`: the dataset options, the fixed
// scoring batch, the search-space options derived from the data, and the metric callback.
//
// The scoring batch: `images` training images (default 64) chosen by a seeded permutation of
// the train split (seed = the search seed), normalised with the train split's statistics;
// every candidate of a search is scored on this same batch.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nas/search/search.h"

namespace piconas::apps {

struct DataOptions {
  std::string dataset = "fashion-mnist";
  std::string path;  // empty: the dataset's default location
  int channels = 0;  // 0: native
  int resolution = 0;
  int images = 64;
};

struct SpaceCliOptions {
  std::string space = "blocks";
  std::string activation = "relu6";
  std::string stem = "16k3s2";  // <channels>k<kernel>s<stride>
  int head = 0;
  int min_blocks = 3, max_blocks = 8;
};

struct ScoringSetup {
  Tensor images;  // [N, C, H, W] float32, normalised
  std::vector<int32_t> labels;
  nas::Shape3 input;
  int num_classes = 0;
  std::string description;  // "fashion-mnist train, 64 images 1x28x28, 10 classes"
};

void add_data_options(CLI::App* cmd, DataOptions& options);
void add_space_options(CLI::App* cmd, SpaceCliOptions& options);

ScoringSetup load_scoring_setup(const DataOptions& options, uint64_t seed);
nas::SpaceOptions space_options(const SpaceCliOptions& cli, const ScoringSetup& setup);

// Metrics computed on a built network (every name that is not architecture-only).
std::vector<std::string> network_metrics(const std::vector<nas::MetricWeight>& metrics);

// Builds each candidate with `space` and scores it with nas::score_network on the setup's
// batch (trials re-initialisations from `seed`). Thread-safe: each call builds its own net.
nas::ScoreFn make_network_score_fn(const nas::SearchSpace& space, const ScoringSetup& setup,
                                   const std::vector<std::string>& metrics, int trials,
                                   uint64_t seed);

}  // namespace piconas::apps
