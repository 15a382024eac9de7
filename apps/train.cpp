// `piconas train`: trains an architecture on Fashion-MNIST, MNIST, CIFAR-10 or an image folder
// (nas/train/trainer.h) and prints progress to stderr, the final result to stdout. Under
// mpirun the ranks train data-parallel; rank 0 prints and writes the files.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/distributed_cli.h"
#include "core/duration.h"
#include "nas/checkpoint.h"
#include "nas/train/trainer.h"

namespace piconas::apps {

namespace {
struct TrainOptions {
  nas::train::TrainSettings settings;
  std::string data = "fashion-mnist";
  std::string schedule = "cosine";
  bool no_nesterov = false;
  bool no_test = false;
};

bool print_progress(const nas::train::TrainProgress& p) {
  using Kind = nas::train::TrainProgress::Kind;
  switch (p.kind) {
    case Kind::Start:
      std::fprintf(stderr, "%s: %lld train / %lld val / %lld test images, %lld steps per epoch, %lld epochs\n",
                   p.resumed ? "resuming" : "training", static_cast<long long>(p.train_images),
                   static_cast<long long>(p.val_images), static_cast<long long>(p.test_images),
                   static_cast<long long>(p.steps_per_epoch), static_cast<long long>(p.epochs));
      if (p.resumed)
        std::fprintf(stderr, "resuming at epoch %lld, step %lld of %lld\n", static_cast<long long>(p.epoch),
                     static_cast<long long>(p.global_step), static_cast<long long>(p.total_steps));
      break;
    case Kind::Step:
      std::fprintf(stderr, "epoch %lld/%lld  step %lld/%lld  loss %.4f  acc %5.1f%%  lr %.4f  %.0f img/s  ETA %s\n",
                   static_cast<long long>(p.epoch), static_cast<long long>(p.epochs),
                   static_cast<long long>(p.step_in_epoch), static_cast<long long>(p.steps_per_epoch), p.loss,
                   100 * p.accuracy, p.lr, p.images_per_second, duration_str(p.eta_seconds).c_str());
      break;
    case Kind::Epoch: {
      const nas::train::EpochMetrics& m = p.metrics;
      std::fprintf(stderr, "epoch %lld/%lld done: train loss %.4f acc %.2f%%", static_cast<long long>(m.epoch),
                   static_cast<long long>(p.epochs), m.train_loss, 100 * m.train_accuracy);
      if (!std::isnan(m.val_accuracy)) std::fprintf(stderr, "  val loss %.4f acc %.2f%%", m.val_loss, 100 * m.val_accuracy);
      std::fprintf(stderr, "  %.0f img/s  %.1f s\n", m.images_per_second, m.seconds);
      break;
    }
    case Kind::Done: break;
  }
  std::fflush(stderr);
  return true;
}

void run_train(TrainOptions& o, const Communicator& comm) {
  static const std::map<std::string, autograd::ScheduleKind> schedules{
      {"cosine", autograd::ScheduleKind::Cosine},
      {"step", autograd::ScheduleKind::Step},
      {"constant", autograd::ScheduleKind::Constant}};
  nas::train::TrainSettings& c = o.settings;
  c.data.kind = data::parse_dataset_kind(o.data);
  c.schedule = schedules.at(o.schedule);
  c.nesterov = !o.no_nesterov;
  c.evaluate_test = !o.no_test;
  // The one range check of the settings, naming the flags (train_model checks it again).
  nas::train::check_train_settings(c, flag_names({{"batch_size", "--batch"},
                                                {"warmup_epochs", "--warmup"},
                                                {"step_gamma", "--gamma"},
                                                {"bn_recalibration_batches", "--bn-batches"},
                                                {"checkpoint_every_steps", "--checkpoint-every"},
                                                {"progress_every_steps", "--progress-every"},
                                                {"out_dir", "--out"}}));
  nas::train::TrainHooks hooks;
  if (comm.is_root()) hooks.on_progress = print_progress;
  hooks.communicator = &comm;
  nas::train::TrainResult r = nas::train::train_model(c, hooks);
  if (!comm.is_root()) return;
  PICONAS_CHECK(!r.history.empty(), "train: stopped before the first epoch finished");
  const nas::train::EpochMetrics& last = r.history.back();
  std::printf("final: train accuracy %.2f%%", 100 * last.train_accuracy);
  if (!std::isnan(last.val_accuracy)) std::printf(", val accuracy %.2f%%", 100 * last.val_accuracy);
  if (r.has_test) std::printf(", test accuracy %.2f%% (%lld images)", 100 * r.test.accuracy, static_cast<long long>(r.test.count));
  std::printf("\nbest epoch %lld (accuracy %.2f%%): %s\nlast: %s\nmetrics: %s\nsummary: %s\n",
              static_cast<long long>(r.best_epoch), 100 * r.best_accuracy, r.best_checkpoint.c_str(),
              r.last_checkpoint.c_str(), r.metrics_csv.c_str(), r.summary_json.c_str());
}
}  // namespace

void register_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  nas::train::TrainSettings& c = o->settings;
  CLI::App* cmd = app.add_subcommand("train", "train an architecture on an image data set");
  CLI::Option* arch = cmd->add_option("--arch", c.arch, "architecture: a reference name, a text form or a network file")
      ->capture_default_str()
      ->transform([](std::string value) { return arch_argument(value); });
  cmd->add_option("--data", o->data, "fashion-mnist | mnist | cifar10 | folder")->capture_default_str();
  cmd->add_option("--data-path", c.data.path, "data directory (default: the system copy; required for folder)");
  cmd->add_option("--channels", c.data.channels, "convert images to 1 or 3 channels (0: native)");
  cmd->add_option_function<std::string>(
      "--resolution", [&c](const std::string& v) { data::set_resolution(c.data, v, "--resolution"); },
      "resize images to N x N or H x W (\"49x10\"; 0: native; folders: the model's)");
  cmd->add_flag("--skip-corrupt", c.data.skip_corrupt, "folders: skip unreadable images");
  cmd->add_option("--limit", c.limit, "train on a seeded random subset of this many images (0: all)");
  cmd->add_option("--epochs", c.epochs, "epochs")->capture_default_str();
  cmd->add_option("--batch", c.batch_size, "batch size")->capture_default_str();
  cmd->add_option("--lr", c.lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--no-nesterov", o->no_nesterov, "plain momentum instead of Nesterov");
  cmd->add_option("--weight-decay", c.weight_decay, "weight decay on conv and linear weights")->capture_default_str();
  cmd->add_option("--schedule", o->schedule, "cosine | step | constant")->capture_default_str()
      ->check(CLI::IsMember({"cosine", "step", "constant"}));
  cmd->add_option("--warmup", c.warmup_epochs, "linear warm-up epochs")->capture_default_str();
  cmd->add_option("--step-epochs", c.step_epochs, "step schedule: epochs between decays")->capture_default_str();
  cmd->add_option("--gamma", c.step_gamma, "step schedule: decay factor")->capture_default_str();
  cmd->add_option("--label-smoothing", c.label_smoothing, "label smoothing")->capture_default_str();
  cmd->add_option("--pad", c.augment.pad, "augmentation: padded random crop of this many pixels");
  cmd->add_flag("--flip", c.augment.horizontal_flip, "augmentation: random horizontal flips");
  cmd->add_flag("--resized-crop", c.augment.resized_crop.enabled, "augmentation: random resized crops");
  cmd->add_option("--bn-batches", c.bn_recalibration_batches,
                  "batches used to re-estimate BatchNorm statistics after each epoch (0: off)")
      ->capture_default_str();
  CLI::Option* val_fraction =
      cmd->add_option("--val-fraction", c.val_fraction, "part of the train split held out for validation")
          ->capture_default_str();
  CLI::Option* val_images = cmd->add_option(
      "--val-images", c.val_images,
      "validate on this many train-split images, the same for every --limit (a larger --limit: all the "
      "others; sets --val-fraction 0)");
  cmd->add_flag("--no-test", o->no_test, "skip the final test-split evaluation");
  cmd->add_option("--init", c.init, "start from this model checkpoint's weights (fine-tune; e.g. from piconas import)");
  cmd->add_option("--seed", c.seed, "random seed")->capture_default_str();
  cmd->add_option("--threads", c.threads, "worker threads")->capture_default_str();
  cmd->add_option("--out", c.out_dir, "output directory (checkpoints, metrics.csv, summary.json)")->required();
  cmd->add_flag("--resume", c.resume, "continue the run in --out from last.ckpt (same options required)");
  cmd->add_option("--checkpoint-every", c.checkpoint_every_steps, "also write last.ckpt every N steps (0: per epoch)");
  cmd->add_option("--progress-every", c.progress_every_steps, "print progress every N steps")
      ->capture_default_str();
  cmd->callback([o, arch, val_fraction, val_images] {
    if (val_images->count() > 0 && val_fraction->count() == 0) o->settings.val_fraction = 0;
    if (!o->settings.init.empty() && arch->count() == 0) {  // the architecture of --init
      const nlohmann::json meta = nas::load_checkpoint(o->settings.init).meta;
      PICONAS_CHECK(meta.contains("arch") && meta["arch"].is_string(),
                    "train: --init '" << o->settings.init << "' has no architecture text");
      o->settings.arch = meta["arch"].get<std::string>();
    }
    const Communicator comm = Communicator::join();
    run_on_ranks(comm, [&] { run_train(*o, comm); });
  });
}

}  // namespace piconas::apps
