// Depthwise convolution kernels on MobileNet-style layer shapes.
// Names: BM_dw_<fwd|fwdbwd>/<C>ch_<k>x<k>_s<stride>_<size>/batch:<N>/threads:<T>.
// GFLOP/s counts 2 * MACs of the forward pass; forward+backward counts 3x that.
// BM_dw_mbv2_<fwd|fwdbwd>/<layer>/batch:32/threads:<T>: the depthwise layers of mbv2-bench
// (bench_train's BM_train_step/mbv2-bench), one name per distinct shape; <layer> "all" runs
// every depthwise layer of the network once (repeated shapes as often as they occur).
#include <benchmark/benchmark.h>

#include <iterator>
#include <string>
#include <utility>
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

// mbv2-bench's depthwise layers (piconas info mbv2-bench): shape and how often it occurs.
struct Mbv2Layer {
  Layer layer;
  int count;
};
constexpr Mbv2Layer kMbv2Layers[] = {
    {{"96ch_3x3_s1_48", 96, 48, 3, 1}, 1},  {{"96ch_3x3_s2_48", 96, 48, 3, 2}, 1},
    {{"144ch_3x3_s1_24", 144, 24, 3, 1}, 1}, {{"144ch_3x3_s2_24", 144, 24, 3, 2}, 1},
    {{"192ch_3x3_s1_12", 192, 12, 3, 1}, 2}, {{"192ch_3x3_s2_12", 192, 12, 3, 2}, 1},
    {{"384ch_3x3_s1_6", 384, 6, 3, 1}, 4},   {{"576ch_3x3_s1_6", 576, 6, 3, 1}, 2},
    {{"576ch_3x3_s2_6", 576, 6, 3, 2}, 1},   {{"960ch_3x3_s1_3", 960, 3, 3, 1}, 3},
};

std::vector<float> random_vector(int64_t n, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

// One layer's shape and buffers, with random inputs.
struct LayerRun {
  ConvShape s;
  std::vector<float> x, w, b, dy, y, dx, dw, db;

  LayerRun(const Layer& layer, int64_t batch) {
    Conv2dParams p;
    p.stride_h = p.stride_w = layer.stride;
    p.pad_h = p.pad_w = layer.k / 2;
    p.groups = layer.channels;
    s = conv2d_shape({batch, layer.channels, layer.size, layer.size},
                     {layer.channels, 1, layer.k, layer.k}, p);
    Rng rng(1);
    int64_t nx = batch * layer.channels * layer.size * layer.size;
    int64_t ny = batch * layer.channels * s.out_h * s.out_w;
    x = random_vector(nx, rng);
    w = random_vector(layer.channels * layer.k * layer.k, rng);
    b = random_vector(layer.channels, rng);
    dy = random_vector(ny, rng);
    y.resize(ny);
    dx.resize(nx);
    dw.resize(w.size());
    db.resize(b.size());
  }

  void run(bool backward) {
    depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
    if (backward)
      depthwise_conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }

  double flops(bool backward) const {
    return 2.0 * double(y.size()) * double(s.kernel_h * s.kernel_w) * (backward ? 3.0 : 1.0);
  }
};

// Runs the layers (each `count` times) per iteration.
void run_layers(benchmark::State& state, const std::vector<Mbv2Layer>& layers, bool backward) {
  int64_t batch = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  std::vector<LayerRun> runs;
  for (const Mbv2Layer& l : layers) runs.emplace_back(l.layer, batch);
  double flops = 0;
  for (size_t i = 0; i < runs.size(); ++i) flops += layers[i].count * runs[i].flops(backward);
  for (auto _ : state)
    for (size_t i = 0; i < runs.size(); ++i)
      for (int k = 0; k < layers[i].count; ++k) runs[i].run(backward);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

void register_all() {
  for (bool backward : {false, true})
    for (const Layer& layer : kLayers) {
      std::string name = std::string(backward ? "BM_dw_fwdbwd/" : "BM_dw_fwd/") + layer.name;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&layer, backward](benchmark::State& state) {
                                     run_layers(state, {{layer, 1}}, backward);
                                   })
          ->ArgNames({"batch", "threads"})
          ->ArgsProduct({{1, 32}, {1, 2}})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  for (bool backward : {false, true}) {
    std::string prefix = backward ? "BM_dw_mbv2_fwdbwd/" : "BM_dw_mbv2_fwd/";
    std::vector<Mbv2Layer> all(std::begin(kMbv2Layers), std::end(kMbv2Layers));
    std::vector<std::pair<std::string, std::vector<Mbv2Layer>>> groups = {{"all", all}};
    for (const Mbv2Layer& l : kMbv2Layers) groups.push_back({l.layer.name, {{l.layer, 1}}});
    for (auto& [name, layers] : groups)
      benchmark::RegisterBenchmark((prefix + name).c_str(),
                                   [layers, backward](benchmark::State& state) {
                                     run_layers(state, layers, backward);
                                   })
          ->ArgNames({"batch", "threads"})
          ->ArgsProduct({{32}, {1, 2}})
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
