// Whole-network training and inference on the two reference networks (docs/architecture_text.md).
// BM_train_step/<net>/batch:<N>/threads:<T>: one SGD step (forward, softmax cross-entropy,
//   backward, Nesterov SGD update with weight decay), counter images/s.
// BM_infer/mbv2-bench/batch:1/threads:<T>: eval-mode forward under NoGradGuard (latency).
// Wall time is measured (UseRealTime); the CPU column is the CPU time of the whole process
// (MeasureProcessCPUTime), so CPU/Time shows how many cores were really used.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/optimizer.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"

using namespace piconas;

namespace {

struct Setup {
  std::shared_ptr<autograd::Sequential> net;
  Tensor images;
  std::vector<int32_t> labels;
};

Setup make_setup(const std::string& arch_name, int64_t batch) {
  nas::ArchSpec spec = nas::parse_arch(arch_name);
  Setup s;
  s.net = nas::build_network(spec);
  Rng rng(1);
  s.net->initialize(rng);
  s.images = Tensor({batch, spec.input.c, spec.input.h, spec.input.w});
  fill_normal(s.images, rng, 0.0, 1.0);
  for (int64_t i = 0; i < batch; ++i)
    s.labels.push_back(static_cast<int32_t>(rng.uniform_int(0, spec.num_classes - 1)));
  return s;
}

void BM_train_step(benchmark::State& state, const std::string& arch_name) {
  const int64_t batch = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Setup s = make_setup(arch_name, batch);
  s.net->set_training(true);
  std::vector<autograd::Variable> params = s.net->parameters();
  autograd::Sgd sgd(params, {0.01, 0.9, true, 5e-4}, autograd::decay_weights_only(params));
  autograd::Variable input(s.images);
  for (auto _ : state) {
    sgd.zero_grad();
    autograd::Variable logits = (*s.net)(input);
    autograd::Variable loss = autograd::softmax_cross_entropy(logits, s.labels, 0.0);
    loss.backward();
    sgd.step();
    benchmark::DoNotOptimize(loss.value().raw_data());
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_infer(benchmark::State& state, const std::string& arch_name) {
  const int64_t batch = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Setup s = make_setup(arch_name, batch);
  s.net->set_training(false);
  autograd::NoGradGuard no_grad;
  autograd::Variable input(s.images);
  for (auto _ : state) {
    autograd::Variable logits = (*s.net)(input);
    benchmark::DoNotOptimize(logits.value().raw_data());
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

void common(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "threads"})->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK_CAPTURE(BM_train_step, tiny-bench, std::string("tiny-bench"))
    ->Apply(common)->Args({64, 1})->Args({64, 2});
BENCHMARK_CAPTURE(BM_train_step, mbv2-bench, std::string("mbv2-bench"))
    ->Apply(common)->Args({32, 1})->Args({32, 2});
BENCHMARK_CAPTURE(BM_infer, mbv2-bench, std::string("mbv2-bench"))
    ->Apply(common)->Args({1, 1})->Args({1, 2});

BENCHMARK_MAIN();
