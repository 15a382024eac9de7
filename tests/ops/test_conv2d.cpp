#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/conv2d.h"
#include "ops/conv2d_direct.h"
#include "ops/conv2d_pointwise.h"

using namespace piconas;
using namespace piconas::ops;

namespace {

struct Case {
  const char* name;
  Shape x, w;
  Conv2dParams p;
};

Conv2dParams params(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
  return {stride, stride, pad, pad, dilation, dilation, groups};
}

// "same" padding of an even kernel: more zeros after the image than before it.
Conv2dParams asymmetric(int64_t stride, int64_t top, int64_t left, int64_t bottom, int64_t right,
                        int64_t groups = 1) {
  Conv2dParams p = params(stride, 0, 1, groups);
  p.pad_h = top;
  p.pad_w = left;
  p.pad_h_end = bottom;
  p.pad_w_end = right;
  return p;
}

// Awkward shapes: batch 1 and 3 (images cut between the kernels' parts), 9 and 11 (parts of
// one or two whole images: ops/conv2d_gemm.cpp split_rows), sizes 1 and odd, non-square,
// stride 2, padding, dilation 2, groups 2 and 4, 1x1, kernels 3/5/7, and one large enough to
// be cut into column tiles.
std::vector<Case> awkward_cases() {
  Conv2dParams mixed{2, 1, 0, 1, 1, 2, 1};  // stride 2x1, pad 0x1, dilation 1x2
  return {
      {"3x3 pad1 odd non-square b1", {1, 3, 7, 5}, {4, 3, 3, 3}, params(1, 1)},
      {"3x3 stride2 pad1 b3", {3, 4, 9, 9}, {6, 4, 3, 3}, params(2, 1)},
      {"3x3 dilation2 groups2", {3, 4, 8, 11}, {8, 2, 3, 3}, params(1, 2, 2, 2)},
      {"1x1 groups4", {3, 8, 6, 6}, {4, 2, 1, 1}, params(1, 0, 1, 4)},
      {"3x3 groups3 b1", {1, 6, 7, 6}, {9, 2, 3, 3}, params(1, 1, 1, 3)},
      {"1x1 on 1x1 image", {3, 5, 1, 1}, {3, 5, 1, 1}, params(1, 0)},
      {"3x3 pad1 on 1x1 image", {1, 1, 1, 1}, {2, 1, 3, 3}, params(1, 1)},
      {"5x5 stride2 pad2", {1, 2, 13, 10}, {3, 2, 5, 5}, params(2, 2)},
      {"7x7 pad3 b3", {3, 3, 12, 9}, {5, 3, 7, 7}, params(1, 3)},
      {"3x2 kernel mixed stride/pad/dilation", {3, 3, 9, 8}, {4, 3, 3, 2}, mixed},
      {"pointwise 16->24 odd", {3, 16, 7, 9}, {24, 16, 1, 1}, params(1, 0)},
      {"pointwise 16->24 b11 whole images", {11, 16, 5, 6}, {24, 16, 1, 1}, params(1, 0)},
      // Register-blocked pointwise: 13 and 29 output channels (past blocks of 4 / 8), 77 and 65
      // columns (panels of 24 / 48, then whole and partial vectors), rows cut at batch 1.
      {"pointwise 37->13 @7x11 b2", {2, 37, 7, 11}, {13, 37, 1, 1}, params(1, 0)},
      {"pointwise 144->29 @5x13 b1", {1, 144, 5, 13}, {29, 144, 1, 1}, params(1, 0)},
      {"pointwise groups2 16->12 @9x9 b2", {2, 16, 9, 9}, {12, 8, 1, 1}, params(1, 0, 1, 2)},
      // Register-blocked dx (<= 32 input channels, >= 64 pixels): 13 dx rows, 72 columns,
      // rows cut between parts at batch 1.
      {"pointwise dx 13->40 @9x8 b3", {3, 13, 9, 8}, {40, 13, 1, 1}, params(1, 0)},
      {"pointwise dx 29->6 @8x11 b1", {1, 29, 8, 11}, {6, 29, 1, 1}, params(1, 0)},
      // Batch panel (planes below 64 pixels): 73 rows of output and 41 of dx (past blocks of
      // 4 / 8, more parts than threads), 5 * 36 = 180 and 7 * 9 = 63 columns (partial
      // vectors), a 1x1 plane at batch 1, and 8 * 7 = 56 of an odd plane.
      {"pointwise batch 41->73 @6x6 b5", {5, 41, 6, 6}, {73, 41, 1, 1}, params(1, 0)},
      {"pointwise batch 19->9 @3x3 b7", {7, 19, 3, 3}, {9, 19, 1, 1}, params(1, 0)},
      {"pointwise batch 33->17 @1x1 b1", {1, 33, 1, 1}, {17, 33, 1, 1}, params(1, 0)},
      {"pointwise batch 3->40 @1x7 b8", {8, 3, 1, 7}, {40, 3, 1, 1}, params(1, 0)},
      {"3x3 stride2 pad1 b9 whole images", {9, 4, 9, 7}, {6, 4, 3, 3}, params(2, 1)},
      {"1x1 stride2", {3, 6, 9, 7}, {5, 6, 1, 1}, params(2, 0)},
      {"3x3 tiled 48->4 @29", {2, 48, 29, 31}, {4, 48, 3, 3}, params(1, 1)},
      {"10x4 stride2 same (DS-CNN stem)", {2, 1, 49, 10}, {6, 1, 10, 4}, asymmetric(2, 4, 1, 5, 2)},
      // Direct: 17 and 33 output channels (one channel past a block of 8 / 16), output widths
      // 1, 9 and 17 (past a half and a full vector), even and odd input sizes at stride 2.
      {"direct stem 3->17 s2 @34x18", {2, 3, 34, 18}, {17, 3, 3, 3}, params(2, 1)},
      {"direct 4->33 s1 @5x33", {3, 4, 5, 33}, {33, 4, 3, 3}, params(1, 1)},
      {"direct 2->9 5x5 s2 @3x35", {1, 2, 3, 35}, {9, 2, 5, 5}, params(2, 2)},
      {"direct 1->16 2x3 s1 pad0 @4x3", {2, 1, 4, 3}, {16, 1, 2, 3}, params(1, 0)},
      {"4x2 depthwise asymmetric", {3, 4, 7, 6}, {4, 1, 4, 2}, asymmetric(1, 1, 0, 2, 1, 4)},
  };
}

template <class T>
std::vector<T> random_vector(int64_t size, Rng& rng) {
  std::vector<T> v(static_cast<size_t>(size));
  for (T& e : v) e = static_cast<T>(rng.uniform(-1.0, 1.0));
  return v;
}

template <class T>
double tolerance(double scale) {
  return (sizeof(T) == 4 ? 2e-5 : 1e-12) * (1.0 + scale);
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  double scale = 0, worst = 0;
  for (T v : want) scale = std::max(scale, std::abs(double(v)));
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
  INFO(what << ": max abs error " << worst << " (scale " << scale << ")");
  CHECK(worst <= tolerance<T>(scale) * 10);
}

template <class T>
void check_against_naive(const Case& c, ConvAlgo algo) {
  const ConvShape s = conv2d_shape(c.x, c.w, c.p);
  Rng rng(17);
  auto x = random_vector<T>(shape_numel(c.x), rng);
  auto w = random_vector<T>(shape_numel(c.w), rng);
  auto bias = random_vector<T>(s.out_channels, rng);
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  auto dy = random_vector<T>(y_size, rng);
  // Gradients start non-zero so that accumulation (+=) is checked too.
  auto dx0 = random_vector<T>(x.size(), rng), dw0 = random_vector<T>(w.size(), rng);
  auto db0 = random_vector<T>(s.out_channels, rng);
  std::string what = std::string(c.name) + " " + conv_algo_name(algo);

  std::vector<T> y_ref(y_size), y(y_size, T(123));
  conv2d_forward(s, x.data(), w.data(), bias.data(), y_ref.data(), ConvAlgo::Naive);
  conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), algo);
  check_close(y, y_ref, what + " forward");

  auto dx_ref = dx0, dw_ref = dw0, db_ref = db0, dx = dx0, dw = dw0, db = db0;
  conv2d_backward(s, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data(),
                  ConvAlgo::Naive);
  conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), algo);
  check_close(dx, dx_ref, what + " dx");
  check_close(dw, dw_ref, what + " dw");
  check_close(db, db_ref, what + " dbias");

  // Null gradients are skipped: dw alone must match too.
  auto dw_only = dw0;
  conv2d_backward<T>(s, x.data(), w.data(), dy.data(), nullptr, dw_only.data(), nullptr, algo);
  check_close(dw_only, dw_ref, what + " dw alone");
}

template <class T>
void check_all_cases() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Case& c : awkward_cases()) {
      const ConvShape s = conv2d_shape(c.x, c.w, c.p);
      CAPTURE(threads);
      check_against_naive<T>(c, ConvAlgo::Im2colGemm);
      check_against_naive<T>(c, ConvAlgo::Auto);
      if (select_conv_algo(s) == ConvAlgo::Pointwise) check_against_naive<T>(c, ConvAlgo::Pointwise);
      if (is_direct(s)) check_against_naive<T>(c, ConvAlgo::Direct);
    }
  }
  set_num_threads(2);
}

// Loss L = sum(y * r): dL/dy = r. Every element of x, w and bias is checked against central
// differences of the naive forward in float64.
void check_finite_differences(const Case& c, ConvAlgo algo) {
  const ConvShape s = conv2d_shape(c.x, c.w, c.p);
  Rng rng(5);
  auto x = random_vector<double>(shape_numel(c.x), rng);
  auto w = random_vector<double>(shape_numel(c.w), rng);
  auto bias = random_vector<double>(s.out_channels, rng);
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  auto r = random_vector<double>(y_size, rng);
  auto loss = [&]() {
    std::vector<double> y(y_size);
    conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), ConvAlgo::Naive);
    double sum = 0;
    for (int64_t i = 0; i < y_size; ++i) sum += y[i] * r[i];
    return sum;
  };
  std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0), db(bias.size(), 0.0);
  conv2d_backward(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), algo);
  const double eps = 1e-6;
  auto check = [&](std::vector<double>& param, const std::vector<double>& grad, const char* what) {
    for (size_t i = 0; i < param.size(); ++i) {
      const double saved = param[i];
      param[i] = saved + eps;
      const double up = loss();
      param[i] = saved - eps;
      const double down = loss();
      param[i] = saved;
      CAPTURE(what);
      CAPTURE(i);
      CHECK(grad[i] == doctest::Approx((up - down) / (2 * eps)).epsilon(1e-6));
    }
  };
  check(x, dx, "dx");
  check(w, dw, "dw");
  check(bias, db, "dbias");
}

}  // namespace

TEST_CASE("conv2d: optimized algorithms match naive on awkward shapes (float)") {
  check_all_cases<float>();
}

TEST_CASE("conv2d: optimized algorithms match naive on awkward shapes (double)") {
  check_all_cases<double>();
}

template <class T>
void check_pointwise_columns() {
  Rng rng(23);
  for (int64_t out : {1, 4, 5, 9, 32, 33})
    for (int64_t in : {1, 3, 144})
      for (int64_t cols : {1, 7, 8, 9, 23, 24, 25, 47, 48, 49, 50, 97}) {
        const int64_t ld = cols + 3;  // rows of a wider image: the columns past cols are kept
        auto x = random_vector<T>(in * ld, rng), w = random_vector<T>(out * in, rng);
        auto bias = random_vector<T>(out, rng);
        const auto y0 = random_vector<T>(out * ld, rng);
        for (const T* b : {static_cast<const T*>(bias.data()), static_cast<const T*>(nullptr)})
          for (PointwiseStore store : {PointwiseStore::Overwrite, PointwiseStore::Add}) {
            std::vector<T> y = y0, y_ref = y0;
            const auto packed = pack_pointwise_weights(out, in, w.data());
            pointwise_forward_columns(out, in, cols, packed.data(), b, x.data(), ld, y.data(), store);
            pointwise_forward_columns_naive(out, in, cols, w.data(), b, x.data(), ld, y_ref.data(),
                                            store);
            CAPTURE(out);
            CAPTURE(in);
            CAPTURE(cols);
            CAPTURE(b != nullptr);
            CAPTURE(store == PointwiseStore::Add);
            check_close(y, y_ref, "pointwise columns");
          }
        // The transposed packing: w^T [in][out] as the weights of an in-channel output.
        std::vector<T> w_t(static_cast<size_t>(in * out));
        for (int64_t o = 0; o < out; ++o)
          for (int64_t c = 0; c < in; ++c) w_t[static_cast<size_t>(c * out + o)] = w[o * in + c];
        CHECK(pack_pointwise_weights_transposed(out, in, w.data()) ==
              pack_pointwise_weights(in, out, w_t.data()));
      }
}

TEST_CASE("conv2d: register-blocked pointwise columns match the naive twin (float, double)") {
  check_pointwise_columns<float>();
  check_pointwise_columns<double>();
}

TEST_CASE("conv2d: im2col and col2im are adjoint, <im2col x, y> = <x, col2im y>") {
  for (const Case& c : awkward_cases()) {
    const ConvShape s = conv2d_shape(c.x, c.w, c.p);
    const int64_t image = s.in_channels * s.in_h * s.in_w;
    const int64_t col_size =
        (s.in_channels / s.groups) * s.kernel_h * s.kernel_w * s.out_h * s.out_w;
    Rng rng(3);
    auto x = random_vector<double>(image, rng);
    auto y = random_vector<double>(col_size, rng);
    for (int64_t g = 0; g < s.groups; ++g) {
      std::vector<double> col(col_size, 99.0), back(image, 0.0);
      im2col(s, g, x.data(), col.data());
      col2im(s, g, y.data(), back.data());
      double lhs = 0, rhs = 0;
      for (int64_t i = 0; i < col_size; ++i) lhs += col[i] * y[i];
      for (int64_t i = 0; i < image; ++i) rhs += x[i] * back[i];
      CAPTURE(c.name);
      CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
    }
  }
}

TEST_CASE("conv2d: finite-difference gradients of naive and optimized backward (float64)") {
  std::vector<Case> cases = {
      {"3x3 stride2 pad1 groups2", {2, 4, 5, 6}, {4, 2, 3, 3}, params(2, 1, 1, 2)},
      {"3x3 dilation2 pad2", {1, 2, 6, 5}, {3, 2, 3, 3}, params(1, 2, 2)},
      {"pointwise", {2, 3, 3, 4}, {2, 3, 1, 1}, params(1, 0)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    check_finite_differences(c, ConvAlgo::Naive);
    check_finite_differences(c, ConvAlgo::Im2colGemm);
  }
  check_finite_differences(cases[2], ConvAlgo::Pointwise);
  check_finite_differences({"direct 3->5 s2", {2, 3, 7, 6}, {5, 3, 3, 3}, params(2, 1)},
                           ConvAlgo::Direct);
}

TEST_CASE("conv2d: Direct selected for the RGB stem, bit-identical for 1, 2 and 3 threads") {
  const ConvShape s = conv2d_shape({3, 3, 30, 26}, {20, 3, 3, 3}, params(2, 1));
  CHECK(select_conv_algo(s) == ConvAlgo::Direct);
  CHECK(select_conv_algo(conv2d_shape({1, 4, 8, 8}, {8, 4, 3, 3}, params(1, 1))) ==
        ConvAlgo::Im2colGemm);  // 4 input channels: Direct only when forced
  CHECK(select_conv_algo(conv2d_shape({1, 3, 8, 8}, {8, 3, 3, 3}, params(3, 1))) ==
        ConvAlgo::Im2colGemm);  // stride 3
  Rng rng(6);
  auto x = random_vector<float>(3 * 3 * 30 * 26, rng), w = random_vector<float>(20 * 27, rng);
  auto b = random_vector<float>(20, rng);
  std::vector<std::vector<float>> ys;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> y(3 * 20 * s.out_h * s.out_w);
    conv2d_forward<float>(s, x.data(), w.data(), b.data(), y.data(), ConvAlgo::Direct);
    ys.push_back(y);
  }
  set_num_threads(2);
  CHECK(ys[0] == ys[1]);
  CHECK(ys[0] == ys[2]);
  std::vector<float> y(ys[0].size());
  CHECK_THROWS_WITH_AS(
      conv2d_forward<float>(conv2d_shape({1, 3, 8, 8}, {4, 3, 3, 3}, params(1, 1, 2)), x.data(),
                            w.data(), nullptr, y.data(), ConvAlgo::Direct),
      doctest::Contains("direct needs one group"), Error);
}

TEST_CASE("conv2d: hand-computed golden case") {
  // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], bias 0.5, stride 1, no pad:
  //   y00 = 1*1 + 2*2 + 3*4 + 4*5 = 37, y01 = 1*2 + 2*3 + 3*5 + 4*6 = 47,
  //   y10 = 1*4 + 2*5 + 3*7 + 4*8 = 67, y11 = 1*5 + 2*6 + 3*8 + 4*9 = 77, each + 0.5.
  // With dy = 1 everywhere: dbias = 4; dw[i][j] = sum of the 2x2 block at (i, j):
  //   dw = [[1+2+4+5, 2+3+5+6], [4+5+7+8, 5+6+8+9]] = [[12, 16], [24, 28]];
  //   dx[1][1] = 1+2+3+4 = 10 (in all four windows), dx[0][1] = 1+2 = 3, dx[2][2] = 4.
  // Stride 2, pad 1: taps land on x only where inside, y = [[4*1, 3*2+4*3], [2*4+4*7, 77]]
  //   = [[4, 18], [36, 77]] (no bias).
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 2, 3, 4}, bias = {0.5};
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Im2colGemm}) {
    CAPTURE(conv_algo_name(algo));
    ConvShape s = conv2d_shape({1, 1, 3, 3}, {1, 1, 2, 2}, params(1, 0));
    std::vector<double> y(4);
    conv2d_forward(s, x.data(), w.data(), bias.data(), y.data(), algo);
    CHECK(y == std::vector<double>{37.5, 47.5, 67.5, 77.5});
    std::vector<double> dy(4, 1.0), dx(9, 0.0), dw(4, 0.0), db(1, 0.0);
    conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), algo);
    CHECK(db[0] == 4.0);
    CHECK(dw == std::vector<double>{12, 16, 24, 28});
    CHECK(dx[4] == 10.0);
    CHECK(dx[1] == 3.0);
    CHECK(dx[8] == 4.0);

    ConvShape s2 = conv2d_shape({1, 1, 3, 3}, {1, 1, 2, 2}, params(2, 1));
    REQUIRE(s2.out_h == 2);
    conv2d_forward<double>(s2, x.data(), w.data(), nullptr, y.data(), algo);
    CHECK(y == std::vector<double>{4, 18, 36, 77});
  }
}

TEST_CASE("conv2d: shape errors name the shapes, algorithm selection and forcing") {
  CHECK_THROWS_WITH_AS(conv2d_shape({2, 3, 8, 8}, {4, 2, 3, 3}, params(1, 1)),
                       doctest::Contains("[2, 3, 8, 8]"), Error);
  CHECK_THROWS_WITH_AS(conv2d_shape({2, 3, 8, 8}, {4, 2, 3, 3}, params(1, 1)),
                       doctest::Contains("[4, 2, 3, 3]"), Error);
  CHECK_THROWS_WITH_AS(conv2d_shape({1, 1, 2, 2}, {1, 1, 5, 5}, params(1, 0)),
                       doctest::Contains("does not fit input [1, 1, 2, 2]"), Error);
  CHECK_THROWS_WITH_AS(conv2d_shape({3, 8, 8}, {4, 3, 3, 3}, params(1, 1)),
                       doctest::Contains("[3, 8, 8]"), Error);
  CHECK_THROWS_AS(conv2d_shape({1, 4, 8, 8}, {4, 2, 3, 3}, params(0, 1)), Error);

  ConvShape dense = conv2d_shape({1, 4, 8, 8}, {4, 4, 3, 3}, params(1, 1));
  ConvShape pointwise = conv2d_shape({1, 4, 8, 8}, {6, 4, 1, 1}, params(1, 0));
  ConvShape strided_1x1 = conv2d_shape({1, 4, 8, 8}, {6, 4, 1, 1}, params(2, 0));
  CHECK(select_conv_algo(dense) == ConvAlgo::Im2colGemm);
  CHECK(select_conv_algo(pointwise) == ConvAlgo::Pointwise);
  CHECK(select_conv_algo(strided_1x1) == ConvAlgo::Im2colGemm);
  CHECK(std::string(conv_algo_name(ConvAlgo::Im2colGemm)) == "im2col_gemm");

  std::vector<float> x(4 * 64, 1.0f), w(4 * 4 * 9, 1.0f), y(4 * 64), dx(x.size()), dw(w.size());
  CHECK_THROWS_WITH_AS(conv2d_forward<float>(dense, x.data(), w.data(), nullptr, y.data(),
                                             ConvAlgo::Pointwise),
                       doctest::Contains("pointwise needs a 1x1 kernel"), Error);
  CHECK_THROWS_WITH_AS(conv2d_backward<float>(dense, x.data(), w.data(), y.data(), dx.data(),
                                              dw.data(), nullptr, ConvAlgo::Pointwise),
                       doctest::Contains("got kernel 3x3"), Error);
  CHECK_THROWS_WITH_AS(conv2d_forward<float>(dense, x.data(), w.data(), nullptr, y.data(),
                                             ConvAlgo::Depthwise),
                       doctest::Contains("depthwise needs groups"), Error);
}

TEST_CASE("conv2d: backward is bit-reproducible for a given thread count") {
  set_num_threads(2);
  const ConvShape s = conv2d_shape({5, 6, 11, 11}, {8, 6, 3, 3}, params(1, 1));
  Rng rng(9);
  auto x = random_vector<float>(5 * 6 * 121, rng), w = random_vector<float>(8 * 6 * 9, rng);
  auto dy = random_vector<float>(5 * 8 * 121, rng);
  std::vector<float> dw1(w.size(), 0.0f), dw2(w.size(), 0.0f), db1(8, 0.0f), db2(8, 0.0f);
  conv2d_backward<float>(s, x.data(), w.data(), dy.data(), nullptr, dw1.data(), db1.data());
  conv2d_backward<float>(s, x.data(), w.data(), dy.data(), nullptr, dw2.data(), db2.data());
  CHECK(dw1 == dw2);
  CHECK(db1 == db2);
}

namespace {

// |got - want| <= rel * bound + abs_floor per element, bound = the same sum over |terms|.
template <class T>
void check_bounded(const std::vector<T>& got, const std::vector<T>& want,
                   const std::vector<double>& bound, double rel, const std::string& what) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - double(want[i]));
    worst = std::max(worst, err / (bound[i] + 1e-30));
    if (err > rel * bound[i] + 1e-30) {
      INFO(what << ": element " << i << " got " << got[i] << " want " << want[i] << " bound "
                << bound[i]);
      REQUIRE(err <= rel * bound[i]);
    }
  }
  MESSAGE(what << ": worst error / sum|terms| = " << worst);
}

std::vector<double> abs_of(const std::vector<double>& v) {
  std::vector<double> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::abs(v[i]);
  return a;
}

// Winograd against the naive twin: forward, dx and dw within rel times the sum of |terms| of
// each output (computed by the naive kernels on |x|, |w|, |dy|); dbias as usual.
template <class T>
void check_winograd(const Case& c, double rel) {
  const ConvShape s = conv2d_shape(c.x, c.w, c.p);
  Rng rng(23);
  auto xd = random_vector<double>(shape_numel(c.x), rng);
  auto wd = random_vector<double>(shape_numel(c.w), rng);
  auto bd = random_vector<double>(s.out_channels, rng);
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  auto dyd = random_vector<double>(y_size, rng);
  std::vector<T> x(xd.begin(), xd.end()), w(wd.begin(), wd.end()), b(bd.begin(), bd.end());
  std::vector<T> dy(dyd.begin(), dyd.end());
  std::vector<double> y_bound(y_size), dx_bound(x.size(), 0.0), dw_bound(w.size(), 0.0);
  auto ax = abs_of(xd), aw = abs_of(wd), ady = abs_of(dyd), ab = abs_of(bd);
  conv2d_forward(s, ax.data(), aw.data(), ab.data(), y_bound.data(), ConvAlgo::Naive);
  conv2d_backward<double>(s, ax.data(), aw.data(), ady.data(), dx_bound.data(), dw_bound.data(),
                          nullptr, ConvAlgo::Naive);
  const std::string what = std::string(c.name) + (sizeof(T) == 4 ? " float" : " double");

  std::vector<T> y_ref(y_size), y(y_size, T(7));
  conv2d_forward(s, x.data(), w.data(), b.data(), y_ref.data(), ConvAlgo::Naive);
  conv2d_forward(s, x.data(), w.data(), b.data(), y.data(), ConvAlgo::Winograd);
  check_bounded(y, y_ref, y_bound, rel, what + " forward");

  auto dx0 = random_vector<T>(x.size(), rng), dw0 = random_vector<T>(w.size(), rng);  // +=
  auto dx_ref = dx0, dx = dx0, dw_ref = dw0, dw = dw0;
  std::vector<T> db_ref(b.size()), db(b.size());
  conv2d_backward(s, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data(),
                  ConvAlgo::Naive);
  conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                  ConvAlgo::Winograd);
  for (size_t i = 0; i < dx_bound.size(); ++i) dx_bound[i] += std::abs(double(dx0[i]));
  check_bounded(dx, dx_ref, dx_bound, rel, what + " dx");
  for (size_t i = 0; i < dw_bound.size(); ++i) dw_bound[i] += std::abs(double(dw0[i]));
  check_bounded(dw, dw_ref, dw_bound, rel, what + " dw");
  check_close(db, db_ref, what + " dbias");
}

}  // namespace

TEST_CASE("conv2d: Winograd F(4x4,3x3) matches naive within 1e-4 (float) / 1e-12 (double)") {
  const std::vector<Case> cases = {
      {"pad1 1x1 image", {1, 1, 1, 1}, {2, 1, 3, 3}, params(1, 1)},
      {"pad0 odd non-square b3", {3, 3, 7, 11}, {5, 3, 3, 3}, params(1, 0)},
      {"pad1 partial tiles", {2, 8, 9, 5}, {8, 8, 3, 3}, params(1, 1)},
      {"pad2", {1, 5, 6, 6}, {3, 5, 3, 3}, params(1, 2)},
      {"pad 2x0", {2, 4, 5, 8}, {6, 4, 3, 3}, {1, 1, 2, 0, 1, 1, 1}},
      {"several blocks 32->24 @29x31", {2, 32, 29, 31}, {24, 32, 3, 3}, params(1, 1)},
      {"exact tiles 16->16 @24", {2, 16, 24, 24}, {16, 16, 3, 3}, params(1, 1)},
  };
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (const Case& c : cases) {
      CAPTURE(threads);
      check_winograd<float>(c, 1e-4);
      check_winograd<double>(c, 1e-12);
    }
  }
  set_num_threads(2);
}

// Each thread keeps its Winograd buffers from call to call: a narrow image after a wide one
// must still see zero padding (not the wide rows left in the buffers), and a repeated call
// gives the same bits whatever the calls between.
TEST_CASE("conv2d: Winograd scratch kept between calls of other shapes") {
  const Case wide{"wide 8->8 @9x37", {1, 8, 9, 37}, {8, 8, 3, 3}, params(1, 1)};
  const Case narrow{"narrow 8->16 @11x6 pad2", {2, 8, 11, 6}, {16, 8, 3, 3}, params(1, 2)};
  const ConvShape s = conv2d_shape(narrow.x, narrow.w, narrow.p);
  Rng rng(31);
  auto x = random_vector<float>(shape_numel(narrow.x), rng);
  auto w = random_vector<float>(shape_numel(narrow.w), rng);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    CAPTURE(threads);
    std::vector<float> first(s.batch * s.out_channels * s.out_h * s.out_w), again(first.size());
    conv2d_forward<float>(s, x.data(), w.data(), nullptr, first.data(), ConvAlgo::Winograd);
    check_winograd<float>(wide, 1e-4);
    check_winograd<float>(narrow, 1e-4);
    check_winograd<double>(wide, 1e-12);
    check_winograd<double>(narrow, 1e-12);
    check_winograd<float>(wide, 1e-4);
    conv2d_forward<float>(s, x.data(), w.data(), nullptr, again.data(), ConvAlgo::Winograd);
    CHECK(first == again);
  }
  set_num_threads(2);
}

TEST_CASE("conv2d: Winograd is bit-identical for 1, 2 and 3 threads, selected for 3x3 s1") {
  const ConvShape s = conv2d_shape({4, 16, 26, 22}, {16, 16, 3, 3}, params(1, 1));
  CHECK(select_conv_algo(s) == ConvAlgo::Winograd);
  CHECK(select_conv_algo(conv2d_shape({4, 16, 26, 22}, {16, 16, 3, 3}, params(2, 1))) ==
        ConvAlgo::Im2colGemm);
  CHECK(select_conv_algo(conv2d_shape({1, 16, 26, 22}, {16, 16, 3, 3}, params(1, 1))) ==
        ConvAlgo::Im2colGemm);  // 572 output pixels: too few tiles
  CHECK(select_conv_algo(conv2d_shape({4, 4, 26, 22}, {16, 4, 3, 3}, params(1, 1))) ==
        ConvAlgo::Im2colGemm);  // 4 input channels
  Rng rng(4);
  auto x = random_vector<float>(4 * 16 * 26 * 22, rng), w = random_vector<float>(16 * 16 * 9, rng);
  auto dy = random_vector<float>(4 * 16 * 26 * 22, rng);
  std::vector<std::vector<float>> ys, dxs;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> y(dy.size()), dx(x.size(), 0.0f);
    conv2d_forward<float>(s, x.data(), w.data(), nullptr, y.data(), ConvAlgo::Winograd);
    conv2d_backward<float>(s, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr,
                           ConvAlgo::Winograd);
    ys.push_back(y);
    dxs.push_back(dx);
  }
  set_num_threads(2);
  CHECK(ys[0] == ys[1]);
  CHECK(ys[0] == ys[2]);
  CHECK(dxs[0] == dxs[1]);
  CHECK(dxs[0] == dxs[2]);
  std::vector<float> y(dy.size());
  CHECK_THROWS_WITH_AS(
      conv2d_forward<float>(conv2d_shape({1, 4, 8, 8}, {4, 4, 3, 3}, params(1, 3)), x.data(),
                            w.data(), nullptr, y.data(), ConvAlgo::Winograd),
      doctest::Contains("winograd needs a 3x3 kernel"), Error);
}

// The weight gradient sums per-thread partials in chunk order: the same thread count gives
// the same bits, whatever other shapes ran in between (the partials' buffer is kept).
TEST_CASE("conv2d: Winograd dw and dbias are bit-reproducible for a given thread count") {
  const ConvShape s = conv2d_shape({3, 16, 26, 22}, {24, 16, 3, 3}, params(1, 1));
  const ConvShape other = conv2d_shape({1, 8, 9, 37}, {8, 8, 3, 3}, params(1, 0));
  Rng rng(6);
  auto x = random_vector<float>(3 * 16 * 26 * 22, rng), w = random_vector<float>(24 * 16 * 9, rng);
  auto dy = random_vector<float>(3 * 24 * 26 * 22, rng);
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    CAPTURE(threads);
    std::vector<float> dw1(w.size(), 0.5f), dw2(w.size(), 0.5f), db1(24, 0.0f), db2(24, 0.0f);
    conv2d_backward<float>(s, x.data(), w.data(), dy.data(), nullptr, dw1.data(), db1.data(),
                           ConvAlgo::Winograd);
    std::vector<float> dw_other(8 * 8 * 9, 0.0f);
    conv2d_backward<float>(other, x.data(), w.data(), dy.data(), nullptr, dw_other.data(),
                           nullptr, ConvAlgo::Winograd);
    conv2d_backward<float>(s, x.data(), w.data(), dy.data(), nullptr, dw2.data(), db2.data(),
                           ConvAlgo::Winograd);
    CHECK(dw1 == dw2);
    CHECK(db1 == db2);
  }
  set_num_threads(2);
}

TEST_CASE("conv2d: finite-difference gradients of the Winograd backward (float64)") {
  check_finite_differences({"3x3 pad1", {2, 3, 6, 5}, {4, 3, 3, 3}, params(1, 1)},
                           ConvAlgo::Winograd);
  check_finite_differences({"3x3 pad0", {1, 2, 7, 6}, {3, 2, 3, 3}, params(1, 0)},
                           ConvAlgo::Winograd);
}

TEST_CASE("conv2d: asymmetric padding equals zero-padding the image first") {
  // DS-CNN's stem: 10x4 stride 2 "same" on 49x10 -> 25x5, 4 rows above and 5 below the image,
  // 1 column left and 2 right (the second right column is never reached).
  const Shape x_shape{2, 3, 49, 10}, w_shape{5, 3, 10, 4};
  const Conv2dParams p = asymmetric(2, 4, 1, 5, 2);
  const ConvShape s = conv2d_shape(x_shape, w_shape, p);
  CHECK(s.out_h == 25);
  CHECK(s.out_w == 5);
  CHECK_FALSE(symmetric_padding(s));
  CHECK(select_conv_algo(s) == ConvAlgo::Im2colGemm);
  Rng rng(3);
  const auto x = random_vector<double>(shape_numel(x_shape), rng);
  const auto w = random_vector<double>(shape_numel(w_shape), rng);
  // The same image with its padding written out as zeros, then an unpadded convolution.
  const int64_t ph = 49 + 4 + 5, pw = 10 + 1 + 2;
  std::vector<double> padded(static_cast<size_t>(2 * 3 * ph * pw), 0.0);
  for (int64_t n = 0; n < 2 * 3; ++n)
    for (int64_t i = 0; i < 49; ++i)
      for (int64_t j = 0; j < 10; ++j)
        padded[static_cast<size_t>((n * ph + i + 4) * pw + j + 1)] =
            x[static_cast<size_t>((n * 49 + i) * 10 + j)];
  const ConvShape s0 = conv2d_shape({2, 3, ph, pw}, w_shape, params(2, 0));
  REQUIRE(s0.out_h == 25);
  REQUIRE(s0.out_w == 5);
  std::vector<double> want(static_cast<size_t>(2 * 5 * 25 * 5)), got(want.size());
  conv2d_forward<double>(s0, padded.data(), w.data(), nullptr, want.data(), ConvAlgo::Naive);
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Im2colGemm}) {
    CAPTURE(conv_algo_name(algo));
    std::fill(got.begin(), got.end(), 7.0);
    conv2d_forward<double>(s, x.data(), w.data(), nullptr, got.data(), algo);
    check_close(got, want, "asymmetric vs padded image");
  }
  CHECK_THROWS_AS(conv2d_forward<double>(s, x.data(), w.data(), nullptr, got.data(),
                                         ConvAlgo::Winograd),
                  Error);
  Conv2dParams bad = p;
  bad.pad_h_end = -2;
  CHECK_THROWS_WITH_AS(conv2d_shape(x_shape, w_shape, bad), doctest::Contains("end -2x2"), Error);
}

TEST_CASE("conv2d: finite-difference gradients with asymmetric padding (float64)") {
  const Case c{"3x2 asymmetric", {1, 2, 6, 5}, {3, 2, 3, 2}, asymmetric(2, 0, 0, 2, 1)};
  check_finite_differences(c, ConvAlgo::Naive);
  check_finite_differences(c, ConvAlgo::Im2colGemm);
}
