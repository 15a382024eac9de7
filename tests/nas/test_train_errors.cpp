// Model checkpoints read back with clear errors, evaluate() on a hand-made case, and the
// data-versus-model mismatch checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/checkpoint.h"
#include "nas/train/evaluate.h"
#include "nas/train/model_io.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::testing;

namespace {
Checkpoint small_model_checkpoint() {
  static const ArchSpec arch = parse_arch(kSmallArch);
  static const data::Normalization norm{{0.25f}, {0.5f}};
  auto net = build_network(arch);
  Rng rng(3);
  net->initialize(rng);
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) names.push_back(std::to_string(i));
  Checkpoint c = train::make_model_checkpoint(*net, {&arch, &norm, names, 4, "mnist"});
  for (auto& [name, t] : c.tensors) t = t.clone();  // the network dies here
  return c;
}

// Logits = the image's pixels: a K-pixel image [1, 1, K] predicts the brightest position.
class PixelsAsLogits : public autograd::Module {
 public:
  autograd::Variable forward(const autograd::Variable& x) override {
    return autograd::Variable(x.value().reshape({x.shape()[0], x.shape()[3]}).clone());
  }
  const char* kind() const override { return "pixels_as_logits"; }
};
}  // namespace

TEST_CASE("load_model: round trip restores the weights and the normalisation") {
  Checkpoint c = small_model_checkpoint();
  train::LoadedModel m = train::load_model(c, "mem");
  CHECK(to_text(m.arch) == kSmallArch);
  CHECK(m.normalization.mean == std::vector<float>{0.25f});
  CHECK(same_tensors(
      train::make_model_checkpoint(
          *m.module, {&m.arch, &m.normalization,
                      c.meta["class_names"].get<std::vector<std::string>>(), 4, "mnist"}),
      c));
}

TEST_CASE("load_model: architecture / tensor mismatches name the tensor and both shapes") {
  Checkpoint c = small_model_checkpoint();
  SUBCASE("wider block in the architecture text") {
    c.meta["arch"] = "blocks:in=1x8x8,classes=10,act=relu,stem=4k3s1|ds:k3s2c16|head=0";
    CHECK_THROWS_WITH_AS(
        train::load_model(c, "m.ckpt"),
        doctest::Contains("'blocks.0.3.weight' has shape [8, 4, 1, 1] in the checkpoint but "
                          "[16, 4, 1, 1] in the architecture"),
        Error);
  }
  SUBCASE("missing tensor") {
    c.tensors.erase(std::find_if(c.tensors.begin(), c.tensors.end(),
                                 [](const auto& e) { return e.first == "stem.0.weight"; }));
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"),
                         doctest::Contains("'stem.0.weight' [4, 1, 3, 3] of the "
                                           "architecture is missing"),
                         Error);
  }
  SUBCASE("unexpected tensor") {
    c.tensors.emplace_back("blocks.9.weight", Tensor({2, 2}));
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"),
                         doctest::Contains("'blocks.9.weight' [2, 2] is not part"), Error);
  }
  SUBCASE("not a model checkpoint, or another model format version") {
    c.meta["format"] = "something";
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"),
                         doctest::Contains("not a piconas model checkpoint"), Error);
    c.meta["format"] = "piconas-model";
    c.meta["version"] = 2;
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"),
                         doctest::Contains("model format version 2"), Error);
  }
  SUBCASE("bad architecture text or normalisation") {
    c.meta["arch"] = "blocks:in=1x8x8,classes=10,act=swish,stem=4k3s1|head=0";
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"), doctest::Contains("m.ckpt"), Error);
    c = small_model_checkpoint();
    c.meta["normalization"]["std"] = {0.5, 0.5, 0.5};
    CHECK_THROWS_WITH_AS(train::load_model(c, "m.ckpt"), doctest::Contains("normalization"), Error);
  }
}

TEST_CASE("load_model: file with a wrong version or checksum is refused with the path") {
  TempDir dir;
  std::string bytes = encode_checkpoint(small_model_checkpoint());
  std::string path = dir.file("m.ckpt");
  write_file_atomic(path, bytes);
  CHECK(train::load_model(path).arch.num_classes == 10);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  write_file_atomic(path, flipped);
  CHECK_THROWS_WITH_AS(train::load_model(path), doctest::Contains("checksum mismatch"), Error);
  std::string version = bytes;
  version[8] = 7;
  write_file_atomic(path, version);
  CHECK_THROWS_WITH_AS(train::load_model(path), doctest::Contains("version 7"), Error);
  CHECK_THROWS_WITH_AS(train::load_model(dir.file("absent.ckpt")), doctest::Contains("absent.ckpt"),
                       Error);
}

TEST_CASE("evaluate: accuracy, per-class accuracy and confusion matrix of a hand case") {
  // 3 classes; each image's brightest pixel is the prediction.
  data::Dataset d;
  d.count = 6;
  d.channels = d.height = 1;
  d.width = 3;
  d.num_classes = 3;
  d.class_names = {"a", "b", "c"};
  d.images = {9, 0, 0,  0, 9, 0,  9, 0, 0,   // truth 0, 1, 1 -> predicted 0, 1, 0
              0, 0, 9,  0, 9, 0,  0, 9, 0};  // truth 0, 1, 1 -> predicted 2, 1, 1
  d.labels = {0, 1, 1, 0, 1, 1};
  PixelsAsLogits model;
  train::EvalResult r = train::evaluate(model, d, data::Normalization::identity(1), {}, 4);
  CHECK(r.count == 6);
  CHECK(r.accuracy == doctest::Approx(4.0 / 6));
  CHECK(r.confusion == std::vector<int64_t>{1, 0, 1,  1, 3, 0,  0, 0, 0});
  CHECK(r.per_class_accuracy[0] == doctest::Approx(0.5));
  CHECK(r.per_class_accuracy[1] == doctest::Approx(0.75));
  CHECK(std::isnan(r.per_class_accuracy[2]));
  CHECK(model.training());  // restored
  nlohmann::json j = train::eval_result_json(r, d.class_names);
  CHECK(j["confusion_matrix"] == nlohmann::json({{1, 0, 1}, {1, 3, 0}, {0, 0, 0}}));
  CHECK(j["per_class"][2]["accuracy"].is_null());
  // A subset of indices.
  train::EvalResult sub = train::evaluate(model, d, data::Normalization::identity(1), {1, 4}, 256);
  CHECK(sub.accuracy == 1.0);
  CHECK(sub.count == 2);
}

TEST_CASE("train: a data set whose channels, resolution or classes do not fit the model is refused") {
  TempDir root;
  train::TrainSettings config = small_config(root, "run");
  config.arch = "blocks:in=1x28x28,classes=10,act=relu,stem=4k3s1|head=0";
  CHECK_THROWS_WITH_AS(train::train_model(config),
                       doctest::Contains("has 1x8x8 images (channels x height x width) but the "
                                         "model expects 1x28x28"),
                       Error);
  config.arch = "blocks:in=3x8x8,classes=10,act=relu,stem=4k3s1|head=0";
  CHECK_THROWS_WITH_AS(train::train_model(config), doctest::Contains("expects 3x8x8"), Error);
  config.arch = "blocks:in=1x8x8,classes=3,act=relu,stem=4k3s1|head=0";
  CHECK_THROWS_WITH_AS(train::train_model(config),
                       doctest::Contains("has 10 classes but the model has 3"), Error);
  config.arch = "blocks:in=3x16x16,classes=10,act=relu,stem=4k3s1|head=0";
  config.data.channels = 3;  // converting the data makes it fit
  config.data.resolution = 16;
  config.epochs = 1;
  CHECK(train::train_model(config).completed);
}

TEST_CASE("predicted_classes: arg-max per row, ties to the lower class, float and double") {
  CHECK(train::predicted_classes(Tensor::from_values({2, 3}, {1, 5, 5, -1, -2, -0.5})) ==
        std::vector<int32_t>{1, 2});
  CHECK(train::predicted_classes(Tensor::from_values({1, 2}, {3, 3}, DType::F64)) ==
        std::vector<int32_t>{0});
  CHECK_THROWS_AS(train::predicted_classes(Tensor({4})), Error);
}

TEST_CASE("recalibrate_batchnorm: running statistics become the average batch statistics") {
  // Four 1x1x1 images 0, 0.2, 0.4, 0.8 (after / 255): mean 0.35, unbiased variance 0.35 / 3.
  data::Dataset d;
  d.count = 4;
  d.channels = d.height = d.width = 1;
  d.num_classes = 1;
  d.class_names = {"x"};
  d.images = {0, 51, 102, 204};
  d.labels = {0, 0, 0, 0};
  autograd::Sequential net;
  auto bn = net.add(std::make_shared<autograd::BatchNorm2d>(1));
  net.set_training(false);
  const std::vector<int64_t> all{0, 1, 2, 3};
  CHECK(train::recalibrate_batchnorm(net, d, data::Normalization::identity(1), all, 4, 1, 9, 0) ==
        4);
  CHECK(bn->state.running_mean.get(0) == doctest::Approx(0.35));
  CHECK(bn->state.running_var.get(0) == doctest::Approx(0.35 / 3));
  CHECK(bn->state.momentum == 0.1);
  CHECK_FALSE(net.training());
  // Two batches of two: the mean of the batch means is the overall mean whatever the order.
  CHECK(train::recalibrate_batchnorm(net, d, data::Normalization::identity(1), all, 2, 5, 9, 1) ==
        4);
  CHECK(bn->state.running_mean.get(0) == doctest::Approx(0.35));
}
