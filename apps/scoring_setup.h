// Shared set-up of `piconas search` and `piconas score`: the dataset and space options on the
// command line; the scoring batch and metric callback are nas/pipeline/scoring_batch.h.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nas/pipeline/scoring_batch.h"
#include "nas/search/search.h"

namespace piconas::apps {

struct DataOptions {
  std::string dataset = "fashion-mnist";
  std::string path;  // empty: the dataset's default location
  int channels = 0;  // 0: native
  int resolution = 0;  // 0: native
  int width = 0;       // > 0: resize to resolution x width ("--resolution 49x10")
  int images = 64;
};

struct SpaceCliOptions {
  std::string space = "blocks";
  std::string activation = "relu6";
  std::string stem = "16k3s2";  // <channels>k<kernel>s<stride>
  int head = 0;
  int min_blocks = 3, max_blocks = 8;
  bool ir_options = false;  // blocks space: draw MobileNetV3's ir options (SpaceOptions)
};

using ScoringSetup = nas::pipeline::ScoringBatch;

void add_data_options(CLI::App* cmd, DataOptions& options);
void add_space_options(CLI::App* cmd, SpaceCliOptions& options);

ScoringSetup load_scoring_setup(const DataOptions& options, uint64_t seed);
nas::search::SpaceOptions space_options(const SpaceCliOptions& cli, const ScoringSetup& setup);

using nas::pipeline::make_network_score_fn;
using nas::pipeline::network_metrics;

}  // namespace piconas::apps
