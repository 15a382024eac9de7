#include "nas/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>

#include "autograd/functions.h"
#include "core/atomic_file.h"
#include "core/distributed.h"
#include "core/parallel.h"
#include "data/loader.h"
#include "data/split.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/checkpoint.h"
#include "nas/train/data_parallel.h"
#include "nas/train/epoch_metrics.h"
#include "nas/train/sgd_loop.h"

namespace piconas::nas::train {

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Fields whose stored and requested values differ ("epochs: checkpoint 5, now 10").
std::string config_differences(const nlohmann::json& stored, const nlohmann::json& now) {
  std::string out;
  for (const auto& [key, value] : now.items()) {
    nlohmann::json old = stored.contains(key) ? stored[key] : nlohmann::json();
    if (old != value) out += "\n  " + key + ": checkpoint " + old.dump() + ", now " + value.dump();
  }
  for (const auto& [key, value] : stored.items())  // keys stored only when set (init, val_images)
    if (!now.contains(key)) out += "\n  " + key + ": checkpoint " + value.dump() + ", now unset";
  return out;
}

// Everything one training run holds; train() drives it.
class TrainRun {
 public:
  TrainRun(const TrainSettings& settings, const TrainHooks& hooks)
      : settings_(settings),
        hooks_(hooks),
        comm_(hooks.communicator ? *hooks.communicator : single_),
        arch_(parse_arch(settings.arch)) {}

  TrainResult run();

 private:
  void prepare_paths();
  void load_data();
  void build_model();
  void restore(const Checkpoint& checkpoint);
  bool train_epoch(int64_t epoch, int64_t first_batch);
  bool root() const { return comm_.is_root(); }
  bool report(TrainProgress progress);
  ModelInfo model_info(int64_t epoch) const;
  void check_finite_weights() const;
  void save_last();
  void finish();
  nlohmann::json summary_json() const;

  const TrainSettings& settings_;
  const TrainHooks& hooks_;
  const Communicator single_;
  const Communicator& comm_;
  ArchSpec arch_;
  Clock::time_point start_ = Clock::now();
  TrainResult result_;
  std::string last_path_, best_path_;

  data::Dataset train_set_, test_set_;
  std::vector<int64_t> train_indices_, val_indices_;
  data::Normalization normalization_;
  std::string data_name_;

  std::shared_ptr<autograd::Sequential> net_;
  std::unique_ptr<SgdLoop> loop_;
  std::unique_ptr<data::Loader> loader_;
  autograd::LrSchedule schedule_;
  uint64_t loader_seed_ = 0, split_seed_ = 0;
  int64_t steps_per_epoch_ = 0, total_steps_ = 0;

  // Progress (checkpointed): global step, the current epoch's running sums, best model.
  int64_t global_step_ = 0;
  EpochSums epoch_sums_;
  double best_accuracy_ = -1;
  int64_t best_epoch_ = 0;
  // This process only (for throughput and ETA).
  int64_t steps_this_run_ = 0;
  double train_seconds_this_run_ = 0;
};

void TrainRun::prepare_paths() {
  if (root()) make_directories(settings_.out_dir);
  last_path_ = (fs::path(settings_.out_dir) / "last.ckpt").string();
  best_path_ = (fs::path(settings_.out_dir) / "best.ckpt").string();
  result_.last_checkpoint = last_path_;
  result_.best_checkpoint = best_path_;
  result_.metrics_csv = (fs::path(settings_.out_dir) / "metrics.csv").string();
  result_.summary_json = (fs::path(settings_.out_dir) / "summary.json").string();
}

void TrainRun::load_data() {
  data::DatasetSpec spec = data_spec_for(settings_.data, arch_);
  data_name_ = data::dataset_kind_name(spec.kind);
  spec.split = data::Split::Train;
  train_set_ = data::load_dataset(spec);
  check_data_matches(train_set_, arch_, "the train split of " + data_name_);

  if (settings_.val_images > 0) {
    PICONAS_CHECK(settings_.val_images < train_set_.count,
                  "train: " << settings_.val_images << " validation images leave none of the " << train_set_.count
                            << " images of the train split of " << data_name_ << " to train on");
    // A limit beyond the images beside the validation set trains on all of them, as a limit
    // beyond the split does without val_images.
    const int64_t train_count = std::min(settings_.limit, train_set_.count - settings_.val_images);
    split_seed_ = Rng(settings_.seed).derive(kFixedValidationStream).next_u64();
    data::SplitIndices split =
        data::split_fixed_validation(train_set_.count, settings_.val_images, train_count, split_seed_);
    train_indices_ = std::move(split.train);
    val_indices_ = std::move(split.validation);
  } else {
    std::vector<int64_t> pool(static_cast<size_t>(train_set_.count));
    std::iota(pool.begin(), pool.end(), int64_t{0});
    if (settings_.limit > 0 && settings_.limit < train_set_.count) {
      pool = data::seeded_permutation(pool, Rng(settings_.seed).derive(kSubsetStream).next_u64());
      pool.resize(static_cast<size_t>(settings_.limit));
      std::sort(pool.begin(), pool.end());
    }
    split_seed_ = Rng(settings_.seed).derive(kSplitStream).next_u64();
    data::SplitIndices split =
        data::split_train_val(static_cast<int64_t>(pool.size()), settings_.val_fraction, split_seed_);
    for (int64_t i : split.train) train_indices_.push_back(pool[i]);
    for (int64_t i : split.validation) val_indices_.push_back(pool[i]);
  }
  PICONAS_CHECK(!train_indices_.empty(), "train: no training images left after the validation split");
  normalization_ = data::compute_normalization(train_set_, train_indices_);

  bool has_test_split = spec.kind != data::DatasetKind::Folder ||
                        fs::is_directory(fs::path(spec.path) / "test");
  if (settings_.evaluate_test && has_test_split) {
    spec.split = data::Split::Test;
    test_set_ = data::load_dataset(spec);
    check_data_matches(test_set_, arch_, "the test split of " + data_name_);
  }
}

void TrainRun::build_model() {
  net_ = build_network(arch_);
  Rng weights_rng = Rng(settings_.seed).derive(kWeightsStream);
  net_->initialize(weights_rng);
  if (!settings_.init.empty()) {
    const LoadedModel init = load_model(settings_.init);
    PICONAS_CHECK(init.arch == arch_, "train: --init '" << settings_.init << "' holds another architecture ("
                                                        << excerpt(to_text(init.arch), 120) << ")");
    net_->load_state(init.module->state());
    normalization_ = init.normalization;
  }
  data::LoaderOptions loader_options;
  loader_options.batch_size = settings_.batch_size;
  loader_seed_ = Rng(settings_.seed).derive(kLoaderStream).next_u64();
  loader_options.seed = loader_seed_;
  loader_options.shuffle = true;
  // A last batch of a few images gives noisy BatchNorm statistics: drop it when there is more.
  loader_options.drop_last = static_cast<int64_t>(train_indices_.size()) >= settings_.batch_size;
  loader_options.augment = settings_.augment;
  loader_ = std::make_unique<data::Loader>(train_set_, train_indices_, loader_options, normalization_);

  steps_per_epoch_ = loader_->num_batches();
  PICONAS_CHECK(steps_per_epoch_ > 0, "train: no training step per epoch");
  total_steps_ = steps_per_epoch_ * settings_.epochs;
  schedule_.kind = settings_.schedule;
  schedule_.base_lr = settings_.lr;
  schedule_.min_lr = 0.0;
  schedule_.total_steps = total_steps_;
  schedule_.warmup_steps = static_cast<int64_t>(std::llround(settings_.warmup_epochs * steps_per_epoch_));
  schedule_.step_size = settings_.step_epochs * steps_per_epoch_;
  schedule_.gamma = settings_.step_gamma;
  autograd::SgdOptions options{settings_.lr, settings_.momentum, settings_.nesterov, settings_.weight_decay};
  loop_ = std::make_unique<SgdLoop>(*net_, options, schedule_, comm_, settings_.label_smoothing);
}

void TrainRun::restore(const Checkpoint& checkpoint) {
  const std::string source = last_path_;
  const nlohmann::json& meta = checkpoint.meta;
  PICONAS_CHECK(meta.contains("train_state"),
                "'" << source << "' holds no training state (a model-only checkpoint cannot be resumed)");
  const nlohmann::json& state = meta["train_state"];
  std::string differences = config_differences(state.at("config"), train_settings_json(settings_));
  PICONAS_CHECK(differences.empty(), "cannot resume '" << source << "': the configuration differs from the "
                                                       << "checkpoint's (pass the original options):" << differences);
  LoadedModel model = load_model(checkpoint, source);
  PICONAS_CHECK(model.normalization.mean == normalization_.mean && model.normalization.std == normalization_.std,
                "cannot resume '" << source << "': the training data changed since the checkpoint "
                                  << "(its normalisation statistics differ)");
  net_->load_state(model.module->state());
  std::vector<Tensor> optimizer;
  for (size_t i = 0;; ++i) {
    auto it = std::find_if(checkpoint.tensors.begin(), checkpoint.tensors.end(),
                           [&](const auto& entry) { return entry.first == "optimizer." + std::to_string(i); });
    if (it == checkpoint.tensors.end()) break;
    optimizer.push_back(it->second);
  }
  loop_->sgd().load_state(optimizer);
  try {
    global_step_ = state.at("global_step").get<int64_t>();
    epoch_sums_.loss_sum = state.at("epoch_loss_sum").get<double>();
    epoch_sums_.correct = state.at("epoch_correct").get<int64_t>();
    epoch_sums_.seen = state.at("epoch_seen").get<int64_t>();
    best_accuracy_ = state.at("best_accuracy").get<double>();
    best_epoch_ = state.at("best_epoch").get<int64_t>();
    for (const auto& m : state.at("history")) result_.history.push_back(metrics_from_json(m));
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + source + "': malformed training state: " + e.what());
  }
  PICONAS_CHECK(global_step_ >= 0 && global_step_ <= total_steps_,
                "'" << source << "': global step " << global_step_ << " outside [0, " << total_steps_ << "]");
  const int64_t epochs_done = global_step_ / steps_per_epoch_;
  PICONAS_CHECK(static_cast<int64_t>(result_.history.size()) == epochs_done,
                "'" << source << "': the training state is inconsistent (global step " << global_step_ << " = "
                    << epochs_done << " finished epochs, but a history of " << result_.history.size() << ")");
  PICONAS_CHECK(epoch_sums_.seen >= 0 && epoch_sums_.correct >= 0 && epoch_sums_.correct <= epoch_sums_.seen &&
                    std::isfinite(epoch_sums_.loss_sum) && best_epoch_ >= 0 && best_epoch_ <= epochs_done,
                "'" << source << "': the training state is inconsistent (epoch counters or best epoch out of range)");
}

ModelInfo TrainRun::model_info(int64_t epoch) const {
  return ModelInfo{&arch_, &normalization_, train_set_.class_names, epoch, data_name_};
}

// The update after the last finite loss may still overflow the weights: nothing non-finite is
// ever checkpointed (a resume would only diverge again, eval would print a meaningless accuracy).
void TrainRun::check_finite_weights() const {
  for (const auto& [name, tensor] : net_->state()) {
    const Tensor values = tensor.to(DType::F64);
    const double* v = values.data<double>();
    for (int64_t i = 0; i < values.numel(); ++i)
      PICONAS_CHECK(std::isfinite(v[i]), "train: weight '" << name << "' became " << v[i] << " at step "
                                                          << global_step_ << " (the run diverged; lower the "
                                                          << "learning rate " << settings_.lr << " or the weight decay "
                                                          << settings_.weight_decay << ")");
  }
}

void TrainRun::save_last() {
  check_finite_weights();
  if (!root()) return;
  Checkpoint checkpoint = make_model_checkpoint(*net_, model_info(global_step_ / steps_per_epoch_));
  if (!result_.history.empty() && !std::isnan(result_.history.back().val_accuracy))
    checkpoint.meta["val_accuracy"] = result_.history.back().val_accuracy;
  nlohmann::json history = nlohmann::json::array();
  for (const EpochMetrics& m : result_.history) history.push_back(metrics_json(m));
  checkpoint.meta["train_state"] = {
      {"global_step", global_step_},
      {"steps_per_epoch", steps_per_epoch_},
      {"epoch_loss_sum", epoch_sums_.loss_sum},
      {"epoch_correct", epoch_sums_.correct},
      {"epoch_seen", epoch_sums_.seen},
      {"best_accuracy", best_accuracy_},
      {"best_epoch", best_epoch_},
      {"seeds", {{"seed", settings_.seed}, {"loader", loader_seed_}, {"split", split_seed_}, {"weights_stream", kWeightsStream}}},
      {"threads", num_threads()},
      {"history", history},
      {"config", train_settings_json(settings_)}};
  std::vector<Tensor> optimizer = loop_->sgd().state();
  for (size_t i = 0; i < optimizer.size(); ++i)
    checkpoint.tensors.emplace_back("optimizer." + std::to_string(i), optimizer[i]);
  save_checkpoint(last_path_, checkpoint);
}

bool TrainRun::report(TrainProgress p) {
  bool go = true;
  if (hooks_.on_progress && root()) {
    p.epochs = settings_.epochs;
    p.steps_per_epoch = steps_per_epoch_;
    p.global_step = global_step_;
    p.total_steps = total_steps_;
    p.lr = loop_->sgd().lr();
    p.loss = epoch_sums_.loss();
    p.accuracy = epoch_sums_.accuracy();
    if (steps_this_run_ > 0)
      p.eta_seconds = train_seconds_this_run_ / static_cast<double>(steps_this_run_) *
                      static_cast<double>(total_steps_ - global_step_);
    go = hooks_.on_progress(p);
  }
  if (comm_.size() > 1) {  // the root's answer holds for every rank
    std::string answer(1, go ? '1' : '0');
    comm_.broadcast(answer);
    go = answer == "1";
  }
  return go;
}

// Runs the steps [first_batch, steps_per_epoch) of epoch (0-based). Returns false when the
// progress callback asked to stop (last.ckpt then holds the current step).
bool TrainRun::train_epoch(int64_t epoch, int64_t first_batch) {
  Clock::time_point epoch_start = Clock::now();
  if (first_batch == 0) epoch_sums_ = EpochSums{};
  int64_t images = 0;
  double train_seconds = 0;
  bool stop_requested = false;
  const bool finished = loop_->run_epoch(
      *loader_, epoch, first_batch, steps_per_epoch_, global_step_, epoch_sums_,
      [&](int64_t b, int64_t n, double step_seconds) {
        images += n;
        ++steps_this_run_;
        train_seconds += step_seconds;
        train_seconds_this_run_ += step_seconds;
        const bool last_step = b + 1 == steps_per_epoch_;
        if ((b + 1) % settings_.progress_every_steps == 0 || last_step) {
          TrainProgress p;
          p.kind = TrainProgress::Kind::Step;
          p.epoch = epoch + 1;
          p.step_in_epoch = b + 1;
          p.images_per_second = static_cast<double>(images) / std::max(train_seconds, 1e-9);
          if (!report(p)) {
            // At the epoch's last step the epoch is finished first, so that a checkpoint never
            // holds a completed epoch without its history entry (restore() checks this).
            stop_requested = true;
            if (!last_step) return false;
          }
        }
        if (settings_.checkpoint_every_steps > 0 &&
            global_step_ % settings_.checkpoint_every_steps == 0 && !last_step)
          save_last();
        return true;
      });
  if (!finished) {
    save_last();
    return false;
  }

  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = loop_->sgd().lr();
  m.train_loss = epoch_sums_.loss();
  m.train_accuracy = epoch_sums_.accuracy();
  m.val_loss = m.val_accuracy = std::numeric_limits<double>::quiet_NaN();
  recalibrate_batchnorm(*net_, train_set_, normalization_, train_indices_, settings_.batch_size,
                        settings_.bn_recalibration_batches, Rng(settings_.seed).derive(kBatchNormStream).next_u64(),
                        epoch);
  if (!val_indices_.empty()) {
    EvalResult val = evaluate(*net_, train_set_, normalization_, val_indices_);
    m.val_loss = val.loss;
    m.val_accuracy = val.accuracy;
  }
  m.images_per_second = static_cast<double>(images) / std::max(train_seconds, 1e-9);
  m.seconds = seconds_since(epoch_start);
  result_.history.push_back(m);

  double accuracy = val_indices_.empty() ? m.train_accuracy : m.val_accuracy;
  if (accuracy > best_accuracy_) {
    best_accuracy_ = accuracy;
    best_epoch_ = m.epoch;
    check_finite_weights();
    if (root()) {
      Checkpoint best = make_model_checkpoint(*net_, model_info(m.epoch));
      if (!val_indices_.empty()) best.meta["val_accuracy"] = m.val_accuracy;
      save_checkpoint(best_path_, best);
    }
  }
  save_last();
  if (root()) {
    write_file_atomic(result_.metrics_csv, metrics_csv(result_.history));
    write_file_atomic(result_.summary_json, summary_json().dump(2) + "\n");
  }

  TrainProgress p;
  p.kind = TrainProgress::Kind::Epoch;
  p.epoch = m.epoch;
  p.step_in_epoch = steps_per_epoch_;
  p.images_per_second = m.images_per_second;
  p.metrics = m;
  return report(p) && !stop_requested;
}

// FNV-1a over the indices' 8 little-endian bytes, as 16 hex digits: which images a set holds
// (equal for the rungs of a shortlist that share one validation set).
std::string index_fingerprint(const std::vector<int64_t>& indices) {
  uint64_t h = 14695981039346656037ull;
  for (int64_t index : indices)
    for (int byte = 0; byte < 8; ++byte) {
      h ^= (static_cast<uint64_t>(index) >> (8 * byte)) & 0xff;
      h *= 1099511628211ull;
    }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

nlohmann::json TrainRun::summary_json() const {
  nlohmann::json history = nlohmann::json::array();
  for (const EpochMetrics& m : result_.history) history.push_back(metrics_json(m));
  ArchCost cost = arch_cost(arch_);
  nlohmann::json summary = {{"arch", to_text(arch_)},
                            {"params", cost.params},
                            {"macs", cost.macs},
                            {"data", data_name_},
                            {"config", train_settings_json(settings_)},
                            {"threads", num_threads()},
                            {"train_images", train_indices_.size()},
                            {"val_images", val_indices_.size()},
                            {"val_set_fnv1a", index_fingerprint(val_indices_)},
                            {"steps_per_epoch", steps_per_epoch_},
                            {"epochs_done", result_.history.size()},
                            {"completed", global_step_ == total_steps_},
                            {"best_epoch", best_epoch_},
                            {"best_accuracy", best_accuracy_},
                            {"best_checkpoint", best_path_},
                            {"last_checkpoint", last_path_},
                            {"seconds_this_process", seconds_since(start_)},
                            {"history", history}};
  if (result_.has_test) summary["test"] = eval_result_json(result_.test, test_set_.class_names);
  return summary;
}

// Test evaluation of the final model (and of best.ckpt when it is another epoch); the
// accuracies go into the checkpoints' meta.
void TrainRun::finish() {
  if (test_set_.count > 0) {
    result_.has_test = true;
    result_.test = evaluate(*net_, test_set_, normalization_);
    Checkpoint last = load_checkpoint(last_path_);
    last.meta["test_accuracy"] = result_.test.accuracy;
    save_checkpoint(last_path_, last);
    Checkpoint best = load_checkpoint(best_path_);
    if (best_epoch_ == settings_.epochs) {
      best.meta["test_accuracy"] = result_.test.accuracy;
    } else {
      LoadedModel model = load_model(best, best_path_);
      best.meta["test_accuracy"] = evaluate(*model.module, test_set_, normalization_).accuracy;
    }
    save_checkpoint(best_path_, best);
  }
  write_file_atomic(result_.summary_json, summary_json().dump(2) + "\n");
}

TrainResult TrainRun::run() {
  check_train_settings(settings_);
  set_num_threads(settings_.threads);
  prepare_paths();
  // The root's last.ckpt, as bytes, on every rank ("": a fresh start).
  std::string checkpoint_bytes;
  if (root() && fs::exists(last_path_)) {
    PICONAS_CHECK(settings_.resume, "'" << settings_.out_dir << "' already holds a run (last.ckpt); pass resume "
                                      << "(--resume) to continue it or choose another output directory");
    checkpoint_bytes = read_file(last_path_);
  }
  comm_.broadcast(checkpoint_bytes);
  std::optional<Checkpoint> resume_from;
  if (!checkpoint_bytes.empty()) resume_from = decode_checkpoint(checkpoint_bytes, last_path_);
  load_data();
  build_model();
  if (resume_from) restore(*resume_from);
  if (root()) write_file_atomic(result_.metrics_csv, metrics_csv(result_.history));

  TrainProgress start;
  start.kind = TrainProgress::Kind::Start;
  start.epoch = global_step_ / steps_per_epoch_ + 1;
  start.resumed = resume_from.has_value();
  start.train_images = static_cast<int64_t>(train_indices_.size());
  start.val_images = static_cast<int64_t>(val_indices_.size());
  start.test_images = test_set_.count;
  if (!report(start)) return result_;

  for (int64_t epoch = global_step_ / steps_per_epoch_; epoch < settings_.epochs; ++epoch) {
    if (!train_epoch(epoch, global_step_ - epoch * steps_per_epoch_)) {
      result_.seconds = seconds_since(start_);
      result_.best_epoch = best_epoch_;
      result_.best_accuracy = best_accuracy_;
      return result_;
    }
  }
  if (root()) finish();
  result_.completed = true;
  result_.best_epoch = best_epoch_;
  result_.best_accuracy = best_accuracy_;
  result_.seconds = seconds_since(start_);
  TrainProgress done;
  done.kind = TrainProgress::Kind::Done;
  done.epoch = settings_.epochs;
  report(done);
  return result_;
}
}  // namespace

TrainResult train_model(const TrainSettings& settings, const TrainHooks& hooks) {
  return TrainRun(settings, hooks).run();
}

}  // namespace piconas::nas::train
