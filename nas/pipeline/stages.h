// Internal interface of nas/pipeline: what every stage of run_pipeline sees, and the stage
// functions. Each returns the JSON written to <out>/stages/<stage>.json; numbers a report
// states come with "command": the piconas command line that reproduces them.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/distributed.h"
#include "core/duration.h"
#include "nas/pipeline/pipeline.h"
#include "nas/deploy/export.h"
#include "nas/deploy/verify.h"
#include "nas/search/search.h"
#include "nas/train/trainer.h"

namespace piconas::nas::pipeline {

struct StageContext {
  const PipelineConfig& config;
  const Communicator& comm;  // every rank runs search, shortlist and train (pipeline.h)
  std::map<Stage, nlohmann::json> results;  // finished stages
  std::function<void(const std::string& line, bool transient)> progress;
  std::string path(const std::string& relative) const;  // <out>/<relative>
};

nlohmann::json run_search_stage(StageContext& ctx);
nlohmann::json run_shortlist_stage(StageContext& ctx);
nlohmann::json run_train_stage(StageContext& ctx);
nlohmann::json run_export_stage(StageContext& ctx);
nlohmann::json run_verify_stage(StageContext& ctx);

// The settings the stages hand to nas/search, nas/train and nas/deploy, made from the
// configuration in one place each; check_pipeline_config validates them with those libraries'
// own checks, naming the configuration keys (pipeline_config_names).
search::SearchSettings search_settings(const PipelineConfig& c, const std::string& out_dir);
// The search stage's seed: search_seed when set, else the run's seed.
uint64_t search_seed(const PipelineConfig& c);
// c.export_ with the run's data and SRAM budget, written to out_dir.
deploy::ExportOptions export_options(const PipelineConfig& c, const std::string& out_dir);
// c.verify with the run's target (the search's latency_target), in work_dir.
deploy::VerifyOptions verify_options(const PipelineConfig& c, const std::string& work_dir);
// The winner's training of `arch`: c.train with the run's shared data, seed and threads, in
// out_dir.
train::TrainSettings train_settings(const PipelineConfig& c, const std::string& arch,
                                    const std::string& out_dir);
// A shortlist training: the winner's settings for `epochs` epochs on `limit` images (0: all),
// with a 0.2-epoch warm-up and no test-split evaluation.
train::TrainSettings shortlist_train_settings(const PipelineConfig& c, const std::string& arch,
                                              int64_t epochs, int64_t limit,
                                              const std::string& out_dir);
// The fixed validation set of the shortlist's rungs for a train split of train_split_images:
// halving_val_images, at most a fifth of the split (so a small data set still ranks on one
// set and keeps four fifths to train on); 0 when halving_val_images is 0 (per-rung hold-out).
int64_t halving_validation_images(const PipelineConfig& c, int64_t train_split_images);
// The `piconas train` command line that reproduces a training into `repro_dir`.
std::string train_command(const train::TrainSettings& t, const std::string& repro_dir);
// The run's data set (kind and path; native channels and size), as the stages pass it.
data::DatasetSpec dataset_spec(const SharedSettings& shared);
// " --data NAME [--data-path P]" with data_flag for --data (search, export and verify: --dataset).
std::string data_flags(const data::DatasetSpec& data, const char* data_flag);
// The flags of `piconas search / export / verify / info` that reproduce a memory plan's options
// (non-defaults of the run only; the SRAM budget is each command's own --max-sram).
std::string memory_flags(const deploy::PlanOptions& memory);

}  // namespace piconas::nas::pipeline
