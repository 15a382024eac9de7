// `piconas search`: training-free architecture search (random, rea, freerea, rl) on a fixed batch
// of real training images, under hard cost constraints. Writes history.csv, best.json,
// search.json, pareto.svg and the resumable search_state.json into --output; progress with
// ETA goes to stderr, the chosen architecture to stdout. Under mpirun, rank 0 runs the strategy
// and writes every output; all ranks score candidates (nas/search/distributed_scoring.h).
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "apps/distributed_cli.h"
#include "apps/scoring_setup.h"
#include "core/parallel.h"
#include "nas/pipeline/pipeline_config.h"
#include "nas/search/distributed_scoring.h"
#include "nas/search/search_io.h"

namespace piconas::apps {

namespace {

struct SearchCliOptions {
  DataOptions data;
  SpaceCliOptions space;
  std::string strategy = "freerea";
  std::string metrics = "naswot,logsynflow,skip";
  std::string aggregator = "freerea";
  int trials = 1;
  int threads = 2;
  nas::search::SearchSettings settings;
  nas::deploy::PlanOptions memory;  // --no-in-place, --patch-*: the export's memory plan
};

void run_search_command(SearchCliOptions& o, const Communicator& comm) {
  set_num_threads(o.threads);
  nas::search::SearchSettings& s = o.settings;
  s.strategy = nas::search::parse_strategy(o.strategy);
  s.metrics = nas::search::parse_metric_weights(o.metrics);
  s.aggregator = nas::search::parse_aggregator(o.aggregator);
  s.constraints.scoring_images = o.data.images;
  // The one range check of the settings, before the data is loaded, naming the flags.
  nas::search::check_search_settings(
      s, flag_names({{"max_peak_sram", "--max-sram"},
                     {"max_scoring_memory", "--max-memory"},
                     {"scoring_images", "--images"},
                     {"latency_target", "--target"},
                     {"output_dir", "--output"},
                     {"initial_archs", "--initial-arch"}}));
  const ScoringSetup setup = load_scoring_setup(o.data, s.seed);
  nas::search::SpaceOptions space_opts = space_options(o.space, setup);
  space_opts.int8_block_kinds_only = nas::search::has_deployment_budget(s.constraints);
  space_opts.deploy_memory = o.memory;
  space_opts.deploy_max_sram = s.constraints.max_peak_sram;
  const auto space = nas::search::make_search_space(o.space.space, space_opts);
  const nas::search::ScoreFn score =
      make_network_score_fn(*space, setup, network_metrics(s.metrics), o.trials, s.seed);
  if (!comm.is_root()) {
    nas::search::serve_scoring(comm, *space, score);
    return;
  }
  std::fprintf(stderr, "piconas search: %s space, %s, %s; scoring on %s%s\n", space->name(),
               nas::search::strategy_name(s.strategy),
               nas::search::metric_weights_text(s.metrics).c_str(), setup.description.c_str(),
               comm.size() > 1 ? (" on " + std::to_string(comm.size()) + " ranks").c_str() : "");
  const nas::search::SearchResult result = nas::search::run_search(
      *space, s, nas::search::make_distributed_score_fn(comm, *space, score),
      [](const nas::search::SearchProgress& p) {
        std::fprintf(stderr, "\r%s   ", nas::search::format_progress(p).c_str());
        std::fflush(stderr);
      });
  nas::search::stop_scoring(comm);
  std::fprintf(stderr, "\n");
  nas::search::write_search_outputs(result, *space, s);
  PICONAS_CHECK(result.best >= 0, "search: no feasible candidate was scored");
  const nas::search::HistoryEntry& best = result.state.history[result.best];
  std::printf("%s\n", best.candidate.text.c_str());
  std::fprintf(stderr,
               "best: aggregate %.6g, %lld params, %lld MACs, peak SRAM %lld B, flash %lld B; "
               "outputs in %s\n",
               result.aggregates[result.best], static_cast<long long>(best.cost.params),
               static_cast<long long>(best.cost.macs), static_cast<long long>(best.cost.peak_sram),
               static_cast<long long>(best.cost.flash), s.output_dir.c_str());
}

}  // namespace

void register_search(CLI::App& app) {
  auto o = std::make_shared<SearchCliOptions>();
  o->settings.output_dir = "search_out";
  nas::search::SearchSettings& s = o->settings;
  CLI::App* cmd =
      app.add_subcommand("search", "training-free architecture search under MCU budgets");
  add_space_options(cmd, o->space);
  add_data_options(cmd, o->data);
  cmd->add_option("--strategy", o->strategy, "random | rea | freerea | rl")->capture_default_str();
  cmd->add_option("--metrics", o->metrics, "metrics[:weight], comma-separated")
      ->check(metric_list_validator())
      ->capture_default_str();
  cmd->add_option("--aggregator", o->aggregator, "freerea | zscore")->capture_default_str();
  cmd->add_option("--population", s.population, "population size")
      ->capture_default_str();
  cmd->add_option("--sample-size", s.sample_size, "tournament size")
      ->capture_default_str();
  cmd->add_option("--batch", s.batch,
                  "random and rl: candidates scored together (rl: per policy update)");
  cmd->add_option("--rl-learning-rate", s.rl_learning_rate, "rl: REINFORCE step on the logits")
      ->capture_default_str();
  cmd->add_option("--rl-baseline-decay", s.rl_baseline_decay,
                  "rl: decay of the moving-average reward baseline, in [0, 1)")
      ->capture_default_str();
  cmd->add_option("--steps", s.steps, "step budget (0: time budget only)")->capture_default_str();
  cmd->add_option("--time-budget", s.time_budget, "wall-time budget in seconds (0: none)");
  cmd->add_option("--seed", s.seed, "random seed (also picks the scoring batch)")
      ->capture_default_str();
  cmd->add_option("--trials", o->trials, "re-initialisations averaged per metric")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-params", s.constraints.max_params, "parameter limit (0: none)");
  cmd->add_option("--max-macs", s.constraints.max_macs, "MACs-per-image limit (0: none)");
  add_byte_option(cmd, "--max-sram", s.constraints.max_peak_sram,
                  "peak int8 activation bytes of the plan the export will use (with --patch-layers etc.)");
  add_memory_options(cmd, o->memory);
  add_byte_option(cmd, "--max-flash", s.constraints.max_flash, "deployed constant bytes");
  cmd->add_option("--max-latency-ms", s.constraints.max_latency_ms,
                  "predicted milliseconds per inference on --target at --mcu-mhz (0: none)");
  cmd->add_option("--mcu-mhz", s.constraints.mcu_mhz, "MCU clock in MHz for --max-latency-ms");
  cmd->add_option_function<std::string>(
      "--target",
      [o](const std::string& name) {
        o->settings.constraints.latency_target = nas::deploy::parse_mcu_target(name);
      },
      "Cortex-M target of --max-latency-ms: " + nas::deploy::mcu_target_names() + " (default cortex-m4)");
  add_byte_option(cmd, "--max-memory", s.constraints.max_scoring_memory,
                  "refuse candidates whose estimated scoring memory exceeds this many bytes");
  cmd->add_option("--max-infeasible", s.max_infeasible,
                  "consecutive infeasible candidates before giving up");
  cmd->add_option("--checkpoint-every", s.checkpoint_every, "steps between checkpoints")
      ->capture_default_str();
  cmd->add_option("--output", s.output_dir, "output directory")->capture_default_str();
  cmd->add_flag("--resume", s.resume, "continue from <output>/search_state.json");
  cmd->add_option("--top-k", s.top_k, "candidates in best.json");
  cmd->add_option("--initial-arch", s.initial_archs,
                  "rea/freerea: an architecture (text or reference name, e.g. resnet8) placed in "
                  "the initial population; repeatable");
  cmd->add_option("--threads", o->threads, "worker threads")->check(CLI::PositiveNumber);
  cmd->callback([o] {
    const Communicator comm = Communicator::join();
    run_on_ranks(comm, [&] { run_search_command(*o, comm); });
  });
}

}  // namespace piconas::apps
