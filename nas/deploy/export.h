// Export pipeline behind `piconas export`: model checkpoint -> BN folding -> calibration on
// training images -> int8 quantization -> memory plan -> C files, plus a float vs int8
// accuracy report on test images.
//
// Model checkpoints follow the piconas-model contract (nas/checkpoint.h container):
//   meta {"format": "piconas-model", "version": 1, "arch": text, "input": [c, h, w],
//         "classes": K, "normalization": {"mean": [...], "std": [...]}, "data": dataset name, ...}
//   tensors named by Module::state() of build_network(arch) ("optimizer.*" entries ignored).
// The dataset used for calibration and evaluation is options.dataset, else meta "data".
#pragma once
#include <memory>
#include <string>

#include "autograd/layers.h"
#include "core/setting_name.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "nas/arch/arch_spec.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/layer_error.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"

namespace piconas::nas::deploy {

struct DeployModel {
  ArchSpec arch;
  std::shared_ptr<autograd::Sequential> module;  // eval mode
  data::Normalization normalization;
  std::string dataset;      // meta "data" ("" when absent)
  std::string source_hash;  // fnv1a64 of the checkpoint file
};

DeployModel load_deploy_model(const std::string& checkpoint_path);

// Everything a user sets for an export, a plain value: `piconas export`'s flags and the run
// configuration (nas/pipeline/pipeline_config.h) fill it, check_export_options validates it.
struct ExportOptions {
  std::string out_dir;
  std::string prefix = "model";
  int64_t calibration_images = 256;  // first N training images (deterministic)
  CalibrationOptions calibration;
  // Memory planner options (planner.h): strategy, in-place depthwise (on by default, used
  // unless max_sram is set and the faster out-of-place plan fits), patching (off by default).
  // The plan is plan_for_budget(graph, memory, max_sram).
  PlanOptions memory;
  int64_t eval_images = 1000;  // first N test images for the accuracy report; 0: skip
  int64_t layer_error_images = 0;  // first N test images for the per-layer error (layer_error.h); 0: skip
  std::string dataset;         // overrides meta "data" ("fashion-mnist", ...)
  std::string data_path;       // "" = the dataset's default location
  int64_t max_sram = 0;   // refuse (Error, nothing written) a planned arena above this; 0: none
  int64_t max_flash = 0;  // likewise for the constant bytes

  bool operator==(const ExportOptions&) const = default;
};

struct ExportReport {
  QuantizedModel quantized;  // what was emitted (the host executor's reference)
  EmitResult emitted;
  MemoryPlan plan;
  int64_t arena_without_in_place = 0;  // the plan with in-place depthwise and patching off
  int64_t arena_without_patching = 0;  // the plan of the same options with patching off
  int64_t eval_images = 0;
  double float_accuracy = 0.0, int8_accuracy = 0.0;  // fractions; 0 when not evaluated
  double agreement = 0.0;  // share of images where float and int8 predict the same class
  std::vector<LayerError> layer_errors;  // with layer_error_images > 0 and an eval set
};

// The first `count` images of `dataset` (all when count exceeds it), normalised [N, C, H, W].
Tensor normalized_images(const data::Dataset& dataset, const data::Normalization& normalization,
                         int64_t count);

// Checks the options before anything is loaded or written: out_dir set, a safe prefix
// (check_c_prefix), budgets >= 0 (0: none), calibration images >= 1, eval and layer-error
// images >= 0, a
// percentile in (50, 100], patch layers >= 0 and a recomputed-MAC limit >= 0.
// The one range check of ExportOptions: `piconas export` through export_checkpoint (names: its
// flags, the default) and the run configuration (names: its keys, core/setting_name.h).
void check_export_options(const ExportOptions& options, const SettingName& name = {});

// Library form of the whole pipeline for an in-memory model (calibration / eval sets given).
ExportReport export_model(const DeployModel& model, const data::Dataset& calibration_set,
                          const data::Dataset* eval_set, const ExportOptions& options,
                          const std::string& source);

// The output directory switches as one unit: the files go into a fresh sibling directory
// (which first receives copies of out_dir's other entries, e.g. another model's files), which
// then replaces out_dir (core/atomic_file.h replace_directory). A kill -9 never leaves a new
// <prefix>.h next to an old <prefix>.c.
// Loads the checkpoint and the dataset it names, then export_model.
ExportReport export_checkpoint(const std::string& checkpoint_path, const ExportOptions& options);

}  // namespace piconas::nas::deploy
