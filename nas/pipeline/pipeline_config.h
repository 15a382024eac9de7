// Configuration of `piconas run` (pipeline.h): every setting of every stage in one typed
// struct, readable from JSON and from command-line text, and written back resolved into the
// run directory as config.json.
//
// Keys are the member names below (snake_case); on the command line they are the same names
// with dashes (budget_sram -> --budget-sram). Byte sizes (ByteSize) accept a number or a
// string with a binary suffix K, M or G (optionally followed by B or iB, case-insensitive):
// "64K" = 65536, "1.5M" is an error (whole numbers only), "256" = 256.
// Merging: apply_json() overrides only the keys present, so defaults < config file < flags is
// three calls in that order; unknown keys and ill-typed values are errors naming the key.
// The run directory ("out") is not part of the stored configuration.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/byte_size.h"
#include "nas/deploy/planner.h"
#include "nas/pipeline/scoring_batch.h"
#include "nas/search/search_space.h"

namespace piconas::nas::pipeline {

using piconas::ByteSize;  // core/byte_size.h: the one byte-size type and parser

// Sane limits: more shortlist candidates, or more shortlist training images in all (every
// rung of the successive halving summed), is a typo.
inline constexpr int kMaxShortlist = 1000;
inline constexpr int64_t kMaxShortlistImages = int64_t{1} << 36;

struct PipelineConfig {
  // data and budgets
  std::string data = "fashion-mnist";  // fashion-mnist | mnist | cifar10
  std::string data_path;               // "": the data set's standard location
  ByteSize budget_sram{64 * 1024};     // peak int8 arena bytes (0: none)
  ByteSize budget_flash{256 * 1024};   // int8 constant bytes (0: none)
  int64_t max_macs = 2000000;          // MACs per image (0: none); bounds training time
  ByteSize max_memory{int64_t{1} << 30};  // estimated scoring memory per candidate (0: none)
  double max_latency_ms = 0;  // predicted ms per inference on `target` at mcu_mhz (0: none)
  double mcu_mhz = 120;       // MCU clock of the latency budget (nas/deploy/latency.h)
  // int8 memory plan (nas/deploy/planner.h), one model for the search, the export and the
  // report under budget_sram: in-place depthwise "on" | "off"; patch-based execution of the
  // leading layers: patch_layers "if-needed" (the automatic choice only when budget_sram needs
  // it), "0" (off), a count or "auto", patch_grid "HxW" for a count,
  // patch_max_extra_macs the automatic choice's recomputed-MAC limit (fraction of the MACs).
  std::string in_place = "on";
  std::string patch_layers = "if-needed";
  std::string patch_grid = "2x2";
  double patch_max_extra_macs = 0.2;
  // training-free search
  std::string space = "blocks";  // blocks | mbv2
  std::string strategy = "freerea";
  std::string metrics = "naswot,logsynflow,skip";
  std::string aggregator = "freerea";
  std::string activation = "relu6";
  std::string stem = "16k3s2";
  int head = 0;
  int min_blocks = 3, max_blocks = 6;
  std::string ir_options = "off";  // on | off: blocks space draws ir blocks' se and activation
  int scoring_images = 64;
  int64_t search_steps = 300;
  int population = 50;
  int sample_size = 10;
  int trials = 1;
  // shortlist: short training of the top-k search candidates; the best validation accuracy wins.
  // halving_eta >= 2: successive halving (nas/search/successive_halving.h): rung 0 trains every
  // candidate for one epoch on a seeded subset of halving_images images, each later rung keeps
  // the best 1/eta and multiplies the images by eta, until one is left (the winner).
  // halving_eta 0: each candidate trained shortlist_epochs on shortlist_limit images.
  int top_k = 9;
  int halving_eta = 3;
  int64_t halving_images = 1500;
  // Part of each rung training's seeded subset held out to rank by. A rung trains on 90 % of its
  // images (the trainer's usual 10 % hold-out) whatever the fraction; the subset grows so that
  // this fraction of it is held out (0.5: as many validation as training images). 0.5 ranked
  // better in replays but picked worse in real runs (docs/search_quality.md): 0.1 stays.
  double halving_val_fraction = 0.1;
  int64_t shortlist_epochs = 1;
  int64_t shortlist_limit = 10000;  // training images (seeded subset; 0: all)
  // full training of the winner
  int64_t epochs = 8;
  int64_t batch = 128;
  double lr = 0.1;
  int64_t train_limit = 0;  // 0: the whole train split
  // export and verification
  int64_t calib_images = 256;
  int64_t eval_images = 10000;  // test images for the float vs int8 accuracy
  int64_t verify_images = 100;  // host: emitted C vs host executor
  int64_t mcu_images = 10;      // the Cortex-M target under QEMU (0: skip)
  std::string target = "cortex-m4";  // MCU target the export is verified on (deploy/mcu_target.h)
  // everything
  uint64_t seed = 1;
  int threads = 2;
  std::string out;  // run directory (not stored)

  bool operator==(const PipelineConfig&) const = default;
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
// The memory planner options of in_place / patch_* (checked by check_pipeline_config).
deploy::PlanOptions memory_plan_options(const PipelineConfig& config);
// The search space options of activation / stem / head / *_blocks / ir_options for the batch's
// input and classes (make_space_options); Error naming the key.
search::SpaceOptions space_options(const PipelineConfig& config, const ScoringBatch& batch);
// Keys whose values differ (for "the run directory holds another configuration"); threads is
// ignored because results are reproduced per thread count by the stage commands.
std::vector<std::string> config_differences(const PipelineConfig& a, const PipelineConfig& b);

}  // namespace piconas::nas::pipeline
