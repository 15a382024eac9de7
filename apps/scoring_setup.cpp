#include "apps/scoring_setup.h"

#include "data/dataset.h"

namespace piconas::apps {

void add_data_options(CLI::App* cmd, DataOptions& o) {
  cmd->add_option("--dataset", o.dataset, "fashion-mnist | mnist | cifar10 | folder")
      ->capture_default_str();
  cmd->add_option("--data-path", o.path, "dataset location (default: the dataset's standard path)");
  cmd->add_option("--channels", o.channels, "convert images to 1 or 3 channels (0: native)");
  cmd->add_option_function<std::string>(
      "--resolution",
      [&o](const std::string& v) {
        data::DatasetSpec spec;
        data::set_resolution(spec, v, "--resolution");
        o.resolution = spec.resolution;
        o.width = spec.width;
      },
      "resize images to N x N or H x W (\"49x10\"; 0: native)");
  cmd->add_option("--images", o.images, "scoring batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_space_options(CLI::App* cmd, SpaceCliOptions& o) {
  cmd->add_option("--space", o.space, "search space: blocks | mbv2 | nb201 | graph (score only)")->capture_default_str();
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
  spec.channels = o.channels;
  spec.resolution = o.resolution;
  spec.width = o.width;
  return nas::pipeline::load_scoring_batch(spec, o.images, seed);
}

nas::search::SpaceOptions space_options(const SpaceCliOptions& cli, const ScoringSetup& setup) {
  return nas::pipeline::make_space_options(setup, cli.activation, cli.stem, cli.head,
                                           cli.min_blocks, cli.max_blocks);
}

}  // namespace piconas::apps
