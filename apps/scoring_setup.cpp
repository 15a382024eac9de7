#include "apps/scoring_setup.h"

#include <numeric>
#include <regex>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/normalize.h"
#include "data/split.h"

namespace piconas::apps {

void add_data_options(CLI::App* cmd, DataOptions& o) {
  cmd->add_option("--dataset", o.dataset, "fashion-mnist | mnist | cifar10 | folder")
      ->capture_default_str();
  cmd->add_option("--data-path", o.path, "dataset location (default: the dataset's standard path)");
  cmd->add_option("--channels", o.channels, "convert images to 1 or 3 channels (0: native)");
  cmd->add_option("--resolution", o.resolution, "resize images to this square side (0: native)");
  cmd->add_option("--images", o.images, "scoring batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_space_options(CLI::App* cmd, SpaceCliOptions& o) {
  cmd->add_option("--space", o.space, "search space: blocks | mbv2 | nb201")->capture_default_str();
  cmd->add_option("--activation", o.activation,
                  "blocks/mbv2 activation: relu | relu6 | gelu | hswish")
      ->capture_default_str();
  cmd->add_option("--stem", o.stem, "blocks/mbv2 stem, <channels>k<kernel>s<stride>")
      ->capture_default_str();
  cmd->add_option("--head", o.head, "blocks/mbv2 1x1 head conv channels (0: none)")
      ->capture_default_str();
  cmd->add_option("--min-blocks", o.min_blocks, "blocks space: fewest blocks")
      ->capture_default_str();
  cmd->add_option("--max-blocks", o.max_blocks, "blocks space: most blocks")->capture_default_str();
}

ScoringSetup load_scoring_setup(const DataOptions& o, uint64_t seed) {
  data::DatasetSpec spec;
  spec.kind = data::parse_dataset_kind(o.dataset);
  spec.path = o.path;
  spec.split = data::Split::Train;
  spec.channels = o.channels;
  spec.resolution = o.resolution;
  const data::Dataset dataset = data::load_dataset(spec);
  PICONAS_CHECK(dataset.count >= o.images, "dataset " << o.dataset << " has " << dataset.count
                                                      << " training images, fewer than --images "
                                                      << o.images);
  std::vector<int64_t> all(static_cast<size_t>(dataset.count));
  std::iota(all.begin(), all.end(), int64_t{0});
  std::vector<int64_t> chosen = data::seeded_permutation(all, seed);
  chosen.resize(static_cast<size_t>(o.images));
  data::LoaderOptions loader_options;
  loader_options.batch_size = o.images;
  loader_options.shuffle = false;
  loader_options.prefetch = 0;
  data::Loader loader(dataset, chosen, loader_options, data::compute_normalization(dataset));
  data::Batch batch = loader.make_batch(0, 0);
  ScoringSetup setup;
  setup.images = batch.images;
  setup.labels = batch.labels;
  setup.input = {dataset.channels, dataset.height, dataset.width};
  setup.num_classes = dataset.num_classes;
  setup.description = std::string(data::dataset_kind_name(spec.kind)) + " train, " +
                      std::to_string(o.images) + " images " + nas::shape3_str(setup.input) + ", " +
                      std::to_string(setup.num_classes) + " classes";
  return setup;
}

nas::SpaceOptions space_options(const SpaceCliOptions& cli, const ScoringSetup& setup) {
  nas::SpaceOptions o;
  o.input = setup.input;
  o.num_classes = setup.num_classes;
  o.head_channels = cli.head;
  o.min_blocks = cli.min_blocks;
  o.max_blocks = cli.max_blocks;
  bool known = false;
  for (auto act : {nas::Activation::ReLU, nas::Activation::ReLU6, nas::Activation::GELU,
                   nas::Activation::Hardswish})
    if (cli.activation == nas::activation_name(act)) {
      o.activation = act;
      known = true;
    }
  PICONAS_CHECK(known,
                "unknown activation '" << cli.activation << "' (known: relu, relu6, gelu, hswish)");
  std::smatch m;
  PICONAS_CHECK(
      std::regex_match(cli.stem, m, std::regex("([1-9][0-9]{0,4})k([1-9][0-9]?)s([1-9])")),
      "bad --stem '" << cli.stem << "': expected <channels>k<kernel>s<stride>, e.g. 16k3s2");
  o.stem = {std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
  return o;
}

std::vector<std::string> network_metrics(const std::vector<nas::MetricWeight>& metrics) {
  std::vector<std::string> names;
  for (const auto& m : metrics)
    if (!nas::is_architecture_metric(m.name)) names.push_back(m.name);
  return names;
}

}  // namespace piconas::apps
