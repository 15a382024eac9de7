// `piconas run`: the whole TinyML flow in one resumable command, composed of the libraries
// behind the single-purpose commands.
//
// Stages, in order, each in its own part of the run directory <out>:
//   search     training-free search under the SRAM / flash / MACs / scoring-memory budgets
//              (nas/search), outputs in <out>/search; resumes from its search_state.json.
//   shortlist  short training of the top-k search candidates; skipped when top_k is 1. By
//              default successive halving (halving_eta >= 2): one-epoch trainings on a seeded
//              subset of halving_images images in <out>/shortlist/rung1/<rank>, the best
//              1/eta by validation accuracy (ties to the better search rank) go on to eta
//              times the images in rung2/, ..., until one is left: the winner; the rungs in
//              <out>/shortlist/halving.{csv,json}. halving_eta 0: every candidate trained
//              shortlist_epochs on shortlist_limit images in <out>/shortlist/<rank>, the best
//              validation accuracy wins.
//   train      full training of the winner in <out>/train (resumes from last.ckpt).
//   export     int8 export of <out>/train/best.ckpt into <out>/export (prefix "model"), with
//              the float vs int8 accuracy on eval_images test images.
//   verify     the emitted C compiled and run on the host, and on the Cortex-M `target`
//              (default cortex-m4) under QEMU when the cross toolchain is on PATH (else
//              recorded as skipped with the reason), both compared byte for byte with the host
//              executor (nas/deploy/verify.h), with instructions per inference and per layer.
//   report     report.md and report.html (report.h).
// A finished stage writes <out>/stages/<stage>.json atomically; a rerun skips every stage that
// has its file and continues the first one that has not (the search and the trainings resume
// from their own checkpoints), so a run killed at any point ends with the same numbers as an
// uninterrupted one with the same thread count.
//
// Configuration: <out>/config.json holds the resolved configuration (pipeline_config.h). A
// rerun starts from it (so `piconas run --out DIR` alone continues a run), applies the config
// file and the flags given, and refuses a configuration that differs from the stored one
// (threads excepted). Library code never prints; progress goes to RunControl::on_progress.
//
// Under MPI (RunControl::communicator with several ranks; docs/distributed.md) every rank calls
// run_pipeline with the same configuration. Rank 0 decides which stages are done, writes every
// stage result and runs export, verify and report alone; the search scores candidates on all
// ranks (nas/search/distributed_scoring.h); the shortlist trains candidate k of each list (or
// halving rung) on rank k % ranks, each in its own directory as in a single process, and the
// root collects their results, so the shortlist and the winner equal a single-process run with
// the same thread count. The winner trains data-parallel over the ranks (nas/train/trainer.h:
// equal to a single process within float rounding, bit-identical for a given rank and thread
// count). The other ranks return after the train stage.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nas/pipeline/pipeline_config.h"

namespace piconas {
class Communicator;
}

namespace piconas::nas::pipeline {

enum class Stage { Search, Shortlist, Train, Export, Verify, Report };
inline constexpr int kStageCount = 6;
const char* stage_name(Stage stage);  // "search", "shortlist", ...
Stage parse_stage(const std::string& name);

struct RunControl {
  std::optional<Stage> stop_after;  // return once this stage is done (staged runs, tests)
  // One line of progress (stage name and ETA inside); transient lines may be overwritten.
  std::function<void(Stage stage, const std::string& line, bool transient)> on_progress;
  const Communicator* communicator = nullptr;  // the ranks of an MPI job; nullptr: one process
};

struct StageOutcome {
  Stage stage;
  bool already_done = false;  // skipped: its result file existed
  double seconds = 0;         // this invocation
};

struct PipelineResult {
  std::vector<StageOutcome> stages;  // the stages visited by this call, in order
  bool finished = false;             // the report stage is done
  std::string report_md, report_html;
};

// <out>/config.json when it exists, else the defaults; then `file` (a JSON object, may be null)
// and the flags (key, text) in order. Error when a stored configuration exists and differs.
PipelineConfig resolve_run_config(const std::string& out, const nlohmann::json& file,
                                  const std::vector<std::pair<std::string, std::string>>& flags);

std::string stage_result_path(const std::string& out, Stage stage);

PipelineResult run_pipeline(const PipelineConfig& config, const RunControl& control = {});

// Shell-quoted command-line word (single quotes when it holds anything but [A-Za-z0-9_./=:,+-]).
std::string shell_word(const std::string& word);

}  // namespace piconas::nas::pipeline
