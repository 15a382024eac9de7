// The fixed scoring batch of a training-free search and the metric callback, shared by
// `piconas search`, `piconas score` and `piconas run`, so the three score candidates
// identically (the pipeline's search is reproduced by the `piconas search` command it lists).
//
// The batch: `images` training images chosen by a seeded permutation of the train split
// (seed = the search seed), normalised with the train split's statistics; every candidate of a
// search is scored on this same batch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "nas/search/search.h"

namespace piconas::nas::pipeline {

struct ScoringBatch {
  Tensor images;  // [N, C, H, W] float32, normalised
  std::vector<int32_t> labels;
  Shape3 input;
  int num_classes = 0;
  std::string description;  // "fashion-mnist train, 64 images 1x28x28, 10 classes"
  int64_t train_split_images = 0;  // the whole train split the batch was drawn from
};

// spec.split is ignored (the train split is used). Error when it has fewer than `images`.
ScoringBatch load_scoring_batch(data::DatasetSpec spec, int images, uint64_t seed);

// Metrics computed on a built network (every name that is not architecture-only).
std::vector<std::string> network_metrics(const std::vector<search::MetricWeight>& metrics);

// Builds each candidate with `space` and scores it with score_network on the batch (trials
// re-initialisations from `seed`). Thread-safe: each call builds its own net. `space` must
// outlive the function.
search::ScoreFn make_network_score_fn(const search::SearchSpace& space, const ScoringBatch& batch,
                                      const std::vector<std::string>& metrics, int trials,
                                      uint64_t seed);

// SpaceOptions for a search on this batch: input and classes from the batch, the rest given.
// activation: relu | relu6 | gelu | hswish; stem "<channels>k<kernel>s<stride>" (e.g. 16k3s2).
search::SpaceOptions make_space_options(const ScoringBatch& batch, const std::string& activation,
                                        const std::string& stem, int head, int min_blocks,
                                        int max_blocks);

}  // namespace piconas::nas::pipeline
