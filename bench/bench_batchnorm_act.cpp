// Training-mode BatchNorm + ReLU6 on mbv2-bench shapes at batch 32: the fused op
// (ops/batchnorm2d_act.h) against the unfused composition it replaces (batchnorm2d train, then
// relu6; backward relu6 into a zero-filled buffer, then batchnorm2d into a zero-filled dx).
// BM_bn_relu6_{fused,unfused}_{fwd,bwd}/<channels>/<plane side>/threads:<T>, float32; the
// fused ones once per kernel variant (kernel:1 ByChannel, kernel:2 ChannelBlocks, where it
// applies; 0 is the automatic choice). cpu_time is the process's CPU time (all threads).
#include <benchmark/benchmark.h>

#include <cstring>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/batchnorm2d.h"
#include "ops/batchnorm2d_act.h"
#include "ops/relu6.h"

using namespace piconas;
using namespace piconas::ops;

namespace {

struct Data {
  NormShape s;
  int64_t n;
  std::vector<float> x, z, y, dy, dz, dx, gamma, beta, mean, invstd, affine, run_mean, run_var,
      dgamma, dbeta;
  explicit Data(const benchmark::State& state)
      : s{32, state.range(0), state.range(1) * state.range(1)},
        n(s.batch * s.channels * s.spatial),
        x(n),
        z(n),
        y(n),
        dy(n),
        dz(n),
        dx(n),
        gamma(s.channels, 1.5f),
        beta(s.channels, 2.0f),
        mean(s.channels),
        invstd(s.channels),
        affine(3 * s.channels),
        run_mean(s.channels),
        run_var(s.channels, 1.0f),
        dgamma(s.channels),
        dbeta(s.channels) {
    Rng rng(1);
    for (float& v : x) v = static_cast<float>(rng.uniform(-3.0, 3.0));
    for (float& v : dy) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  }
  void unfused_forward() {
    batchnorm2d_forward_train<float>(s, x.data(), gamma.data(), beta.data(), 1e-5f, 0.1f,
                                     run_mean.data(), run_var.data(), z.data(), mean.data(),
                                     invstd.data());
    relu6_forward<float>(n, z.data(), y.data());
  }
  NormKernel kernel() const { return static_cast<NormKernel>(state_kernel); }
  int64_t state_kernel = 0;
  void fused_forward() {
    batchnorm2d_act_forward<float>(s, NormActivation::ReLU6, x.data(), gamma.data(), beta.data(),
                                   1e-5f, 0.1f, run_mean.data(), run_var.data(), y.data(),
                                   mean.data(), invstd.data(), affine.data(), kernel());
  }
};

void BM_bn_relu6_unfused_fwd(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(2)));
  Data d(state);
  for (auto _ : state) d.unfused_forward();
}

void BM_bn_relu6_fused_fwd(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(2)));
  Data d(state);
  d.state_kernel = state.range(3);
  for (auto _ : state) d.fused_forward();
}

void BM_bn_relu6_unfused_bwd(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(2)));
  Data d(state);
  d.unfused_forward();
  for (auto _ : state) {
    std::memset(d.dz.data(), 0, d.dz.size() * sizeof(float));  // the fresh gradient buffers
    std::memset(d.dx.data(), 0, d.dx.size() * sizeof(float));
    relu6_backward<float>(d.n, d.z.data(), d.y.data(), d.dy.data(), d.dz.data());
    batchnorm2d_backward_train<float>(d.s, d.x.data(), d.gamma.data(), d.mean.data(),
                                      d.invstd.data(), d.dz.data(), d.dx.data(), d.dgamma.data(),
                                      d.dbeta.data());
  }
}

void BM_bn_relu6_fused_bwd(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(2)));
  Data d(state);
  d.state_kernel = state.range(3);
  d.fused_forward();
  for (auto _ : state)
    batchnorm2d_act_backward<float>(d.s, NormActivation::ReLU6, d.x.data(), d.gamma.data(),
                                    d.mean.data(), d.invstd.data(), d.affine.data(), d.dy.data(),
                                    d.dx.data(), GradWrite::Overwrite, d.dgamma.data(),
                                    d.dbeta.data(), d.kernel());
}

// mbv2-bench at 96x96: 96 channels at 48x48, 144 at 24x24, 192 at 12x12, 576 at 6x6, 960 at
// 3x3; 256 at 8x8 and 4x4 around the kernel selector's threshold (16 values).
const std::pair<int, int> kShapes[] = {{96, 48}, {144, 24}, {192, 12}, {256, 8},
                                       {576, 6}, {256, 4},  {960, 3}};

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"channels", "side", "threads"})->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
  for (int threads : {1, 2})
    for (auto [channels, side] : kShapes) b->Args({channels, side, threads});
}

void fused_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"channels", "side", "threads", "kernel"})
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime();
  for (int threads : {1, 2})
    for (auto [channels, side] : kShapes)
      for (NormKernel kernel : {NormKernel::ByChannel, NormKernel::ChannelBlocks})
        if (kernel != NormKernel::ChannelBlocks || side * side <= kChannelBlocksMaxSpatial)
          b->Args({channels, side, threads, static_cast<int>(kernel)});
}

}  // namespace

BENCHMARK(BM_bn_relu6_unfused_fwd)->Apply(shapes);
BENCHMARK(BM_bn_relu6_fused_fwd)->Apply(fused_shapes);
BENCHMARK(BM_bn_relu6_unfused_bwd)->Apply(shapes);
BENCHMARK(BM_bn_relu6_fused_bwd)->Apply(fused_shapes);

BENCHMARK_MAIN();
