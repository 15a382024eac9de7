// TrainConfig validation and its JSON form (stored in checkpoints and summary.json).
#include "core/input_checks.h"
#include "nas/arch/arch_text.h"
#include "nas/train/trainer.h"

namespace piconas::nas::train {

namespace {
const char* schedule_name(autograd::ScheduleKind kind) {
  switch (kind) {
    case autograd::ScheduleKind::Constant: return "constant";
    case autograd::ScheduleKind::Cosine: return "cosine";
    case autograd::ScheduleKind::Step: return "step";
  }
  throw Error("unknown schedule kind");
}
}  // namespace

void check_train_config(const TrainConfig& c) {
  PICONAS_CHECK(!c.out_dir.empty(), "train: an output directory (out_dir) is required");
  check_utf8(c.out_dir, "train: output directory");
  check_utf8(c.data.path, "train: data path");
  PICONAS_CHECK(c.epochs > 0 && c.epochs <= kMaxEpochs, "train: epochs must be in [1, " << kMaxEpochs << "], got " << c.epochs);
  PICONAS_CHECK(c.batch_size > 0 && c.batch_size <= kMaxBatchSize,
                "train: batch size must be in [1, " << kMaxBatchSize << "], got " << c.batch_size);
  PICONAS_CHECK(c.lr > 0 && c.lr <= kMaxLearningRate,
                "train: learning rate must be in (0, " << kMaxLearningRate << "], got " << c.lr);
  PICONAS_CHECK(c.momentum >= 0 && c.momentum < 1, "train: momentum must be in [0, 1), got " << c.momentum);
  PICONAS_CHECK(!c.nesterov || c.momentum > 0, "train: Nesterov needs momentum > 0");
  PICONAS_CHECK(c.weight_decay >= 0 && c.weight_decay < 1, "train: weight decay must be in [0, 1), got " << c.weight_decay);
  PICONAS_CHECK(c.warmup_epochs >= 0 && c.warmup_epochs <= static_cast<double>(c.epochs),
                "train: warm-up epochs must be in [0, epochs = " << c.epochs << "], got " << c.warmup_epochs);
  PICONAS_CHECK(c.step_epochs > 0 && c.step_epochs <= kMaxEpochs,
                "train: step schedule period must be in [1, " << kMaxEpochs << "] epochs, got " << c.step_epochs);
  PICONAS_CHECK(c.step_gamma > 0 && c.step_gamma <= 1, "train: step gamma must be in (0, 1], got " << c.step_gamma);
  PICONAS_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1,
                "train: label smoothing must be in [0, 1), got " << c.label_smoothing);
  PICONAS_CHECK(c.val_fraction >= 0 && c.val_fraction < 1,
                "train: validation fraction must be in [0, 1), got " << c.val_fraction);
  PICONAS_CHECK(c.limit >= 0, "train: limit must be >= 0, got " << c.limit);
  PICONAS_CHECK(c.threads > 0 && c.threads <= kMaxThreads, "train: threads must be in [1, " << kMaxThreads << "], got " << c.threads);
  PICONAS_CHECK(c.checkpoint_every_steps >= 0, "train: checkpoint interval must be >= 0");
  PICONAS_CHECK(c.progress_every_steps > 0, "train: progress interval must be > 0");
  PICONAS_CHECK(c.bn_recalibration_batches >= 0 && c.bn_recalibration_batches <= kMaxEpochs,
                "train: BatchNorm recalibration batches must be in [0, " << kMaxEpochs << "], got "
                                                                          << c.bn_recalibration_batches);
  c.augment.validate();
}

nlohmann::json train_config_json(const TrainConfig& c) {
  const data::ResizedCropConfig& rc = c.augment.resized_crop;
  nlohmann::json j = {{"arch", canonical_text(c.arch)},
          {"data",
           {{"kind", data::dataset_kind_name(c.data.kind)},
            {"path", c.data.path},
            {"channels", c.data.channels},
            {"resolution", c.data.resolution},
            {"skip_corrupt", c.data.skip_corrupt}}},
          {"limit", c.limit},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"lr", c.lr},
          {"momentum", c.momentum},
          {"nesterov", c.nesterov},
          {"weight_decay", c.weight_decay},
          {"schedule", schedule_name(c.schedule)},
          {"warmup_epochs", c.warmup_epochs},
          {"step_epochs", c.step_epochs},
          {"step_gamma", c.step_gamma},
          {"label_smoothing", c.label_smoothing},
          {"augment",
           {{"pad", c.augment.pad},
            {"horizontal_flip", c.augment.horizontal_flip},
            {"resized_crop",
             {{"enabled", rc.enabled},
              {"scale", {rc.scale_min, rc.scale_max}},
              {"ratio", {rc.ratio_min, rc.ratio_max}}}}}},
          {"bn_recalibration_batches", c.bn_recalibration_batches},
          {"val_fraction", c.val_fraction},
          {"evaluate_test", c.evaluate_test},
          {"seed", c.seed}};
  // Only a non-square resize records its width, so the square runs' configuration is unchanged.
  if (c.data.width > 0) j["data"]["width"] = c.data.width;
  if (!c.init.empty()) j["init"] = c.init;  // absent otherwise: older runs still resume
  return j;
}

}  // namespace piconas::nas::train
