// Configuration of `piconas run` (pipeline.h): every setting of every stage in one typed
// struct, readable from JSON and from command-line text, and written back resolved into the
// run directory as config.json.
//
// Keys are the member names below (snake_case); on the command line they are the same names
// with dashes (budget_sram -> --budget-sram). Byte keys accept a number or a string with a
// binary suffix K, M or G (core/byte_size.h, the parser of every byte flag too): "64K" = 65536,
// "1.5M" is an error (whole numbers only), "256" = 256. Typed keys (data, strategy, metrics,
// aggregator, target, calibration, in_place, patch_layers, patch_grid) are parsed when read, so
// a bad value is refused there, naming the key. Every key has one owner: a field of the
// settings of nas/search, nas/train or nas/deploy embedded below, or of SharedSettings (the
// values every stage reads, passed into those settings by the stages).
// Merging: apply_json() overrides only the keys present, so defaults < config file < flags is
// three calls in that order; unknown keys and ill-typed values are errors naming the key.
// The run directory ("out") is not part of the stored configuration.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/byte_size.h"
#include "core/setting_name.h"
#include "data/dataset.h"
#include "nas/deploy/export.h"
#include "nas/deploy/verify.h"
#include "nas/pipeline/scoring_batch.h"
#include "nas/search/search.h"
#include "nas/search/search_space.h"
#include "nas/train/trainer.h"

namespace piconas::nas::pipeline {

// Sane limits: more shortlist candidates, or more shortlist training images in all (every
// rung of the successive halving summed), is a typo.
inline constexpr int kMaxShortlist = 1000;
inline constexpr int64_t kMaxShortlistImages = int64_t{1} << 36;

// nas/search's settings with a run's defaults (population 50, sample size 10, 300 steps,
// top 9, SRAM 64K, flash 256K, 2M MACs, 1G scoring memory, 120 MHz).
search::SearchSettings default_search_settings();
// nas/train's settings with a run's defaults (8 epochs, batch 128, lr 0.1, one warm-up epoch,
// the test split evaluated; resumable, last.ckpt every 100 steps).
train::TrainSettings default_train_settings();
// nas/deploy's export options with a run's defaults (256 calibration images, 10000 test images
// for the float vs int8 accuracy, patch grid 2x2 for a patch_layers count).
deploy::ExportOptions default_export_options();

// The settings every stage reads, held once here; the stages pass them into the settings of
// nas/search, nas/train and nas/deploy (stages.h, one function each). Keys: data (parsed when
// read), data_path, seed, threads.
struct SharedSettings {
  data::DatasetKind data = data::DatasetKind::FashionMnist;
  std::string data_path;  // "": the data set's standard location
  uint64_t seed = 1;
  int threads = 2;
};

struct PipelineConfig {
  // The training-free search and its budgets, typed (nas/search/search.h). Keys: strategy,
  // metrics, aggregator, population, sample_size, search_steps (steps), top_k, and of
  // search.constraints max_macs, budget_sram (max_peak_sram: the peak int8 arena, also the
  // export's budget), budget_flash (max_flash), max_memory (max_scoring_memory),
  // scoring_images, max_latency_ms, mcu_mhz and target (latency_target: also the board the
  // export is verified on). Byte keys take K/M/G suffixes; 0: no limit. The search stage sets
  // seed, output_dir and resume, and the space plans int8 memory with export_.memory.
  search::SearchSettings search = default_search_settings();
  // the search space and the scoring
  std::string space = "blocks";  // blocks | mbv2
  std::string activation = "relu6";
  std::string stem = "16k3s2";
  int head = 0;
  int min_blocks = 3, max_blocks = 6;
  std::string ir_options = "off";  // on | off: blocks space draws ir blocks' se and activation
  int trials = 1;
  // shortlist: short training of the top-k search candidates; the best validation accuracy wins.
  // halving_eta >= 2: successive halving (nas/search/successive_halving.h): rung 0 trains every
  // candidate for one epoch on a seeded subset of halving_images images, each later rung keeps
  // the best 1/eta and multiplies the images by eta, until one is left (the winner).
  // halving_eta 0: each candidate trained shortlist_epochs on shortlist_limit images.
  // Size-aware shortlist: also the shortlist_largest feasible search draws with the most
  // shortlist_largest_by (params | macs) that are not in the top_k (0: none); a list
  // (params,macs) adds shortlist_largest draws per key, each key's not shortlisted yet.
  int shortlist_largest = 3;
  std::string shortlist_largest_by = "params";
  // all: shortlist_largest ranks every feasible draw of the search; initial: only the uniform
  // draws made before the strategy steers (search::last_counted_generation). The default, top 9
  // plus the 3 largest initial draws, picked +0.31 points better than the top 9 alone over 24
  // paired searches (docs/search_quality.md, eighth study).
  std::string shortlist_largest_from = "initial";
  // > 0: the top_k are the aggregate's best with at most this many per family (the block count
  // and each block's stride and width, search::family_key); 0: the search's own top_k.
  int shortlist_per_family = 0;
  int halving_eta = 3;
  int64_t halving_images = 1500;
  // > 0: the search stage's seed (its draws and its scoring batch) instead of shared.seed, which
  // still seeds the shortlist and the training: several searches for one run's other settings.
  uint64_t search_seed = 0;
  // Part of each rung training's seeded subset held out to rank by. A rung trains on 90 % of its
  // images (the trainer's usual 10 % hold-out) whatever the fraction; the subset grows so that
  // this fraction of it is held out (0.5: as many validation as training images). 0.5 ranked
  // better in replays but picked worse in real runs (docs/search_quality.md): 0.1 stays.
  double halving_val_fraction = 0.1;
  // > 0: instead, every rung trains on exactly its images and ranks on one fixed validation set
  // of this many train-split images, the same for every rung and candidate and disjoint from
  // their training images (train::TrainSettings::val_images), at most a fifth of the train split
  // (halving_validation_images); halving_val_fraction must then keep its default. 5,000 ranks
  // the last rung (13,500 images) at Spearman 0.65-0.81 with the 2-epoch accuracy on five
  // seeds, its 10 % hold-out at 0.59-0.80; the picks are the same (docs/search_quality.md,
  // ninth study).
  int64_t halving_val_images = 5000;
  int64_t shortlist_epochs = 1;
  int64_t shortlist_limit = 10000;  // training images (seeded subset; 0: all)
  // The training of the winner, typed (nas/train/trainer.h); the shortlist's trainings are it
  // with their own epochs, images and warm-up (shortlist_train_settings, stages.h). Keys: epochs,
  // batch (batch_size), lr and train_limit (limit: training images, 0: all). The train stage
  // sets arch and out_dir, and passes shared's data, seed and threads; the other fields keep
  // default_train_settings().
  train::TrainSettings train = default_train_settings();
  // The int8 export, typed (nas/deploy/export.h). Keys: calib_images (calibration_images),
  // calibration (calibration.method: mae | mse | minmax | percentile, parsed when read),
  // percentile (calibration.percentile, for calibration percentile only), eval_images (test
  // images for the float vs int8 accuracy), and the int8 memory plan (memory, nas/deploy/
  // planner.h), one model for the search, the export and the report under budget_sram:
  // in_place "on" | "off" (in_place_depthwise); patch_layers "if-needed" (the automatic choice
  // only when budget_sram needs it), "0" (off), a count or "auto"; patch_grid "HxW" for a
  // count; patch_max_extra_macs (max_extra_macs) the automatic choice's recomputed-MAC limit
  // (fraction of the MACs). The export stage sets out_dir and passes shared's data and
  // budget_sram (max_sram).
  deploy::ExportOptions export_ = default_export_options();
  // The host and Cortex-M checks of the export, typed (nas/deploy/verify.h). Keys:
  // verify_images (images: host, emitted C vs host executor) and mcu_images (the Cortex-M
  // target under QEMU, 0: skip). The verify stage sets work_dir and passes target.
  deploy::VerifyOptions verify;
  // data, data_path, seed and threads (last: first, GCC 12 warns maybe-uninitialized on
  // PipelineConfig{} temporaries).
  SharedSettings shared;
  std::string out;  // run directory (not stored)

  // Equal stored keys (config_to_json) and run directory.
  bool operator==(const PipelineConfig& other) const;
};

// Every key except "out".
nlohmann::json config_to_json(const PipelineConfig& config);
// Overrides the keys present in `json` (an object); Error on unknown keys or bad values.
void apply_json(PipelineConfig& config, const nlohmann::json& json, const std::string& source);
// Sets one key from command-line text ("64K", "0.1", "blocks"); Error naming the key.
void apply_text(PipelineConfig& config, const std::string& key, const std::string& text);
// The keys in declaration order, with a one-line description each.
std::vector<std::pair<std::string, std::string>> config_keys();
// Range checks; Error naming the key.
void check_pipeline_config(const PipelineConfig& config);
// How the settings of nas/search, nas/train and nas/deploy are named by the configuration's
// keys in their checks' errors ("config key 'budget_sram'" for Constraints::max_peak_sram).
SettingName pipeline_config_names();
// The search space options of activation / stem / head / *_blocks / ir_options for the batch's
// input and classes (make_space_options); Error naming the key.
search::SpaceOptions space_options(const PipelineConfig& config, const ScoringBatch& batch);
// Keys whose values differ (for "the run directory holds another configuration"); threads is
// ignored because results are reproduced per thread count by the stage commands.
std::vector<std::string> config_differences(const PipelineConfig& a, const PipelineConfig& b);

}  // namespace piconas::nas::pipeline
