// int8 kernels on MobileNet-like layer shapes: the 1x1 conv path against the generic (im2col)
// path on the same pointwise layer, a 3x3 conv and a 3x3 depthwise. Counters report MAC/s.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "ops/int8/conv2d_s8.h"
#include "ops/int8/depthwise_conv2d_s8.h"

namespace {

struct Layer {
  piconas_dims in, filter, out;
  std::vector<int8_t> x, w, y;
  std::vector<int32_t> bias, mult, shift, scratch;
};

Layer make_layer(piconas_dims in, piconas_dims filter, piconas_dims out) {
  piconas::Rng rng(1);
  Layer l{in, filter, out, {}, {}, {}, {}, {}, {}, {}};
  auto fill = [&](std::vector<int8_t>& v, int64_t n) {
    v.resize(static_cast<size_t>(n));
    for (auto& e : v) e = static_cast<int8_t>(rng.uniform_int(-128, 127));
  };
  fill(l.x, int64_t{in.n} * in.h * in.w * in.c);
  fill(l.w, int64_t{filter.n} * filter.h * filter.w * filter.c);
  l.y.resize(static_cast<size_t>(out.n) * out.h * out.w * out.c);
  l.bias.assign(static_cast<size_t>(out.c), 1000);
  l.mult.assign(static_cast<size_t>(out.c), 1395864371);
  l.shift.assign(static_cast<size_t>(out.c), -9);
  return l;
}

// 24x24xC_in -> 24x24x64, C_in = state.range(0).
void run_conv(benchmark::State& state, bool generic, int k, int pad) {
  const auto cin = static_cast<int32_t>(state.range(0));
  Layer l = make_layer({1, 24, 24, cin}, {64, k, k, cin}, {1, 24, 24, 64});
  const piconas_conv_params p{-3, 5, {1, 1}, {pad, pad}, {1, 1}, {-128, 127}};
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  const int32_t bytes =
      generic ? k * k * cin * 2 : piconas_conv2d_s8_get_buffer_size(&p, &l.in, &l.filter, &l.out);
  l.scratch.resize(static_cast<size_t>(bytes) / 4 + 1);
  const piconas_s8_context ctx{l.scratch.data(), bytes};
  for (auto _ : state) {
    const int status =
        generic ? piconas_conv2d_generic_s8(&ctx, &p, &q, &l.in, l.x.data(), &l.filter, l.w.data(),
                                            l.bias.data(), &l.out, l.y.data())
                : piconas_conv2d_s8(&ctx, &p, &q, &l.in, l.x.data(), &l.filter, l.w.data(),
                                    l.bias.data(), &l.out, l.y.data());
    if (status != 0) state.SkipWithError("conv2d_s8 refused the layer");
    benchmark::DoNotOptimize(l.y.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(24.0 * 24 * 64 * cin * k * k * state.iterations(),
                                               benchmark::Counter::kIsRate);
}

void BM_conv1x1_s8_wrapper(benchmark::State& state) { run_conv(state, false, 1, 0); }
void BM_conv1x1_s8_generic(benchmark::State& state) { run_conv(state, true, 1, 0); }
void BM_conv3x3_s8(benchmark::State& state) { run_conv(state, false, 3, 1); }

void BM_depthwise3x3_s8(benchmark::State& state) {
  Layer l = make_layer({1, 48, 48, 32}, {1, 3, 3, 32}, {1, 48, 48, 32});
  const piconas_dw_conv_params p{-3, 5, 1, {1, 1}, {1, 1}, {1, 1}, {-128, 127}};
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  for (auto _ : state) {
    if (piconas_depthwise_conv2d_s8(&p, &q, &l.in, l.x.data(), &l.filter, l.w.data(), l.bias.data(),
                                    &l.out, l.y.data()) != 0)
      state.SkipWithError("depthwise_conv2d_s8 refused the layer");
    benchmark::DoNotOptimize(l.y.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(48.0 * 48 * 32 * 9 * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_conv1x1_s8_wrapper)->Arg(32)->Arg(128);
BENCHMARK(BM_conv1x1_s8_generic)->Arg(32)->Arg(128);
BENCHMARK(BM_conv3x3_s8)->Arg(32);
BENCHMARK(BM_depthwise3x3_s8);
BENCHMARK_MAIN();
