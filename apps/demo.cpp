// `piconas demo`: trains a tiny CNN on a synthetic 3-class image task and prints the loss
// falling — a smoke test of the engine that needs no data on disk.
#include <chrono>
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "autograd/layers.h"
#include "autograd/optimizer.h"
#include "core/parallel.h"

namespace piconas::apps {

namespace {
using namespace autograd;

struct DemoOptions {
  int steps = 200;
  int batch = 32;
  uint64_t seed = 1;
  int threads = 2;
};

std::shared_ptr<Sequential> demo_network() {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(Conv2dOptions{1, 16, 3}));
  net->add(std::make_shared<BatchNorm2d>(16));
  net->add(std::make_shared<Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{16, 16, 3, 2, -1, 1, 16}));
  net->add(std::make_shared<BatchNorm2d>(16));
  net->add(std::make_shared<Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{16, 32, 1}));
  net->add(std::make_shared<BatchNorm2d>(32));
  net->add(std::make_shared<Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<GlobalAvgPool>());
  net->add(std::make_shared<Linear>(32, 4));
  return net;
}

// Class k of 4: a bright horizontal, vertical, diagonal or anti-diagonal line at a random
// offset in a noisy 16x16 image (translation-invariant, so global pooling can separate them).
void synthetic_batch(Rng& rng, int64_t batch, Tensor& images, std::vector<int32_t>& labels) {
  const int64_t size = 16;
  images = Tensor({batch, 1, size, size});
  labels.assign(batch, 0);
  float* px = images.data<float>();
  for (int64_t n = 0; n < batch; ++n) {
    int32_t label = static_cast<int32_t>(rng.uniform_int(0, 3));
    labels[n] = label;
    int64_t offset = rng.uniform_int(-4, 4);
    for (int64_t r = 0; r < size; ++r)
      for (int64_t c = 0; c < size; ++c) {
        bool on = label == 0 ? r == size / 2 + offset
                : label == 1 ? c == size / 2 + offset
                : label == 2 ? r - c == offset
                             : r + c == size - 1 + offset;
        px[(n * size + r) * size + c] = static_cast<float>((on ? 1.0 : 0.0) + 0.4 * rng.normal());
      }
  }
}

void run_demo(const DemoOptions& o) {
  set_num_threads(o.threads);
  auto net = demo_network();
  Rng init_rng(o.seed);
  net->initialize(init_rng);
  auto params = net->parameters();
  Sgd sgd(params, SgdOptions{0.05, 0.9, true, 1e-4}, decay_weights_only(params));
  LrSchedule schedule{ScheduleKind::Cosine, 0.05, 0.0, o.steps, o.steps / 10};
  Rng data_rng = init_rng.derive(1);
  auto start = std::chrono::steady_clock::now();
  double window_loss = 0;
  int window_correct = 0, window_seen = 0;
  for (int step = 0; step < o.steps; ++step) {
    Tensor images;
    std::vector<int32_t> labels;
    synthetic_batch(data_rng, o.batch, images, labels);
    sgd.set_lr(schedule.lr_at(step));
    sgd.zero_grad();
    Variable logits = (*net)(Variable(images));
    Variable loss = softmax_cross_entropy(logits, labels);
    loss.backward();
    sgd.step();
    window_loss += loss.value().get(0);
    for (int64_t n = 0; n < o.batch; ++n) {
      int64_t best = 0;
      for (int64_t k = 1; k < 4; ++k)
        if (logits.value().get(n * 4 + k) > logits.value().get(n * 4 + best)) best = k;
      window_correct += best == labels[n];
    }
    window_seen += o.batch;
    if ((step + 1) % 20 == 0 || step + 1 == o.steps) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("step %4d/%d  loss %.4f  accuracy %5.1f%%  lr %.4f  %.0f images/s\n", step + 1,
                  o.steps, window_loss / (window_seen / o.batch), 100.0 * window_correct / window_seen,
                  sgd.lr(), (step + 1) * o.batch / seconds);
      std::fflush(stdout);
      window_loss = 0;
      window_correct = window_seen = 0;
    }
  }
}
}  // namespace

void register_demo(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "train a tiny CNN on synthetic data (engine smoke test)");
  cmd->add_option("--steps", options->steps, "training steps")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", options->batch, "batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", options->seed, "random seed");
  cmd->add_option("--threads", options->threads, "worker threads")->check(CLI::PositiveNumber);
  cmd->callback([options] { run_demo(*options); });
}

}  // namespace piconas::apps
