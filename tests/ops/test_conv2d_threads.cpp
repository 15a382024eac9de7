// The conv kernels give the same bits for any thread count: they cut their work into parts
// fixed by the problem size (core/parallel.h fixed_part_count), so the GEMM shapes and the
// order in which weight-gradient partial sums are added never depend on the threads. Batches
// smaller and larger than the part count, images cut between parts, every algorithm that
// reduces over the batch.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/conv2d.h"

using namespace piconas;
using namespace piconas::ops;

namespace {

struct Outputs {
  std::vector<float> y, dx, dw, db;
  bool operator==(const Outputs&) const = default;
};

std::vector<float> random_floats(int64_t size, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(size));
  for (float& e : v) e = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

// Forward and backward (onto non-zero gradients) of one shape with `threads` threads.
Outputs run(const ConvShape& s, ConvAlgo algo, int threads) {
  Rng rng(17);
  const int64_t x_size = s.batch * s.in_channels * s.in_h * s.in_w;
  const int64_t w_size = s.out_channels * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w;
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  const auto x = random_floats(x_size, rng), w = random_floats(w_size, rng);
  const auto b = random_floats(s.out_channels, rng), dy = random_floats(y_size, rng);
  Outputs o{std::vector<float>(y_size), random_floats(x_size, rng), random_floats(w_size, rng),
            random_floats(s.out_channels, rng)};
  const int previous = num_threads();
  set_num_threads(threads);
  conv2d_forward(s, x.data(), w.data(), b.data(), o.y.data(), algo);
  conv2d_backward(s, x.data(), w.data(), dy.data(), o.dx.data(), o.dw.data(), o.db.data(), algo);
  set_num_threads(previous);
  return o;
}

Conv2dParams params(int64_t stride, int64_t pad) { return {stride, stride, pad, pad, 1, 1, 1}; }

}  // namespace

TEST_CASE("conv2d: forward and backward give the same bits for 1, 2 and 3 threads") {
  struct Case {
    const char* name;
    Shape x, w;
    Conv2dParams p;
    ConvAlgo algo;
  };
  const Case cases[] = {
      // 3 images x 7 rows = 21 rows in 8 parts: images cut between parts.
      {"pointwise 16->24 b3", {3, 16, 7, 9}, {24, 16, 1, 1}, params(1, 0), ConvAlgo::Pointwise},
      {"pointwise 16->24 b11", {11, 16, 5, 6}, {24, 16, 1, 1}, params(1, 0), ConvAlgo::Pointwise},
      // dx of cut images goes through the split by input channels.
      {"im2col 3x3 s2 6->10 b3", {3, 6, 9, 9}, {10, 6, 3, 3}, params(2, 1), ConvAlgo::Im2colGemm},
      {"im2col 3x3 5->7 b10", {10, 5, 6, 7}, {7, 5, 3, 3}, params(1, 1), ConvAlgo::Im2colGemm},
      {"direct stem 3->16 s2 b5", {5, 3, 18, 14}, {16, 3, 3, 3}, params(2, 1), ConvAlgo::Direct},
      {"winograd 16->24 b3", {3, 16, 26, 22}, {24, 16, 3, 3}, params(1, 1), ConvAlgo::Winograd},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    const ConvShape s = conv2d_shape(c.x, c.w, c.p);
    const Outputs one = run(s, c.algo, 1);
    const Outputs two = run(s, c.algo, 2);
    const Outputs three = run(s, c.algo, 3);
    CHECK(one.y == two.y);
    CHECK(one.y == three.y);
    CHECK(one.dx == two.dx);
    CHECK(one.dx == three.dx);
    CHECK(one.dw == two.dw);
    CHECK(one.dw == three.dw);
    CHECK(one.db == two.db);
    CHECK(one.db == three.db);
  }
}
