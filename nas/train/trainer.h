// Training and evaluation of an architecture on an image data set, with resumable checkpoints.
//
// train_model(settings, hooks) builds the network from its text, loads the data (train split, a
// seeded validation part of it, and the test split when the data set has one), and runs SGD with
// a per-step learning-rate schedule through SgdLoop (sgd_loop.h, shared with DNAS fine-tuning).
// TrainSettings is everything a user sets (a plain value: `piconas train`'s flags and the run
// configuration fill it, check_train_settings validates it); TrainHooks are the caller's runtime
// links (the progress callback, the communicator). Everything random derives from settings.seed:
//   weights       Rng(seed).derive(kWeightsStream)
//   val split     split_train_val(..., Rng(seed).derive(kSplitStream).next_u64()); with
//                 val_images > 0 instead split_fixed_validation(train split, val_images, limit,
//                 Rng(seed).derive(kFixedValidationStream).next_u64()): the same validation
//                 images for every limit (the shortlist's rungs rank on one set)
//   data order    Loader seed Rng(seed).derive(kLoaderStream).next_u64(); batch b of epoch e
//                 (order and augmentation) is a pure function of (seed, e, b)
//   BN batches    after each epoch, BatchNorm running statistics are re-estimated for the final
//                 weights of the epoch (recalibrate_batchnorm) on batches seeded by
//                 (Rng(seed).derive(kBatchNormStream), epoch) before validation and checkpoints
// so a run is a function of (settings, thread count), and a run resumed from last.ckpt ends with
// bit-identical weights to the uninterrupted run with the same thread count.
//
// Files in settings.out_dir (created if missing; every write is atomic):
//   last.ckpt     training state: model + optimizer + "train_state"; written after every epoch
//                 and every checkpoint_every_steps steps
//   best.ckpt     the model with the best validation accuracy so far (train accuracy without a
//                 validation part)
//   metrics.csv   one row per finished epoch (rewritten whole from the checkpointed history,
//                 so a resumed run never duplicates rows)
//   summary.json  the run's settings, per-epoch history, best epoch, test result
// Checkpoint meta follows the model contract in docs/checkpoint_format.md.
//
// Data-parallel (hooks.communicator with several ranks, docs/distributed.md): every rank runs
// train_model() with the same settings; each takes rows [n*r/R, n*(r+1)/R) of every global batch
// of n images (rank r of R), BatchNorm uses the global batch's statistics (ops/batchnorm2d.h,
// sharded), the loss is the global batch mean, and the gradients are summed over the ranks in
// rank order (Communicator::allreduce_sum) before every rank takes the same SGD step. Equivalence:
// the weights equal a single-process run's within float rounding (summation order differs), and
// a rerun with the same rank and thread counts is bit-identical. Rank 0 decides about resuming
// (its last.ckpt is sent to the others, so the run directory need not be shared), writes every
// file and reports progress; a stop request from its on_progress stops every rank.
//
// Library code never prints: progress goes to hooks.on_progress. Errors throw piconas::Error.
// A non-finite loss stops the run with an Error (nothing non-finite is ever checkpointed).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/layers.h"
#include "core/setting_name.h"
#include "autograd/optimizer.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "nas/arch/arch_spec.h"
#include "nas/train/evaluate.h"
#include "nas/train/model_io.h"

namespace piconas {
class Communicator;
}

namespace piconas::nas::train {

inline constexpr uint64_t kWeightsStream = 0;
inline constexpr uint64_t kSplitStream = 1;
inline constexpr uint64_t kLoaderStream = 2;
inline constexpr uint64_t kSubsetStream = 3;
inline constexpr uint64_t kBatchNormStream = 4;
inline constexpr uint64_t kFixedValidationStream = 5;

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double lr = 0;      // learning rate of the epoch's last step
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;  // NaN without a validation part
  double images_per_second = 0;           // training throughput (forward + backward + update)
  double seconds = 0;                     // wall time of the epoch in this process, validation included
};

struct TrainProgress {
  enum class Kind { Start, Step, Epoch, Done };
  Kind kind = Kind::Step;
  int64_t epoch = 0, epochs = 0;  // 1-based epoch in progress (Start: first epoch to run)
  int64_t step_in_epoch = 0, steps_per_epoch = 0;  // steps done in this epoch
  int64_t global_step = 0, total_steps = 0;
  bool resumed = false;             // Start: the run continues a checkpoint
  double loss = 0, accuracy = 0;    // running means over the epoch so far
  double lr = 0;
  double images_per_second = 0;     // this epoch so far
  double eta_seconds = 0;           // remaining training steps at this run's mean step time
  EpochMetrics metrics;             // Kind::Epoch: the finished epoch
  int64_t train_images = 0, val_images = 0, test_images = 0;  // Kind::Start
};

struct TrainSettings {
  std::string arch = "tiny-bench";  // anything parse_arch accepts
  // Data set; split is ignored (train uses Split::Train, the final test uses Split::Test when
  // the data set has one). channels/resolution 0: native; folders default to the model's
  // resolution. The loaded images must match the model's input exactly.
  data::DatasetSpec data;
  int64_t limit = 0;  // > 0: train on a seeded random subset of this many train images
  int64_t epochs = 5;
  int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;  // conv and linear weights only
  autograd::ScheduleKind schedule = autograd::ScheduleKind::Cosine;
  double warmup_epochs = 1.0;  // linear warm-up (may be fractional)
  int64_t step_epochs = 30;    // ScheduleKind::Step: multiply by step_gamma every step_epochs
  double step_gamma = 0.1;
  double label_smoothing = 0.0;
  data::AugmentConfig augment;
  int64_t bn_recalibration_batches = 20;  // per epoch; 0: keep the training running averages
  double val_fraction = 0.1;  // part of the train split held out for validation; 0: none
  // > 0 (val_fraction must then be 0): validate on this many train-split images drawn before
  // the `limit` training images and disjoint from them, the same for every limit and seed
  // (data::split_fixed_validation); the training set is `limit` images (0, or more than the
  // split holds beside the validation set: all of those).
  int64_t val_images = 0;
  bool evaluate_test = true;  // evaluate the final model on the test split, when there is one
  // Not empty: start from the weights and input normalisation of this model checkpoint (its
  // architecture must equal `arch`), e.g. an imported ONNX model (fine-tuning).
  std::string init;
  uint64_t seed = 1;
  int threads = 2;
  std::string out_dir;  // required
  // Continue from out_dir/last.ckpt (a fresh start when it does not exist). Without resume an
  // out_dir that already holds last.ckpt is an error. The stored settings must match.
  bool resume = false;
  int64_t checkpoint_every_steps = 0;  // > 0: also write last.ckpt every N steps
  int64_t progress_every_steps = 50;   // Kind::Step callbacks every N steps (and at epoch end)

  bool operator==(const TrainSettings&) const = default;
};

// What the caller links into a training beside its settings (not stored, not compared).
struct TrainHooks {
  // Called from the training thread. Returning false stops the run cleanly: last.ckpt is
  // written at the current step and train_model() returns with completed == false. An exception
  // thrown here propagates (the checkpoint on disk is then whatever was last written).
  std::function<bool(const TrainProgress&)> on_progress;
  const Communicator* communicator = nullptr;  // data-parallel over its ranks; nullptr: one process
};

// Sane limits of TrainSettings (a larger value is a typo or an attack, never a real run).
inline constexpr int64_t kMaxEpochs = 1000000;
inline constexpr int64_t kMaxBatchSize = 65536;
inline constexpr double kMaxLearningRate = 100.0;
inline constexpr int kMaxThreads = 1024;
inline constexpr int64_t kMaxValImages = int64_t{1} << 31;

// The one range check of TrainSettings (ranges, required fields; NaN and infinity fail every
// range), called by train_model, by `piconas train` (names: its flags) and by the run
// configuration (names: its keys); throws Error naming the field through `name`
// (core/setting_name.h; default "train: batch size" etc.) and giving the value.
void check_train_settings(const TrainSettings& settings, const SettingName& name = {});
// The fields that define the run's results (not threads, out_dir, resume or progress
// settings), as stored in checkpoints and summary.json.
nlohmann::json train_settings_json(const TrainSettings& settings);

struct TrainResult {
  bool completed = false;  // false when on_progress asked to stop
  std::vector<EpochMetrics> history;
  int64_t best_epoch = 0;
  double best_accuracy = 0;  // validation (or train) accuracy of best.ckpt
  bool has_test = false;
  EvalResult test;  // final (last) model on the test split, when has_test
  double seconds = 0;  // wall time of this call
  std::string last_checkpoint, best_checkpoint, metrics_csv, summary_json;
};

TrainResult train_model(const TrainSettings& settings, const TrainHooks& hooks = {});

}  // namespace piconas::nas::train
