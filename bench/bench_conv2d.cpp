// conv2d throughput on MobileNetV2 layers at 96x96 input, float32, Auto algorithm.
// BM_conv_fwd/<layer>/batch:<n>/threads:<t>     forward only, FLOP = 2 * MACs;
// BM_conv_fwdbwd/<layer>/batch:<n>/threads:<t>  forward + backward (dx, dw, dbias),
//                                               FLOP = 3 * 2 * MACs (forward, dx, dw).
// BM_conv_<fwd|fwdbwd>_im2col/...: the same with im2col + GEMM forced, for the layers where
// Auto picks another algorithm (the selector's evidence).
// The thread count is set through piconas::set_num_threads. GFLOP/s uses wall-clock time; the
// CPU column is the whole process (all threads), which helps read runs on a loaded machine.
#include <benchmark/benchmark.h>

#include <string>
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

std::vector<float> random_vector(int64_t size, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(size));
  for (float& e : v) e = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

void run_conv(benchmark::State& state, const Layer& layer, int64_t batch, int threads,
              bool backward, ConvAlgo algo) {
  set_num_threads(threads);
  Conv2dParams p{layer.stride, layer.stride, layer.pad, layer.pad, 1, 1, 1};
  const ConvShape s = conv2d_shape({batch, layer.in_channels, layer.size, layer.size},
                                   {layer.out_channels, layer.in_channels, layer.kernel, layer.kernel}, p);
  Rng rng(1);
  auto x = random_vector(batch * s.in_channels * s.in_h * s.in_w, rng);
  auto w = random_vector(s.out_channels * s.in_channels * s.kernel_h * s.kernel_w, rng);
  auto bias = random_vector(s.out_channels, rng);
  const int64_t y_size = batch * s.out_channels * s.out_h * s.out_w;
  std::vector<float> y(y_size), dy = random_vector(y_size, rng);
  std::vector<float> dx(x.size()), dw(w.size()), db(bias.size());
  for (auto _ : state) {
    conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), algo);
    if (backward)
      conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), algo);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  const double macs = double(batch) * s.out_channels * s.out_h * s.out_w * s.in_channels *
                      s.kernel_h * s.kernel_w;
  const double flop = 2.0 * macs * (backward ? 3.0 : 1.0);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(conv_algo_name(algo == ConvAlgo::Auto ? select_conv_algo(s) : algo));
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
