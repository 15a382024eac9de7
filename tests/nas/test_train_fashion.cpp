// A short real run: tiny-bench on a 2000-image subset of Fashion-MNIST for one epoch must
// learn (> 60% on 1000 test images). Skipped when the data set is not installed.
#include <doctest/doctest.h>

#include <filesystem>
#include <numeric>

#include "nas/train/trainer.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;

TEST_CASE("train: tiny-bench learns Fashion-MNIST in one epoch on 2000 images") {
  const std::string path = data::default_dataset_path(data::DatasetKind::FashionMnist);
  if (!std::filesystem::exists(path + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(path + "/train-images-idx3-ubyte")) {
    MESSAGE("skipped: no Fashion-MNIST in " << path);
    return;
  }
  testing::TempDir root;
  train::TrainSettings config;
  config.arch = "tiny-bench";
  config.limit = 2000;
  config.epochs = 1;
  config.batch_size = 16;
  config.threads = 1;
  config.lr = 0.1;
  config.warmup_epochs = 0.1;
  config.val_fraction = 0;
  config.evaluate_test = false;
  config.out_dir = (root.path() / "run").string();
  train::TrainResult r = train_model(config);
  REQUIRE(r.completed);

  train::LoadedModel model = train::load_model(r.best_checkpoint);
  data::DatasetSpec spec;
  spec.split = data::Split::Test;
  data::Dataset test = data::load_dataset(spec);
  std::vector<int64_t> first(1000);
  std::iota(first.begin(), first.end(), int64_t{0});
  train::EvalResult e = train::evaluate(*model.module, test, model.normalization, first);
  MESSAGE("train accuracy " << r.history[0].train_accuracy << ", test accuracy (1000 images) " << e.accuracy);
  CHECK(e.accuracy > 0.6);
}
