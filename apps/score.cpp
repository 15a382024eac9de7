// `piconas score`: the training-free metrics and deployment costs of architectures of a search
// space, on the same fixed scoring batch a search with that seed would use. One architecture
// on the command line, or a list (--arch-file FILE, or - for stdin: one genotype text per line,
// blank lines and lines starting with # skipped) scored in one process: the data is loaded once
// and the architectures are scored in parallel, one per thread, each with single-threaded
// kernels, so every line is byte-identical to a single `piconas score` call and independent of
// --threads. Every line of the list is parsed before any is scored (a bad one is an error
// naming its line). Output: one JSON line per architecture, in input order.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/scoring_setup.h"
#include "core/parallel.h"
#include "nas/arch/graph_text.h"

namespace piconas::apps {

namespace {

struct ScoreCliOptions {
  DataOptions data;
  SpaceCliOptions space;
  std::string arch;
  std::string arch_file;
  std::string metrics = "naswot,logsynflow,skip";
  int trials = 1;
  uint64_t seed = 0;
  int threads = 2;
};

// Genotype texts of a list, with their 1-based line numbers.
std::vector<std::pair<int64_t, std::string>> read_arch_list(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    PICONAS_CHECK(file, "--arch-file: cannot open '" << path << "'");
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::pair<int64_t, std::string>> texts;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    const size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const size_t end = line.find_last_not_of(" \t\r");
    texts.emplace_back(number, line.substr(begin, end - begin + 1));
  }
  PICONAS_CHECK(!in.bad(), "--arch-file: cannot read '" << path << "'");
  PICONAS_CHECK(!texts.empty(), "--arch-file: '" << path << "' holds no architecture");
  return texts;
}

std::string score_line(const nas::search::SearchSpace& space,
                       const nas::search::Candidate& candidate,
                       const nas::search::ScoreFn& network_score, bool needs_network,
                       const std::vector<nas::search::MetricWeight>& metrics,
                       const ScoreCliOptions& o, const ScoringSetup& setup) {
  nas::search::MetricValues values;
  if (needs_network) values = network_score(candidate);
  const nas::search::CostEstimate cost = space.cost(candidate);
  for (const auto& m : metrics)
    if (nas::search::is_architecture_metric(m.name))
      values[m.name] = nas::search::architecture_metric(space, candidate, cost, m.name);
  // Non-finite metric values (e.g. a singular NASWOT kernel) become null.
  nlohmann::json line = {{"arch", candidate.text},
                         {"space", o.space.space},
                         {"seed", o.seed},
                         {"trials", o.trials},
                         {"data", setup.description}};
  for (const auto& m : metrics) line["metrics"][m.name] = values.at(m.name);
  line["cost"] = {{"params", cost.params},
                  {"macs", cost.macs},
                  {"peak_sram", cost.peak_sram},
                  {"flash", cost.flash},
                  {"int8_deployable", cost.int8_deployable}};
  return line.dump();
}

void run_score_command(const ScoreCliOptions& o) {
  PICONAS_CHECK(o.arch.empty() != o.arch_file.empty(),
                "score: give one architecture (--arch) or a list (--arch-file), not both");
  set_num_threads(o.threads);
  const ScoringSetup setup = load_scoring_setup(o.data, o.seed);
  const auto space = nas::search::make_search_space(o.space.space, space_options(o.space, setup));
  std::vector<nas::search::Candidate> candidates;
  if (!o.arch.empty()) {
    candidates.push_back(space->parse(o.arch));
  } else {
    for (const auto& [number, text] : read_arch_list(o.arch_file)) {
      try {
        candidates.push_back(space->parse(text));
      } catch (const Error& e) {
        throw Error((o.arch_file == "-" ? std::string("stdin") : o.arch_file) + " line " +
                    std::to_string(number) + ": " + e.what());
      }
    }
  }
  const auto metrics = nas::search::parse_metric_weights(o.metrics);
  const std::vector<std::string> network = nas::pipeline::network_metrics(metrics);
  const nas::search::ScoreFn score =
      network.empty() ? nas::search::ScoreFn{}
                      : make_network_score_fn(*space, setup, network, o.trials, o.seed);
  std::fprintf(stderr, "scoring %zu architecture(s) on %s\n", candidates.size(),
               setup.description.c_str());
  // Blocks of one architecture per thread; each block is printed (and flushed) when done.
  const size_t block = static_cast<size_t>(o.threads);
  for (size_t first = 0; first < candidates.size(); first += block) {
    const size_t count = std::min(block, candidates.size() - first);
    std::vector<std::string> lines(count);
    std::vector<std::exception_ptr> errors(count);
    parallel_for(0, static_cast<int64_t>(count), [&](int64_t k) {
      try {
        lines[k] =
            score_line(*space, candidates[first + k], score, !network.empty(), metrics, o, setup);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
    for (const auto& error : errors)
      if (error) std::rethrow_exception(error);
    for (const std::string& line : lines) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
}

}  // namespace

void register_score(CLI::App& app) {
  auto o = std::make_shared<ScoreCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "score", "training-free metrics and costs of one architecture or of a list of them");
  auto* arch = cmd->add_option("arch,--arch", o->arch,
                               "genotype text of the space (blocks text, mbv2 key, nb201 cell), "
                               "or a graph network (JSON or its file: an imported model)");
  cmd->add_option("--arch-file", o->arch_file,
                  "score every architecture of this file (- for stdin), one per line")
      ->excludes(arch);
  add_space_options(cmd, o->space);
  add_data_options(cmd, o->data);
  cmd->add_option("--metrics", o->metrics, "metrics, comma-separated")
      ->check(metric_list_validator())
      ->capture_default_str();
  cmd->add_option("--trials", o->trials, "re-initialisations averaged per metric")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "seed of the scoring batch and initialisation")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "worker threads (architectures scored at once)")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, cmd] {
    // A graph network (an imported model; its JSON or file) is scored in the graph space,
    // without the skip metric, which it does not have (nas/search/graph_space.h).
    if (!o->arch.empty()) o->arch = arch_argument(o->arch);
    if (nas::is_graph_text(o->arch) && cmd->count("--space") == 0) {
      o->space.space = "graph";
      if (cmd->count("--metrics") == 0) o->metrics = "naswot,logsynflow";
    }
    run_score_command(*o);
  });
}

}  // namespace piconas::apps
