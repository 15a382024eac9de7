// Depthwise convolution kernels on MobileNet-style layer shapes.
// Names: BM_dw_<fwd|fwdbwd>/<C>ch_<k>x<k>_s<stride>_<size>/batch:<N>/threads:<T>.
// GFLOP/s counts 2 * MACs of the forward pass; forward+backward counts 3x that.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/depthwise_conv2d.h"

using namespace piconas;
using namespace piconas::ops;

namespace {

struct Layer {
  const char* name;
  int64_t channels, size, k, stride;
};

constexpr Layer kLayers[] = {
    {"96ch_3x3_s1_48", 96, 48, 3, 1},  {"144ch_3x3_s1_24", 144, 24, 3, 1},
    {"144ch_3x3_s2_24", 144, 24, 3, 2}, {"144ch_5x5_s1_24", 144, 24, 5, 1},
    {"144ch_7x7_s1_24", 144, 24, 7, 1},
};

std::vector<float> random_vector(int64_t n, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

void run_layer(benchmark::State& state, const Layer& layer, bool backward) {
  int64_t batch = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Conv2dParams p;
  p.stride_h = p.stride_w = layer.stride;
  p.pad_h = p.pad_w = layer.k / 2;
  p.groups = layer.channels;
  ConvShape s = conv2d_shape({batch, layer.channels, layer.size, layer.size},
                             {layer.channels, 1, layer.k, layer.k}, p);
  Rng rng(1);
  int64_t nx = batch * layer.channels * layer.size * layer.size;
  int64_t ny = batch * layer.channels * s.out_h * s.out_w;
  auto x = random_vector(nx, rng), w = random_vector(layer.channels * layer.k * layer.k, rng);
  auto b = random_vector(layer.channels, rng), dy = random_vector(ny, rng);
  std::vector<float> y(ny), dx(nx), dw(w.size()), db(b.size());
  for (auto _ : state) {
    depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
    if (backward)
      depthwise_conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  double flops = 2.0 * double(ny) * double(layer.k * layer.k) * (backward ? 3.0 : 1.0);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

void register_all() {
  for (bool backward : {false, true})
    for (const Layer& layer : kLayers) {
      std::string name = std::string(backward ? "BM_dw_fwdbwd/" : "BM_dw_fwd/") + layer.name;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&layer, backward](benchmark::State& state) {
                                     run_layer(state, layer, backward);
                                   })
          ->ArgNames({"batch", "threads"})
          ->ArgsProduct({{1, 32}, {1, 2}})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
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
