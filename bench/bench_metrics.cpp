// Training-free scoring speed (nas/metrics/score.h), one trial, float32 batch 64.
// BM_score/<net>/<metrics>/threads:<t>: score_network on random normalised images, including
// the re-initialisation of the weights that every trial does.
//   nets: mbv2_96 (mbv2-bench, 3x96x96), mbv2_32 (the same stages on 3x32x32),
//         tiny (tiny-bench, 1x28x28)
//   metrics: all4 = naswot + snip + synflow + jacob_cov (grad_norm and logsynflow come free),
//            at 2 and 1 threads, or one metric alone at 2 threads.
// Large tensors come from fresh mmap'ed pages (glibc's default for blocks over 32 MB), so
// page faults are a visible share of the time; running with
//   GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296
// keeps freed memory in the heap and shows the kernels alone.
// Wall-clock time; the CPU column is the whole process, which helps read a loaded machine.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

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

void run_score(benchmark::State& state, const std::string& net_name,
               const std::vector<std::string>& metrics, int threads) {
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
  for (auto _ : state) {
    metrics::MetricValues v = score_network(*net, data, metrics, 1, seed++);
    benchmark::DoNotOptimize(v);
  }
}

void register_all() {
  const std::vector<std::string> all4{"naswot", "snip", "synflow", "jacob_cov"};
  for (const char* net : {"mbv2_96", "mbv2_32", "tiny"}) {
    for (int threads : {2, 1})
      benchmark::RegisterBenchmark(
          (std::string("BM_score/") + net + "/all4/threads:" + std::to_string(threads)).c_str(),
          [=](benchmark::State& s) { run_score(s, net, all4, threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    for (const std::string& metric : all4)
      benchmark::RegisterBenchmark((std::string("BM_score/") + net + "/" + metric + "/threads:2").c_str(),
                                   [=](benchmark::State& s) { run_score(s, net, {metric}, 2); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
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
