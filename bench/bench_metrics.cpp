// Training-free scoring speed (nas/metrics/score.h), one trial, float32 batch 64.
// BM_score/<net>/<metrics>/threads:<t>: score_network on random normalised images, including
// the re-initialisation of the weights that every trial does.
//   nets: mbv2_96 (mbv2-bench, 3x96x96), mbv2_32 (the same stages on 3x32x32),
//         tiny (tiny-bench, 1x28x28)
//   metrics: all4 = naswot + snip + synflow + jacob_cov (grad_norm and logsynflow come free),
//            at 2 and 1 threads, or one metric alone at 2 threads.
// Warm: one warm-up pass (not timed) first, as a search or a long-lived process scores; the
// tensor allocator (core/allocator.h) then reuses its blocks and no page is touched for the
// first time. BM_score/<net>/all4/cold/threads:2 measures the first pass of a process instead:
// before each timed pass the allocator's cache is emptied, so every large block is mapped
// anew and faulted in. Counters per pass: minor_faults (getrusage) and main_thread_ms, the CPU
// time of the calling thread (its share of the work with the kernels spread over the threads).
// Wall-clock time; the CPU column is the whole process (every thread), which helps read a
// loaded machine.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <memory>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/parallel.h"
#include "nas/builder.h"
#include "nas/metrics/score.h"

namespace {

using namespace piconas;
using namespace piconas::nas;

ArchSpec net_spec(const std::string& name) {
  if (name == "tiny") return tiny_bench();
  ArchSpec spec = expand_mbv2(mbv2_bench());
  if (name == "mbv2_32") spec.input = {3, 32, 32};
  return spec;
}

// CPU seconds of the calling thread: with the kernels spread over the threads, its share of the
// work (a load-independent stand-in for the wall time on an idle machine; the pool's workers
// and the caller stop polling while the machine is overloaded, core/parallel.cpp).
double main_thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

int64_t minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void run_score(benchmark::State& state, const std::string& net_name,
               const std::vector<std::string>& metrics, int threads, bool cold) {
  set_num_threads(threads);
  const ArchSpec spec = net_spec(net_name);
  auto net = build_network(spec);
  const int64_t batch = 64;
  Rng rng(1);
  metrics::ScoringData data{Tensor({batch, spec.input.c, spec.input.h, spec.input.w}), {}};
  fill_normal(data.images, rng, 0.0, 1.0);
  for (int64_t i = 0; i < batch; ++i)
    data.labels.push_back(static_cast<int32_t>(rng.uniform_int(0, spec.num_classes - 1)));
  uint64_t seed = 0;
  // Google Benchmark 1.7's MinWarmUpTime applies only together with a per-benchmark MinTime
  // (it silently ran no warm-up here), so the warm-up pass is explicit.
  if (!cold) benchmark::DoNotOptimize(score_network(*net, data, metrics, 1, seed++));
  int64_t faults = 0;
  double main_ms = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      release_cached_blocks();
      state.ResumeTiming();
    }
    const int64_t before = minor_faults();
    const double main_before = main_thread_seconds();
    metrics::MetricValues v = score_network(*net, data, metrics, 1, seed++);
    main_ms += 1e3 * (main_thread_seconds() - main_before);
    faults += minor_faults() - before;
    benchmark::DoNotOptimize(v);
  }
  state.counters["minor_faults"] =
      benchmark::Counter(static_cast<double>(faults), benchmark::Counter::kAvgIterations);
  state.counters["main_thread_ms"] =
      benchmark::Counter(main_ms, benchmark::Counter::kAvgIterations);
}

void register_all() {
  const std::vector<std::string> all4{"naswot", "snip", "synflow", "jacob_cov"};
  auto add = [](const std::string& name, const std::string& net,
                const std::vector<std::string>& metrics, int threads, bool cold) {
    auto* b = benchmark::RegisterBenchmark(
        name.c_str(), [=](benchmark::State& s) { run_score(s, net, metrics, threads, cold); });
    b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
  };
  for (const char* net : {"mbv2_96", "mbv2_32", "tiny"}) {
    const std::string prefix = std::string("BM_score/") + net + "/";
    for (int threads : {2, 1})
      add(prefix + "all4/threads:" + std::to_string(threads), net, all4, threads, false);
    add(prefix + "all4/cold/threads:2", net, all4, 2, true);
    for (const std::string& metric : all4)
      add(prefix + metric + "/threads:2", net, {metric}, 2, false);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
