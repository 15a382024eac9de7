// `piconas score`: the training-free metrics and deployment costs of one architecture of a
// search space, on the same fixed scoring batch a search with that seed would use.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/scoring_setup.h"
#include "core/parallel.h"

namespace piconas::apps {

namespace {

struct ScoreCliOptions {
  DataOptions data;
  SpaceCliOptions space;
  std::string arch;
  std::string metrics = "naswot,logsynflow,skip";
  int trials = 1;
  uint64_t seed = 0;
  int threads = 2;
};

void run_score_command(const ScoreCliOptions& o) {
  set_num_threads(o.threads);
  const ScoringSetup setup = load_scoring_setup(o.data, o.seed);
  const auto space = nas::make_search_space(o.space.space, space_options(o.space, setup));
  const nas::Candidate candidate = space->parse(o.arch);
  const auto metrics = nas::parse_metric_weights(o.metrics);
  const std::vector<std::string> network = network_metrics(metrics);
  nas::MetricValues values;
  if (!network.empty())
    values = make_network_score_fn(*space, setup, network, o.trials, o.seed)(candidate);
  for (const auto& m : metrics)
    if (nas::is_architecture_metric(m.name))
      values[m.name] = nas::architecture_metric(*space, candidate, m.name);
  const nas::CostEstimate cost = space->cost(candidate);
  // One line of JSON on stdout (non-finite metric values, e.g. a singular NASWOT kernel,
  // become null); the scoring context goes to stderr.
  nlohmann::json line = {{"arch", candidate.text}, {"space", o.space.space}, {"seed", o.seed},
                         {"trials", o.trials}, {"data", setup.description}};
  for (const auto& m : metrics) line["metrics"][m.name] = values.at(m.name);
  line["cost"] = {{"params", cost.params}, {"macs", cost.macs}, {"peak_sram", cost.peak_sram},
                  {"flash", cost.flash}, {"int8_deployable", cost.int8_deployable}};
  std::fprintf(stderr, "scored on %s\n", setup.description.c_str());
  std::printf("%s\n", line.dump().c_str());
}

}  // namespace

void register_score(CLI::App& app) {
  auto o = std::make_shared<ScoreCliOptions>();
  CLI::App* cmd =
      app.add_subcommand("score", "training-free metrics and costs of one architecture");
  cmd->add_option("arch,--arch", o->arch, "genotype text of the space (blocks text, mbv2 key, nb201 cell)")
      ->required();
  add_space_options(cmd, o->space);
  add_data_options(cmd, o->data);
  cmd->add_option("--metrics", o->metrics, "metrics, comma-separated")
      ->check(metric_list_validator())
      ->capture_default_str();
  cmd->add_option("--trials", o->trials, "re-initialisations averaged per metric")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "seed of the scoring batch and initialisation")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "worker threads")->check(CLI::PositiveNumber);
  cmd->callback([o] { run_score_command(*o); });
}

}  // namespace piconas::apps
