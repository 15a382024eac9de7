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

struct Inputs {
  std::vector<float> x, w, b, dy;
};

Inputs random_inputs(const ConvShape& s, Rng& rng) {
  const int64_t x_size = s.batch * s.in_channels * s.in_h * s.in_w;
  const int64_t w_size = s.out_channels * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w;
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  Inputs in{random_floats(x_size, rng), random_floats(w_size, rng), {}, {}};
  in.b = random_floats(s.out_channels, rng);
  in.dy = random_floats(y_size, rng);
  return in;
}

// Forward and backward of one shape with `threads` threads; the gradients start from `start`
// (non-zero: backward accumulates).
Outputs run(const ConvShape& s, ConvAlgo algo, int threads, const Inputs& in, Outputs start) {
  const int previous = num_threads();
  set_num_threads(threads);
  start.y.assign(in.dy.size(), 0.0f);
  conv2d_forward(s, in.x.data(), in.w.data(), in.b.data(), start.y.data(), algo);
  conv2d_backward(s, in.x.data(), in.w.data(), in.dy.data(), start.dx.data(), start.dw.data(),
                  start.db.data(), algo);
  set_num_threads(previous);
  return start;
}

// Forward and backward (onto non-zero gradients) of one shape with `threads` threads.
Outputs run(const ConvShape& s, ConvAlgo algo, int threads) {
  Rng rng(17);
  const Inputs in = random_inputs(s, rng);
  Outputs start{{},
                random_floats(static_cast<int64_t>(in.x.size()), rng),
                random_floats(static_cast<int64_t>(in.w.size()), rng),
                random_floats(s.out_channels, rng)};
  return run(s, algo, threads, in, start);
}

// Images [first, first + count) of a batch of NCHW tensors with `image` elements per image.
std::vector<float> images(const std::vector<float>& v, int64_t image, int64_t first,
                          int64_t count) {
  return {v.begin() + first * image, v.begin() + (first + count) * image};
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
      // Register-blocked pointwise (<= 32 output channels, >= 64 pixels): cut images, batch 1.
      {"pointwise dx 13->40 b1", {1, 13, 9, 8}, {40, 13, 1, 1}, params(1, 0), ConvAlgo::Pointwise},
      // Batch panel (planes below 64 pixels): parts over blocks of output rows.
      {"pointwise batch 41->73 @6x6 b5", {5, 41, 6, 6}, {73, 41, 1, 1}, params(1, 0),
       ConvAlgo::Pointwise},
      {"pointwise blocked 37->13 b3", {3, 37, 9, 11}, {13, 37, 1, 1}, params(1, 0),
       ConvAlgo::Pointwise},
      {"pointwise blocked 37->13 b1", {1, 37, 9, 11}, {13, 37, 1, 1}, params(1, 0),
       ConvAlgo::Pointwise},
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

TEST_CASE("conv2d: an image gets the same output and dx in a batch and in a shard of it") {
  // A data-parallel rank runs images [n*r/R, n*(r+1)/R) of the batch (nas/train/data_parallel.h).
  // With at least as many images as parts, the parts hold whole images, so every image runs the
  // same GEMMs in a shard as in the whole batch; an image cut between parts would get GEMMs of
  // other column counts, hence other roundings, in a shard (the drift of ctest mpi_train). dw
  // and dbias sum over the images: only their grouping differs.
  struct Case {
    const char* name;
    Shape w;
    Conv2dParams p;
    ConvAlgo algo;
    int64_t size = 28;
  };
  const Case cases[] = {
      {"pointwise 16->24", {24, 16, 1, 1}, params(1, 0), ConvAlgo::Pointwise},
      // The batch panel of small planes: each image's columns sit elsewhere in a shard's panel.
      {"pointwise batch 40->72 @6x6", {72, 40, 1, 1}, params(1, 0), ConvAlgo::Pointwise, 6},
      {"im2col 3x3 s2 16->10", {10, 16, 3, 3}, params(2, 1), ConvAlgo::Im2colGemm},
      {"im2col 5x5 8->12", {12, 8, 5, 5}, params(1, 2), ConvAlgo::Im2colGemm},
      {"direct stem 3->16", {16, 3, 3, 3}, params(1, 1), ConvAlgo::Direct},
  };
  const int64_t batch = 64;
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    const ConvShape s = conv2d_shape({batch, c.w[1], c.size, c.size}, c.w, c.p);
    Rng rng(23);
    const Inputs in = random_inputs(s, rng);
    const int64_t image = s.in_channels * s.in_h * s.in_w;
    const int64_t out_image = s.out_channels * s.out_h * s.out_w;
    const Outputs zero{{},
                       std::vector<float>(in.x.size()),
                       std::vector<float>(in.w.size()),
                       std::vector<float>(s.out_channels)};
    const Outputs whole = run(s, c.algo, 2, in, zero);
    // The three shards of 64 images over 3 ranks: 21, 21 and 22 images.
    for (int64_t rank = 0; rank < 3; ++rank) {
      const int64_t first = batch * rank / 3, count = batch * (rank + 1) / 3 - first;
      CAPTURE(rank);
      const ConvShape shard = conv2d_shape({count, c.w[1], c.size, c.size}, c.w, c.p);
      const Inputs part{images(in.x, image, first, count), in.w, in.b,
                        images(in.dy, out_image, first, count)};
      const Outputs shard_zero{{}, std::vector<float>(part.x.size()), zero.dw, zero.db};
      const Outputs o = run(shard, c.algo, 2, part, shard_zero);
      CHECK(o.y == images(whole.y, out_image, first, count));
      CHECK(o.dx == images(whole.dx, image, first, count));
    }
  }
}
