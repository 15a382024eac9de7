// Trainer runs on a tiny synthetic data set: outputs, determinism, and resume equivalence
// (an interrupted run resumed from last.ckpt ends bit-identical to an uninterrupted one).
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "nas/checkpoint.h"
#include "nas/train/trainer.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::testing;

namespace {
struct Interrupt : std::runtime_error {
  Interrupt() : std::runtime_error("simulated kill") {}
};

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }
}  // namespace

TEST_CASE("train: outputs, metrics rows, summary and model meta contract") {
  TempDir root;
  train::TrainSettings config = small_config(root, "run");
  int steps = 0, epochs = 0;
  config.progress_every_steps = 1;
  train::TrainHooks hooks;
  hooks.on_progress = [&](const train::TrainProgress& p) {
    steps += p.kind == train::TrainProgress::Kind::Step;
    epochs += p.kind == train::TrainProgress::Kind::Epoch;
    return true;
  };
  train::TrainResult r = train_model(config, hooks);
  CHECK(r.completed);
  // 72 train images (96 minus 24 validation) in batches of 16 with drop_last: 4 steps/epoch.
  CHECK(steps == 8);
  CHECK(epochs == 2);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[1].val_accuracy >= 0.0);
  CHECK(r.has_test);
  CHECK(r.test.count == 30);
  CHECK(count_lines(read_file(r.metrics_csv)) == 3);
  nlohmann::json summary = nlohmann::json::parse(read_file(r.summary_json));
  CHECK(summary["completed"] == true);
  CHECK(summary["history"].size() == 2);
  CHECK(summary["test"]["count"] == 30);

  Checkpoint best = load_checkpoint(r.best_checkpoint);
  CHECK(best.meta["format"] == "piconas-model");
  CHECK(best.meta["version"] == 1);
  CHECK(best.meta["arch"] == kSmallArch);
  CHECK(best.meta["input"] == nlohmann::json({1, 8, 8}));
  CHECK(best.meta["classes"] == 10);
  CHECK(best.meta["class_names"].size() == 10);
  CHECK(best.meta["normalization"]["mean"].size() == 1);
  CHECK(best.meta["data"] == "mnist");
  CHECK(best.meta.contains("val_accuracy"));
  CHECK(best.meta.contains("test_accuracy"));
  CHECK_FALSE(best.meta.contains("train_state"));
  Checkpoint last = load_checkpoint(r.last_checkpoint);
  CHECK(last.meta["epoch"] == 2);
  CHECK(last.meta["train_state"]["global_step"] == 8);
  CHECK(last.meta["test_accuracy"] == r.test.accuracy);
  CHECK(last.tensor("optimizer.0").shape() == last.tensor("stem.0.weight").shape());

  train::LoadedModel model = train::load_model(r.last_checkpoint);
  CHECK_FALSE(model.module->training());
  CHECK(same_tensors(train::make_model_checkpoint(
                         *model.module,
                         {&model.arch, &model.normalization,
                          best.meta["class_names"].get<std::vector<std::string>>(), 0, ""}),
                     [&] {
                       Checkpoint c = last;
                       c.tensors.erase(std::remove_if(c.tensors.begin(), c.tensors.end(),
                                                      [](const auto& e) { return e.first.rfind("optimizer.", 0) == 0; }),
                                       c.tensors.end());
                       return c;
                     }()));
}

TEST_CASE("train: same seed gives identical weights, another seed different ones") {
  TempDir root;
  train::TrainSettings a = small_config(root, "a"), b = small_config(root, "b"),
                     c = small_config(root, "c");
  a.epochs = b.epochs = c.epochs = 1;
  c.seed = 6;
  train::train_model(a);
  train_model(b);
  train_model(c);
  CHECK(same_tensors(load_checkpoint(a.out_dir + "/last.ckpt"), load_checkpoint(b.out_dir + "/last.ckpt")));
  CHECK_FALSE(same_tensors(load_checkpoint(a.out_dir + "/last.ckpt"), load_checkpoint(c.out_dir + "/last.ckpt")));
}

TEST_CASE("train: 1, 2 and 3 threads give identical weights") {
  // The kernels cut every reduction over the batch into parts fixed by the size (core/parallel.h
  // fixed_part_count), never one per thread: the trajectory is the same bits for any thread count.
  TempDir root;
  std::vector<Checkpoint> last;
  for (int threads : {1, 2, 3}) {
    train::TrainSettings c = small_config(root, "t" + std::to_string(threads));
    c.epochs = 1;
    c.threads = threads;
    train::train_model(c);
    last.push_back(load_checkpoint(c.out_dir + "/last.ckpt"));
  }
  CHECK(same_tensors(last[0], last[1]));
  CHECK(same_tensors(last[0], last[2]));
}

TEST_CASE("train: resume after a kill at any point ends bit-identical to an uninterrupted run") {
  TempDir root;
  auto config_for = [&](const std::string& run) {
    train::TrainSettings c = small_config(root, run);
    c.threads = 2;  // chunked reductions: resume must reproduce them too
    return c;
  };
  train::TrainResult reference = train_model(config_for("full"));
  Checkpoint want = load_checkpoint(reference.last_checkpoint);

  // Killed right after the epoch-1 checkpoint.
  train::TrainSettings config = config_for("epoch");
  train::TrainHooks hooks;
  hooks.on_progress = [](const train::TrainProgress& p) {
    if (p.kind == train::TrainProgress::Kind::Epoch && p.epoch == 1) throw Interrupt();
    return true;
  };
  CHECK_THROWS_AS(train::train_model(config, hooks), Interrupt);
  CHECK(load_checkpoint(config.out_dir + "/last.ckpt").meta["train_state"]["global_step"] == 4);
  config.resume = true;
  train::TrainResult r = train_model(config);
  CHECK(r.completed);
  CHECK(same_tensors(load_checkpoint(r.last_checkpoint), want));
  CHECK(count_lines(read_file(r.metrics_csv)) == 3);
  CHECK(r.test.accuracy == reference.test.accuracy);

  // Killed mid-epoch, one step after a step checkpoint.
  config = config_for("step");
  config.checkpoint_every_steps = 2;
  config.progress_every_steps = 1;
  hooks.on_progress = [](const train::TrainProgress& p) {
    if (p.kind == train::TrainProgress::Kind::Step && p.global_step == 7) throw Interrupt();
    return true;
  };
  CHECK_THROWS_AS(train::train_model(config, hooks), Interrupt);
  CHECK(load_checkpoint(config.out_dir + "/last.ckpt").meta["train_state"]["global_step"] == 6);
  config.resume = true;
  r = train::train_model(config);
  CHECK(same_tensors(load_checkpoint(r.last_checkpoint), want));
  CHECK(r.history[1].train_loss == reference.history[1].train_loss);

  // Stopped cleanly by the progress callback mid-epoch, twice, then finished.
  config = config_for("stop");
  config.progress_every_steps = 1;
  hooks.on_progress = [](const train::TrainProgress& p) {
    return !(p.kind == train::TrainProgress::Kind::Step && p.global_step == 3);
  };
  CHECK_FALSE(train_model(config, hooks).completed);
  CHECK(load_checkpoint(config.out_dir + "/last.ckpt").meta["train_state"]["global_step"] == 3);
  config.resume = true;
  hooks.on_progress = [](const train::TrainProgress& p) {
    return !(p.kind == train::TrainProgress::Kind::Step && p.global_step == 5);
  };
  CHECK_FALSE(train_model(config, hooks).completed);
  r = train_model(config);
  CHECK(r.completed);
  CHECK(same_tensors(load_checkpoint(r.last_checkpoint), want));
  CHECK(same_tensors(load_checkpoint(r.best_checkpoint), load_checkpoint(reference.best_checkpoint)));
}

TEST_CASE("train: refuses to overwrite a run, and to resume with other options") {
  TempDir root;
  train::TrainSettings config = small_config(root, "run");
  config.epochs = 1;
  train::train_model(config);
  CHECK_THROWS_WITH_AS(train_model(config), doctest::Contains("--resume"), Error);
  config.resume = true;
  config.lr = 0.2;
  CHECK_THROWS_WITH_AS(train_model(config), doctest::Contains("lr: checkpoint 0.05, now 0.2"),
                       Error);
  config.lr = 0.05;
  CHECK(train_model(config).completed);  // resuming a finished run only re-evaluates it
}

TEST_CASE("train: val_images validates every limit on one fixed set, disjoint from the training images") {
  TempDir root;
  auto run = [&](const std::string& name, int64_t limit, int64_t val_images, double val_fraction) {
    train::TrainSettings c = small_config(root, name);
    c.epochs = 1;
    c.limit = limit;
    c.val_images = val_images;
    c.val_fraction = val_fraction;
    train::train_model(c);
    return nlohmann::json::parse(read_file(c.out_dir + "/summary.json"));
  };
  const nlohmann::json small = run("small", 16, 40, 0), large = run("large", 48, 40, 0),
                       all = run("all", 0, 40, 0), beyond = run("beyond", 60, 40, 0);
  CHECK(small["train_images"] == 16);  // exactly the limit: nothing of it is held out
  CHECK(large["train_images"] == 48);
  CHECK(all["train_images"] == 96 - 40);
  // A limit beyond the 56 images beside the set trains on all of them, like a limit beyond the
  // split without val_images.
  CHECK(beyond["train_images"] == 96 - 40);
  CHECK(beyond["config"]["limit"] == 60);
  for (const nlohmann::json* s : {&small, &large, &all, &beyond}) CHECK((*s)["val_images"] == 40);
  CHECK(beyond["val_set_fnv1a"] == all["val_set_fnv1a"]);
  // One validation set for every limit (what the shortlist's rungs rank on) ...
  CHECK(small["val_set_fnv1a"] == large["val_set_fnv1a"]);
  CHECK(small["val_set_fnv1a"] == all["val_set_fnv1a"]);
  CHECK(small["config"]["val_images"] == 40);
  // ... unlike a held-out fraction of each subset.
  const nlohmann::json held_16 = run("held16", 16, 0, 0.25), held_48 = run("held48", 48, 0, 0.25);
  CHECK(held_16["val_set_fnv1a"] != held_48["val_set_fnv1a"]);
  CHECK_FALSE(held_16["config"].contains("val_images"));  // older runs' configuration, unchanged
  CHECK(run("other_size", 16, 30, 0)["val_set_fnv1a"] != small["val_set_fnv1a"]);

  train::TrainSettings bad = small_config(root, "bad");
  bad.val_images = 40;  // with val_fraction 0.25
  CHECK_THROWS_WITH_AS(train_model(bad), doctest::Contains("exclude each other"), Error);
  bad.val_fraction = 0;
  bad.val_images = 96;  // the whole split
  CHECK_THROWS_WITH_AS(train_model(bad), doctest::Contains("96 validation images leave none of the 96 images"),
                       Error);
  bad.val_images = -1;
  CHECK_THROWS_WITH_AS(train_model(bad), doctest::Contains("validation images"), Error);
}

TEST_CASE("train: a val_images run resumes bit-identically and refuses another val_images") {
  TempDir root;
  auto config_for = [&](const std::string& name) {
    train::TrainSettings c = small_config(root, name);
    c.limit = 48;
    c.val_images = 40;
    c.val_fraction = 0;
    c.checkpoint_every_steps = 1;
    return c;
  };
  train::TrainSettings whole = config_for("whole");
  train::train_model(whole);
  train::TrainSettings killed = config_for("killed");
  int steps = 0;
  killed.progress_every_steps = 1;
  train::TrainHooks hooks;
  hooks.on_progress = [&](const train::TrainProgress& p) {
    if (p.kind == train::TrainProgress::Kind::Step && ++steps == 4) throw Interrupt();
    return true;
  };
  CHECK_THROWS_AS(train::train_model(killed, hooks), Interrupt);
  killed.resume = true;
  killed.val_images = 30;
  CHECK_THROWS_WITH_AS(train_model(killed), doctest::Contains("val_images"), Error);
  killed.val_images = 40;
  CHECK(train_model(killed).completed);
  CHECK(same_tensors(load_checkpoint(whole.out_dir + "/last.ckpt"), load_checkpoint(killed.out_dir + "/last.ckpt")));
}

TEST_CASE("train: resuming without the checkpoint's val_images is refused") {
  TempDir root;
  train::TrainSettings c = small_config(root, "run");
  c.epochs = 1;
  c.val_images = 40;
  c.val_fraction = 0;
  train::train_model(c);
  c.resume = true;
  c.val_images = 0;
  CHECK_THROWS_WITH_AS(train_model(c), doctest::Contains("val_images: checkpoint 40, now unset"), Error);
}
