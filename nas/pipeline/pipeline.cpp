#include "nas/pipeline/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/distributed.h"
#include "core/error.h"
#include "nas/pipeline/report.h"
#include "nas/pipeline/stages.h"

namespace piconas::nas::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr Stage kStages[kStageCount] = {Stage::Search, Stage::Shortlist, Stage::Train,
                                         Stage::Export, Stage::Verify,    Stage::Report};

std::string config_path(const std::string& out) { return (fs::path(out) / "config.json").string(); }

nlohmann::json read_json(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::Search: return "search";
    case Stage::Shortlist: return "shortlist";
    case Stage::Train: return "train";
    case Stage::Export: return "export";
    case Stage::Verify: return "verify";
    case Stage::Report: return "report";
  }
  throw Error("stage_name: invalid Stage");
}

Stage parse_stage(const std::string& name) {
  for (Stage s : kStages)
    if (name == stage_name(s)) return s;
  throw Error("unknown stage '" + name + "' (known: search, shortlist, train, export, verify, report)");
}

std::string stage_result_path(const std::string& out, Stage stage) {
  return (fs::path(out) / "stages" / (std::string(stage_name(stage)) + ".json")).string();
}

std::string shell_word(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string("_./=:,+-").find(c) != std::string::npos))
      plain = false;
  if (plain) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out.append("'\\''");
    else out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

PipelineConfig resolve_run_config(const std::string& out, const nlohmann::json& file,
                                  const std::vector<std::pair<std::string, std::string>>& flags) {
  PICONAS_CHECK(!out.empty(), "run: no output directory (--out)");
  PipelineConfig config;
  const std::string stored_path = config_path(out);
  const bool stored = fs::exists(stored_path);
  if (stored) apply_json(config, read_json(stored_path), stored_path);
  const PipelineConfig stored_config = config;
  if (!file.is_null()) apply_json(config, file, "config file");
  for (const auto& [key, text] : flags) apply_text(config, key, text);
  config.out = out;
  check_pipeline_config(config);
  if (stored) {
    const auto differences = config_differences(stored_config, config);
    std::string list;
    for (const auto& d : differences) {
      if (!list.empty()) list.append(", ");
      list.append(d);
    }
    PICONAS_CHECK(differences.empty(), "'" << out << "' holds a run with another configuration (" << list
                                           << "); rerun with the stored one (" << stored_path
                                           << ") or choose another --out");
  }
  return config;
}

std::string StageContext::path(const std::string& relative) const {
  return (fs::path(config.out) / relative).string();
}

PipelineResult run_pipeline(const PipelineConfig& config, const RunControl& control) {
  check_pipeline_config(config);
  PICONAS_CHECK(!config.out.empty(), "run: no output directory");
  const Communicator single;
  const Communicator& comm = control.communicator ? *control.communicator : single;
  make_directories((fs::path(config.out) / "stages").string());
  const std::string stored_path = config_path(config.out);
  if (comm.is_root() && !fs::exists(stored_path))
    write_file_atomic(stored_path, config_to_json(config).dump(2) + "\n");

  StageContext ctx{config, comm, {}, {}};
  PipelineResult result;
  for (int i = 0; i < kStageCount; ++i) {
    const Stage stage = kStages[i];
    const bool every_rank = stage == Stage::Search || stage == Stage::Shortlist || stage == Stage::Train;
    if (!comm.is_root() && !every_rank) break;
    char label[64];
    std::snprintf(label, sizeof label, "[%d/%d %s] ", i + 1, kStageCount, stage_name(stage));
    ctx.progress = [&](const std::string& line, bool transient) {
      if (control.on_progress) control.on_progress(stage, std::string(label) + line, transient);
    };
    const std::string marker = stage_result_path(config.out, stage);
    StageOutcome outcome{stage};
    const auto start = std::chrono::steady_clock::now();
    // The root's result files decide what is done; the other ranks get the results from it.
    std::string done = comm.is_root() && fs::exists(marker) ? read_json(marker).dump() : "";
    if (every_rank) comm.broadcast(done);
    if (!done.empty()) {
      ctx.results[stage] = nlohmann::json::parse(done);
      outcome.already_done = true;
      ctx.progress("done in an earlier run (" + marker + ")", false);
    } else {
      ctx.progress("starting", false);
      nlohmann::json r;
      switch (stage) {
        case Stage::Search: r = run_search_stage(ctx); break;
        case Stage::Shortlist: r = run_shortlist_stage(ctx); break;
        case Stage::Train: r = run_train_stage(ctx); break;
        case Stage::Export: r = run_export_stage(ctx); break;
        case Stage::Verify: r = run_verify_stage(ctx); break;
        case Stage::Report: r = write_run_report(config, ctx.results); break;
      }
      outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string text;
      if (comm.is_root()) {
        r["wall_seconds"] = outcome.seconds;
        write_file_atomic(marker, r.dump(2) + "\n");
        text = r.dump();
      }
      if (every_rank) comm.broadcast(text);
      ctx.results[stage] = nlohmann::json::parse(text);
      ctx.progress("done in " + duration_str(outcome.seconds), false);
    }
    result.stages.push_back(outcome);
    if (stage == Stage::Report) {
      result.finished = true;
      result.report_md = ctx.path("report.md");
      result.report_html = ctx.path("report.html");
    }
    if (control.stop_after && *control.stop_after == stage) break;
  }
  return result;
}

}  // namespace piconas::nas::pipeline
