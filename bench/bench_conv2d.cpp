// conv2d throughput on MobileNetV2 layers at 96x96 input, float32, Auto algorithm.
// BM_conv_fwd/<layer>/batch:<n>/threads:<t>     forward only, FLOP = 2 * MACs;
// BM_conv_fwdbwd/<layer>/batch:<n>/threads:<t>  forward + backward (dx, dw, dbias),
//                                               FLOP = 3 * 2 * MACs (forward, dx, dw).
// BM_conv_<fwd|fwdbwd>_im2col/...: the same with im2col + GEMM forced, for the layers where
// Auto picks another algorithm (the selector's evidence).
// BM_pw_mbv2_<fwd|fwdbwd>/<layer>/batch:32/threads:<t>: the pointwise layers of mbv2-bench
// (bench_train's BM_train_step/mbv2-bench), one name per distinct shape (in_out_size); <layer>
// "all" runs every pointwise layer of the network once (repeated shapes as often as they occur).
// No bias, as in the network (BatchNorm follows every convolution).
// The thread count is set through piconas::set_num_threads. GFLOP/s uses wall-clock time; the
// CPU column is the whole process (all threads), which helps read runs on a loaded machine.
#include <benchmark/benchmark.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/conv2d.h"

namespace {

using namespace piconas;
using namespace piconas::ops;

struct Layer {
  const char* name;
  int64_t in_channels, size, out_channels, kernel, stride, pad;
};

const Layer kLayers[] = {
    {"stem_3x3s2_96", 3, 96, 16, 3, 2, 1},
    {"pw16_96_48", 16, 48, 96, 1, 1, 0},
    {"pw144_32_24", 144, 24, 32, 1, 1, 0},
    {"conv32_3x3_24", 32, 24, 32, 3, 1, 1},
    {"conv64_3x3_56", 64, 56, 64, 3, 1, 1},
};

// mbv2-bench's pointwise layers (piconas info mbv2-bench) and how often each shape occurs.
struct Mbv2Layer {
  Layer layer;
  int count;
};
const Mbv2Layer kMbv2Pointwise[] = {
    {{"16_96_48", 16, 48, 96, 1, 1, 0}, 2},    {{"96_16_48", 96, 48, 16, 1, 1, 0}, 1},
    {{"96_24_24", 96, 24, 24, 1, 1, 0}, 1},    {{"24_144_24", 24, 24, 144, 1, 1, 0}, 2},
    {{"144_24_24", 144, 24, 24, 1, 1, 0}, 1},  {{"144_32_12", 144, 12, 32, 1, 1, 0}, 1},
    {{"32_192_12", 32, 12, 192, 1, 1, 0}, 3},  {{"192_32_12", 192, 12, 32, 1, 1, 0}, 2},
    {{"192_64_6", 192, 6, 64, 1, 1, 0}, 1},    {{"64_384_6", 64, 6, 384, 1, 1, 0}, 4},
    {{"384_64_6", 384, 6, 64, 1, 1, 0}, 3},    {{"384_96_6", 384, 6, 96, 1, 1, 0}, 1},
    {{"96_576_6", 96, 6, 576, 1, 1, 0}, 3},    {{"576_96_6", 576, 6, 96, 1, 1, 0}, 2},
    {{"576_160_3", 576, 3, 160, 1, 1, 0}, 1},  {{"160_960_3", 160, 3, 960, 1, 1, 0}, 3},
    {{"960_160_3", 960, 3, 160, 1, 1, 0}, 2},  {{"960_320_3", 960, 3, 320, 1, 1, 0}, 1},
};

std::vector<float> random_vector(int64_t size, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(size));
  for (float& e : v) e = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

// One layer's shape and buffers, with random inputs.
struct LayerRun {
  ConvShape s;
  std::vector<float> x, w, bias, y, dy, dx, dw, db;

  bool with_bias;

  LayerRun(const Layer& layer, int64_t batch, bool bias_term) : with_bias(bias_term) {
    Conv2dParams p{layer.stride, layer.stride, layer.pad, layer.pad, 1, 1, 1};
    s = conv2d_shape({batch, layer.in_channels, layer.size, layer.size},
                     {layer.out_channels, layer.in_channels, layer.kernel, layer.kernel}, p);
    Rng rng(1);
    x = random_vector(batch * s.in_channels * s.in_h * s.in_w, rng);
    w = random_vector(s.out_channels * s.in_channels * s.kernel_h * s.kernel_w, rng);
    bias = random_vector(s.out_channels, rng);
    const int64_t y_size = batch * s.out_channels * s.out_h * s.out_w;
    y.resize(static_cast<size_t>(y_size));
    dy = random_vector(y_size, rng);
    dx.resize(x.size());
    dw.resize(w.size());
    db.resize(bias.size());
  }

  void run(bool backward, ConvAlgo algo) {
    conv2d_forward(s, x.data(), w.data(), with_bias ? bias.data() : nullptr, y.data(), algo);
    if (backward)
      conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(),
                      with_bias ? db.data() : nullptr, algo);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }

  double flop(bool backward) const {
    const double macs = double(s.batch) * s.out_channels * s.out_h * s.out_w * s.in_channels *
                        s.kernel_h * s.kernel_w;
    return 2.0 * macs * (backward ? 3.0 : 1.0);
  }
};

void run_conv(benchmark::State& state, const Layer& layer, int64_t batch, int threads,
              bool backward, ConvAlgo algo) {
  set_num_threads(threads);
  LayerRun run(layer, batch, true);
  for (auto _ : state) run.run(backward, algo);
  state.counters["GFLOP/s"] = benchmark::Counter(run.flop(backward) * double(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(conv_algo_name(algo == ConvAlgo::Auto ? select_conv_algo(run.s) : algo));
}

// Runs the layers (each `count` times) per iteration.
void run_mbv2_layers(benchmark::State& state, const std::vector<Mbv2Layer>& layers, bool backward) {
  const int64_t batch = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  std::vector<LayerRun> runs;
  double flop = 0;
  for (const Mbv2Layer& l : layers) {
    runs.emplace_back(l.layer, batch, false);
    flop += l.count * runs.back().flop(backward);
  }
  for (auto _ : state)
    for (size_t i = 0; i < runs.size(); ++i)
      for (int k = 0; k < layers[i].count; ++k) runs[i].run(backward, ConvAlgo::Auto);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

ConvAlgo auto_algo(const Layer& layer, int64_t batch) {
  Conv2dParams p{layer.stride, layer.stride, layer.pad, layer.pad, 1, 1, 1};
  return select_conv_algo(conv2d_shape({batch, layer.in_channels, layer.size, layer.size},
                                       {layer.out_channels, layer.in_channels, layer.kernel,
                                        layer.kernel},
                                       p));
}

void register_all() {
  for (ConvAlgo algo : {ConvAlgo::Auto, ConvAlgo::Im2colGemm})
    for (bool backward : {false, true})
      for (const Layer& layer : kLayers)
        for (int64_t batch : {1, 32})
          for (int threads : {1, 2}) {
            if (algo != ConvAlgo::Auto && auto_algo(layer, batch) == ConvAlgo::Im2colGemm) continue;
            std::string name = std::string(backward ? "BM_conv_fwdbwd" : "BM_conv_fwd") +
                               (algo == ConvAlgo::Auto ? "/" : "_im2col/") + layer.name +
                               "/batch:" + std::to_string(batch) +
                               "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(), [=, &layer](benchmark::State& state) {
              run_conv(state, layer, batch, threads, backward, algo);
            })->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
          }
  for (bool backward : {false, true}) {
    const std::string prefix = backward ? "BM_pw_mbv2_fwdbwd/" : "BM_pw_mbv2_fwd/";
    std::vector<std::pair<std::string, std::vector<Mbv2Layer>>> groups = {
        {"all", {std::begin(kMbv2Pointwise), std::end(kMbv2Pointwise)}}};
    for (const Mbv2Layer& l : kMbv2Pointwise) groups.push_back({l.layer.name, {{l.layer, 1}}});
    for (auto& [name, layers] : groups)
      benchmark::RegisterBenchmark((prefix + name).c_str(),
                                   [layers, backward](benchmark::State& state) {
                                     run_mbv2_layers(state, layers, backward);
                                   })
          ->ArgNames({"batch", "threads"})
          ->ArgsProduct({{32}, {1, 2}})
          ->UseRealTime()
          ->MeasureProcessCPUTime()
          ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
