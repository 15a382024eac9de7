// `piconas run --data fashion-mnist --budget-sram 64K --budget-flash 256K --out runs/NAME`:
// search, shortlist training, full training, int8 export, host and Cortex-M verification and
// the report, resumable stage by stage (nas/pipeline/pipeline.h). Every configuration key is a
// flag (--budget-sram for budget_sram); --config FILE.json supplies keys too, flags win, and
// <out>/config.json keeps the resolved configuration. Progress goes to stderr, the report
// paths and headline numbers to stdout. Under mpirun every rank runs this command; rank 0
// resolves the configuration and prints, the others follow it (nas/pipeline/pipeline.h).
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <unistd.h>

#include "apps/commands.h"
#include "apps/distributed_cli.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/pipeline/pipeline.h"

namespace piconas::apps {

namespace {

struct RunOptions {
  std::string out;
  std::string config_file;
  std::string stop_after;
  std::map<std::string, std::string> values;   // key -> flag text
  std::map<std::string, CLI::Option*> options;  // key -> its option
};

// The root's resolved configuration on every rank (the others may not see <out>/config.json).
nas::pipeline::PipelineConfig config_from_root(const Communicator& comm,
                                               const nas::pipeline::PipelineConfig& config) {
  std::string text = comm.is_root() ? nas::pipeline::config_to_json(config).dump() : "";
  comm.broadcast(text);
  nas::pipeline::PipelineConfig shared;
  nas::pipeline::apply_json(shared, nlohmann::json::parse(text), "the configuration of rank 0");
  shared.out = config.out;
  return shared;
}

void run_run(RunOptions& o, const Communicator& comm) {
  nlohmann::json file;
  if (!o.config_file.empty()) {
    try {
      file = nlohmann::json::parse(read_file(o.config_file, int64_t{1} << 20));  // a config is a few KB
    } catch (const nlohmann::json::exception& e) {
      throw piconas::Error("--config '" + o.config_file + "' is not valid JSON: " + e.what());
    }
  }
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& [key, option] : o.options)
    if (option->count() > 0) flags.emplace_back(key, o.values[key]);
  nas::pipeline::PipelineConfig config;
  if (comm.is_root()) config = nas::pipeline::resolve_run_config(o.out, file, flags);
  config.out = o.out;
  if (comm.size() > 1) config = config_from_root(comm, config);
  nas::pipeline::RunControl control;
  control.communicator = &comm;
  if (!o.stop_after.empty()) control.stop_after = nas::pipeline::parse_stage(o.stop_after);
  const bool tty = isatty(fileno(stderr));
  bool pending = false;
  auto last = std::chrono::steady_clock::now();
  control.on_progress = [&](nas::pipeline::Stage, const std::string& line, bool transient) {
    if (!comm.is_root()) return;
    const auto now = std::chrono::steady_clock::now();
    if (!tty) {  // a log file: transient lines (with their ETA) every 30 s, as plain lines
      if (transient && now - last < std::chrono::seconds(30)) return;
      last = now;
      std::fprintf(stderr, "%s\n", line.c_str());
    } else {
      std::fprintf(stderr, "%s%s%s", pending ? "\r\033[K" : "", line.c_str(), transient ? "" : "\n");
      pending = transient;
    }
    std::fflush(stderr);
  };
  const nas::pipeline::PipelineResult r = nas::pipeline::run_pipeline(config, control);
  if (!comm.is_root()) return;
  if (pending) std::fprintf(stderr, "\n");
  if (!r.finished) {
    std::printf("stopped after stage %s; rerun the command to continue\n",
                nas::pipeline::stage_name(r.stages.back().stage));
    return;
  }
  std::printf("report: %s\nreport: %s\n", r.report_md.c_str(), r.report_html.c_str());
}

}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "search, train, export and verify a model under MCU budgets, with a report (resumable)");
  cmd->add_option("--out", o->out, "run directory (rerun the command to continue a stopped run)")->required();
  cmd->add_option("--config", o->config_file, "JSON configuration (keys as in <out>/config.json; flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--stop-after", o->stop_after, "stop after this stage: search | shortlist | train | export | verify");
  const nas::pipeline::PipelineConfig defaults;
  const nlohmann::json default_json = nas::pipeline::config_to_json(defaults);
  for (const auto& [key, help] : nas::pipeline::config_keys()) {
    std::string flag = "--" + key;
    for (char& ch : flag)
      if (ch == '_') ch = '-';
    const nlohmann::json& v = default_json.at(key);
    const bool bytes = help.find("K/M/G") != std::string::npos;
    const std::string shown = v.is_string() ? v.get<std::string>() : bytes ? byte_size_str(v.get<int64_t>()) : v.dump();
    o->options[key] = cmd->add_option(flag, o->values[key], help + " [default " + shown + "]");
  }
  cmd->callback([o] {
    const Communicator comm = Communicator::join();
    run_on_ranks(comm, [&] { run_run(*o, comm); });
  });
}

}  // namespace piconas::apps
