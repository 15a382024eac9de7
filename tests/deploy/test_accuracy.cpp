// Slow (opt-in, ctest deploy_accuracy with -DPICONAS_SLOW_TESTS=ON): trains tiny-bench on
// Fashion-MNIST for one epoch, saves a piconas-model checkpoint, runs the export pipeline and
// checks that int8 loses at most 1.0 point of test accuracy against the float model.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "autograd/optimizer.h"
#include "core/parallel.h"
#include "data/loader.h"
#include "deploy/deploy_helpers.h"
#include "nas/checkpoint.h"
#include "nas/deploy/export.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

TEST_SUITE("accuracy" * doctest::skip()) {
  TEST_CASE("tiny-bench on Fashion-MNIST: int8 within 1.0 point of float") {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
      MESSAGE("Fashion-MNIST not installed (dataset-fashion-mnist): skipped");
      return;
    }
    set_num_threads(2);
    data::DatasetSpec spec;
    const data::Dataset train = data::load_dataset(spec);
    const data::Normalization norm = data::compute_normalization(train);
    const ArchSpec arch = tiny_bench();
    auto net = build_network(arch);
    Rng rng(1);
    net->initialize(rng);
    data::LoaderOptions lo;
    lo.batch_size = 64;
    lo.seed = 2;
    lo.drop_last = true;
    std::vector<int64_t> all(static_cast<size_t>(train.count));
    for (int64_t i = 0; i < train.count; ++i) all[static_cast<size_t>(i)] = i;
    data::Loader loader(train, all, lo, norm);
    auto params = net->parameters();
    autograd::Sgd sgd(params, autograd::SgdOptions{0.1, 0.9, true, 5e-4}, autograd::decay_weights_only(params));
    const int64_t steps = loader.num_batches();
    autograd::LrSchedule schedule{autograd::ScheduleKind::Cosine, 0.1, 0.0, steps, steps / 20};
    const auto start = std::chrono::steady_clock::now();
    loader.start_epoch(0);
    int64_t step = 0;
    while (auto batch = loader.next()) {
      sgd.set_lr(schedule.lr_at(step++));
      sgd.zero_grad();
      autograd::Variable loss = autograd::softmax_cross_entropy((*net)(autograd::Variable(batch->images)), batch->labels);
      loss.backward();
      sgd.step();
    }
    net->set_training(false);
    MESSAGE("trained 1 epoch (" << steps << " steps) in "
                                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                                << " s");
    TempDir dir;
    Checkpoint ck;
    ck.meta = {{"format", "piconas-model"}, {"version", 1}, {"arch", to_text(arch)},
               {"input", {1, 28, 28}}, {"classes", 10}, {"class_names", train.class_names},
               {"normalization", {{"mean", norm.mean}, {"std", norm.std}}}, {"epoch", 1},
               {"data", "fashion-mnist"}};
    for (auto& [name, t] : net->state()) ck.tensors.emplace_back(name, t);
    save_checkpoint(dir.str() + "/model.ckpt", ck);
    ExportOptions o;
    o.out_dir = dir.str() + "/out";
    o.calibration_images = 512;
    o.eval_images = 10000;
    const ExportReport r = export_checkpoint(dir.str() + "/model.ckpt", o);
    MESSAGE("Fashion-MNIST test (" << r.eval_images << " images): float " << 100 * r.float_accuracy
                                   << "%, int8 " << 100 * r.int8_accuracy << "%, same prediction "
                                   << 100 * r.agreement << "%");
    CHECK(r.eval_images == 10000);
    CHECK(r.float_accuracy > 0.80);
    CHECK(r.int8_accuracy >= r.float_accuracy - 0.010);
  }
}
