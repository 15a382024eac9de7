// TrainSettings validation and its JSON form (stored in checkpoints and summary.json).
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

void check_train_settings(const TrainSettings& c, const SettingName& given_name) {
  const SettingName name =
      given_name ? given_name
                 : prefixed_names("train: ", {{"out_dir", "output directory"},
                                              {"batch_size", "batch size"},
                                              {"lr", "learning rate"},
                                              {"weight_decay", "weight decay"},
                                              {"warmup_epochs", "warm-up epochs"},
                                              {"step_epochs", "step schedule period (epochs)"},
                                              {"step_gamma", "step gamma"},
                                              {"label_smoothing", "label smoothing"},
                                              {"val_fraction", "validation fraction"},
                                              {"val_images", "validation images"},
                                              {"checkpoint_every_steps", "checkpoint interval"},
                                              {"progress_every_steps", "progress interval"},
                                              {"bn_recalibration_batches", "BatchNorm recalibration batches"},
                                              {"data_path", "data path"}});
  PICONAS_CHECK(!c.out_dir.empty(), name("out_dir") << " is required");
  check_utf8(c.out_dir, name("out_dir"));
  check_utf8(c.data.path, name("data_path"));
  PICONAS_CHECK(c.epochs > 0 && c.epochs <= kMaxEpochs,
                name("epochs") << " must be in [1, " << kMaxEpochs << "], got " << c.epochs);
  PICONAS_CHECK(c.batch_size > 0 && c.batch_size <= kMaxBatchSize,
                name("batch_size") << " must be in [1, " << kMaxBatchSize << "], got " << c.batch_size);
  PICONAS_CHECK(c.lr > 0 && c.lr <= kMaxLearningRate,
                name("lr") << " must be in (0, " << kMaxLearningRate << "], got " << c.lr);
  PICONAS_CHECK(c.momentum >= 0 && c.momentum < 1, name("momentum") << " must be in [0, 1), got " << c.momentum);
  PICONAS_CHECK(!c.nesterov || c.momentum > 0, "train: Nesterov needs " << name("momentum") << " > 0");
  PICONAS_CHECK(c.weight_decay >= 0 && c.weight_decay < 1,
                name("weight_decay") << " must be in [0, 1), got " << c.weight_decay);
  PICONAS_CHECK(c.warmup_epochs >= 0 && c.warmup_epochs <= static_cast<double>(c.epochs),
                name("warmup_epochs") << " must be in [0, epochs = " << c.epochs << "], got " << c.warmup_epochs);
  PICONAS_CHECK(c.step_epochs > 0 && c.step_epochs <= kMaxEpochs,
                name("step_epochs") << " must be in [1, " << kMaxEpochs << "], got " << c.step_epochs);
  PICONAS_CHECK(c.step_gamma > 0 && c.step_gamma <= 1, name("step_gamma") << " must be in (0, 1], got " << c.step_gamma);
  PICONAS_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1,
                name("label_smoothing") << " must be in [0, 1), got " << c.label_smoothing);
  PICONAS_CHECK(c.val_fraction >= 0 && c.val_fraction < 1,
                name("val_fraction") << " must be in [0, 1), got " << c.val_fraction);
  PICONAS_CHECK(c.val_images >= 0 && c.val_images <= kMaxValImages,
                name("val_images") << " must be in [0, " << kMaxValImages << "], got " << c.val_images);
  PICONAS_CHECK(c.val_images == 0 || c.val_fraction == 0,
                name("val_images") << " " << c.val_images << " and " << name("val_fraction") << " "
                                   << c.val_fraction << " exclude each other (a fixed set or a fraction)");
  PICONAS_CHECK(c.limit >= 0, name("limit") << " must be >= 0 (0: all), got " << c.limit);
  PICONAS_CHECK(c.threads > 0 && c.threads <= kMaxThreads,
                name("threads") << " must be in [1, " << kMaxThreads << "], got " << c.threads);
  PICONAS_CHECK(c.checkpoint_every_steps >= 0,
                name("checkpoint_every_steps") << " must be >= 0, got " << c.checkpoint_every_steps);
  PICONAS_CHECK(c.progress_every_steps > 0,
                name("progress_every_steps") << " must be > 0, got " << c.progress_every_steps);
  PICONAS_CHECK(c.bn_recalibration_batches >= 0 && c.bn_recalibration_batches <= kMaxEpochs,
                name("bn_recalibration_batches") << " must be in [0, " << kMaxEpochs << "], got "
                                                 << c.bn_recalibration_batches);
  c.augment.validate();
}

nlohmann::json train_settings_json(const TrainSettings& c) {
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
  if (c.val_images > 0) j["val_images"] = c.val_images;  // the same
  return j;
}

}  // namespace piconas::nas::train
