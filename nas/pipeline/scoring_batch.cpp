#include "nas/pipeline/scoring_batch.h"

#include <numeric>

#include "data/loader.h"
#include "data/normalize.h"
#include "data/split.h"
#include "nas/arch/arch_text.h"
#include "nas/metrics/score.h"

namespace piconas::nas::pipeline {

ScoringBatch load_scoring_batch(data::DatasetSpec spec, int images, uint64_t seed) {
  spec.split = data::Split::Train;
  const data::Dataset dataset = data::load_dataset(spec);
  const char* name = data::dataset_kind_name(spec.kind);
  PICONAS_CHECK(images > 0 && dataset.count >= images,
                "dataset " << name << " has " << dataset.count << " training images; the scoring batch needs "
                           << images);
  std::vector<int64_t> all(static_cast<size_t>(dataset.count));
  std::iota(all.begin(), all.end(), int64_t{0});
  std::vector<int64_t> chosen = data::seeded_permutation(all, seed);
  chosen.resize(static_cast<size_t>(images));
  data::LoaderOptions loader_options;
  loader_options.batch_size = images;
  loader_options.shuffle = false;
  loader_options.prefetch = 0;
  data::Loader loader(dataset, chosen, loader_options, data::compute_normalization(dataset));
  data::Batch b = loader.make_batch(0, 0);
  ScoringBatch batch;
  batch.images = b.images;
  batch.labels = b.labels;
  batch.input = {dataset.channels, dataset.height, dataset.width};
  batch.num_classes = dataset.num_classes;
  batch.train_split_images = dataset.count;
  batch.description = std::string(name) + " train, " + std::to_string(images) + " images " +
                      shape3_str(batch.input) + ", " + std::to_string(batch.num_classes) + " classes";
  return batch;
}

std::vector<std::string> network_metrics(const std::vector<search::MetricWeight>& metrics) {
  std::vector<std::string> names;
  for (const auto& m : metrics)
    if (!search::is_architecture_metric(m.name)) names.push_back(m.name);
  return names;
}

search::ScoreFn make_network_score_fn(const search::SearchSpace& space, const ScoringBatch& batch,
                                      const std::vector<std::string>& metrics, int trials,
                                      uint64_t seed) {
  metrics::ScoringData data{batch.images, batch.labels};
  return [&space, data, metrics, trials, seed](const search::Candidate& candidate) {
    auto net = space.build(candidate);
    return score_network(*net, data, metrics, trials, seed);
  };
}

search::SpaceOptions make_space_options(const ScoringBatch& batch, const std::string& activation,
                                        const std::string& stem, int head, int min_blocks,
                                        int max_blocks) {
  search::SpaceOptions o;
  o.input = batch.input;
  o.num_classes = batch.num_classes;
  o.head_channels = head;
  o.min_blocks = min_blocks;
  o.max_blocks = max_blocks;
  o.activation = parse_activation(activation);
  o.stem = parse_stem(stem);
  // Clear messages here rather than a later "input too small" from the first candidate.
  constexpr int kMaxChannels = 4096;
  PICONAS_CHECK(o.stem.out_channels <= kMaxChannels,
                "bad stem '" << stem << "': at most " << kMaxChannels << " channels");
  PICONAS_CHECK(head >= 0 && head <= kMaxChannels, "head channels must be in [0, " << kMaxChannels << "], got " << head);
  PICONAS_CHECK(min_blocks >= 1 && min_blocks <= max_blocks && max_blocks <= 64,
                "blocks: need 1 <= min_blocks <= max_blocks <= 64, got " << min_blocks << ".." << max_blocks);
  return o;
}

}  // namespace piconas::nas::pipeline
