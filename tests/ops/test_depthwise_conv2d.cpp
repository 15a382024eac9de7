#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "ops/depthwise_conv2d.h"

using namespace piconas;
using namespace piconas::ops;

namespace {

struct DwCase {
  int64_t batch, channels, h, w, k, stride, pad, dilation;
};

ConvShape dw_shape(const DwCase& c) {
  Conv2dParams p;
  p.stride_h = p.stride_w = c.stride;
  p.pad_h = p.pad_w = c.pad;
  p.dilation_h = p.dilation_w = c.dilation;
  p.groups = c.channels;
  return conv2d_shape({c.batch, c.channels, c.h, c.w}, {c.channels, 1, c.k, c.k}, p);
}

template <class T>
std::vector<T> random_vector(int64_t n, Rng& rng) {
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(rng.uniform(-1.0, 1.0));
  return v;
}

template <class T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i])));
    worst = std::max(worst, d);
  }
  return worst;
}

// Optimized versus naive forward and every gradient. Gradients start from random values so
// that accumulation (+=) is checked, and each gradient is also computed alone (others null).
template <class T>
void check_against_naive(const ConvShape& s, bool with_bias, uint64_t seed) {
  Rng rng(seed);
  int64_t nx = s.batch * s.in_channels * s.in_h * s.in_w;
  int64_t ny = s.batch * s.out_channels * s.out_h * s.out_w;
  int64_t nw = s.out_channels * s.kernel_h * s.kernel_w;
  auto x = random_vector<T>(nx, rng), w = random_vector<T>(nw, rng);
  auto b = random_vector<T>(s.out_channels, rng), dy = random_vector<T>(ny, rng);
  const T* bias = with_bias ? b.data() : nullptr;
  double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  // dw and dbias sum batch * out_h * out_w products in a different order than the naive loop.
  double tol_sum = tol * std::sqrt(double(s.batch * s.out_h * s.out_w));

  std::vector<T> y(ny, T(7)), y_ref(ny, T(-7));
  depthwise_conv2d_forward(s, x.data(), w.data(), bias, y.data());
  depthwise_conv2d_forward_naive(s, x.data(), w.data(), bias, y_ref.data());
  CHECK(max_rel_diff(y, y_ref) < tol);

  auto dx0 = random_vector<T>(nx, rng), dw0 = random_vector<T>(nw, rng);
  auto db0 = random_vector<T>(s.out_channels, rng);
  auto dx = dx0, dw = dw0, db = db0, dx_ref = dx0, dw_ref = dw0, db_ref = db0;
  depthwise_conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  depthwise_conv2d_backward_naive(s, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                                  db_ref.data());
  CHECK(max_rel_diff(dx, dx_ref) < tol);
  CHECK(max_rel_diff(dw, dw_ref) < tol_sum);
  CHECK(max_rel_diff(db, db_ref) < tol_sum);

  auto dx_only = dx0, dw_only = dw0;
  depthwise_conv2d_backward<T>(s, x.data(), w.data(), dy.data(), dx_only.data(), nullptr, nullptr);
  depthwise_conv2d_backward<T>(s, x.data(), w.data(), dy.data(), nullptr, dw_only.data(), nullptr);
  CHECK(max_rel_diff(dx_only, dx_ref) < tol);
  CHECK(max_rel_diff(dw_only, dw_ref) < tol_sum);

  // Overwrite: dx starts as NaN and must come out as the bits of accumulating into zeros, with
  // and without dw; dw still accumulates.
  std::vector<T> dx_zero(nx, T(0)), dx_naive(nx, T(0));
  depthwise_conv2d_backward<T>(s, x.data(), w.data(), dy.data(), dx_zero.data(), nullptr, nullptr);
  depthwise_conv2d_backward_naive<T>(s, x.data(), w.data(), dy.data(), dx_naive.data(), nullptr,
                                     nullptr);
  CHECK(max_rel_diff(dx_zero, dx_naive) < tol);
  std::vector<T> dx_over(nx, std::numeric_limits<T>::quiet_NaN());
  auto dw_over = dw0;
  depthwise_conv2d_backward<T>(s, x.data(), w.data(), dy.data(), dx_over.data(), nullptr, nullptr,
                               GradWrite::Overwrite);
  CHECK(std::memcmp(dx_over.data(), dx_zero.data(), dx_zero.size() * sizeof(T)) == 0);
  std::fill(dx_over.begin(), dx_over.end(), std::numeric_limits<T>::quiet_NaN());
  depthwise_conv2d_backward<T>(s, x.data(), w.data(), dy.data(), dx_over.data(), dw_over.data(),
                               nullptr, GradWrite::Overwrite);
  CHECK(std::memcmp(dx_over.data(), dx_zero.data(), dx_zero.size() * sizeof(T)) == 0);
  CHECK(dw_over == dw_only);
}

// Sets the thread count for one scope. The boundary sweeps run on one thread: they make
// thousands of tiny calls, and waking a second thread for each would dominate their run time
// on a loaded machine; multi-threaded runs are checked separately below.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(num_threads()) { set_num_threads(threads); }
  ~ThreadCount() { set_num_threads(saved_); }

 private:
  int saved_;
};

template <class T>
void sweep(const std::vector<DwCase>& cases) {
  ThreadCount one_thread(1);
  uint64_t seed = 100;
  for (const DwCase& c : cases) {
    for (bool with_bias : {true, false}) {
      CAPTURE(c.batch);
      CAPTURE(c.channels);
      CAPTURE(c.h);
      CAPTURE(c.w);
      CAPTURE(c.k);
      CAPTURE(c.stride);
      CAPTURE(c.pad);
      CAPTURE(c.dilation);
      CAPTURE(with_bias);
      check_against_naive<T>(dw_shape(c), with_bias, ++seed);
    }
  }
}

// Boundary sizes for the specialised kernels: spatial 1, 2, odd, SIMD width +-1; pads 0..k/2
// and beyond; batch 1 and 3; channels 1 and odd.
std::vector<DwCase> specialised_cases() {
  std::vector<DwCase> cases;
  for (int64_t k : {3, 5, 7})
    for (int64_t stride : {1, 2})
      for (int64_t pad = 0; pad <= k / 2 + 2; pad += pad == k / 2 ? 2 : 1)
        for (int64_t width : {1, 2, 7, 15, 16, 17, 31, 32, 33}) {
          int64_t height = width % 3 == 0 ? 5 : width;
          if (height + 2 * pad < k || width + 2 * pad < k) continue;
          int64_t batch = width % 2 ? 3 : 1, channels = width < 16 ? 1 : 3;
          cases.push_back({batch, channels, height, width, k, stride, pad, 1});
        }
  return cases;
}

// Shapes taken by the generic path: k 1 and odd sizes without a specialisation, stride 3,
// dilation 2 (also with specialised k), plus one rectangular input.
std::vector<DwCase> generic_cases() {
  return {{2, 3, 5, 5, 1, 1, 0, 1},   {1, 3, 17, 16, 1, 2, 1, 1}, {3, 1, 9, 11, 9, 1, 4, 1},
          {1, 5, 16, 17, 3, 3, 1, 1}, {2, 3, 15, 15, 3, 1, 2, 2}, {1, 3, 33, 32, 5, 2, 4, 2},
          {3, 1, 1, 1, 3, 1, 2, 2},   {1, 2, 8, 8, 7, 1, 3, 2},   {1, 3, 12, 31, 11, 2, 5, 1}};
}

// Small planes with channel counts that are multiples of every register's lanes (float and
// double, AVX2 and AVX-512): the channel kernels of ops/depthwise_channels.h. Spatial 1..7 and
// odd, kernels 1, 3, 4, 5, 7, strides 1..3, pads 0 .. beyond k/2, dilation 1 and 2.
std::vector<DwCase> channel_cases() {
  std::vector<DwCase> cases;
  int64_t batch = 1;
  for (int64_t k : {1, 3, 4, 5, 7})
    for (int64_t stride : {1, 2, 3})
      for (int64_t dilation : {1, 2})
        for (int64_t pad = 0; pad <= k / 2 + 1; ++pad)
          for (int64_t size : {1, 2, 3, 5, 6, 7}) {
            int64_t reach = (k - 1) * dilation + 1;
            int64_t width = size == 7 ? 6 : size;  // also non-square planes
            if (width + 2 * pad < reach || (k % 2 == 0 && dilation == 2)) continue;
            batch = batch == 1 ? 3 : 1;
            cases.push_back({batch, size % 2 ? 16 : 32, size, width, k, stride, pad, dilation});
          }
  return cases;
}

// How many of the cases take the channel kernels forward and backward.
template <class T>
std::pair<int, int> channel_kernel_counts(const std::vector<DwCase>& cases) {
  int forward = 0, backward = 0;
  for (const DwCase& c : cases) {
    forward += depthwise_forward_by_channels<T>(dw_shape(c));
    backward += depthwise_backward_by_channels<T>(dw_shape(c));
  }
  return {forward, backward};
}

}  // namespace

TEST_CASE("depthwise: is_depthwise and shape errors") {
  Conv2dParams p;
  p.groups = 4;
  CHECK(is_depthwise(conv2d_shape({1, 4, 5, 5}, {4, 1, 3, 3}, p)));
  p.groups = 2;
  ConvShape grouped = conv2d_shape({1, 4, 5, 5}, {4, 2, 3, 3}, p);
  CHECK_FALSE(is_depthwise(grouped));
  p.groups = 4;
  CHECK_FALSE(is_depthwise(conv2d_shape({1, 4, 5, 5}, {8, 1, 3, 3}, p)));
  std::vector<float> buf(4 * 5 * 5 * 4, 0.f);
  CHECK_THROWS_AS(
      depthwise_conv2d_forward<float>(grouped, buf.data(), buf.data(), nullptr, buf.data()),
      Error);
  CHECK_THROWS_AS(depthwise_conv2d_backward_naive<float>(grouped, buf.data(), buf.data(),
                                                         buf.data(), buf.data(), nullptr, nullptr),
                  Error);
}

TEST_CASE("depthwise: golden 3x3 input, 3x3 ones kernel, pad 1") {
  ConvShape s = dw_shape({1, 1, 3, 3, 3, 1, 1, 1});
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w(9, 1.0), bias = {0.5};
  std::vector<double> sums = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  std::vector<double> y(9), dx(9, 0.0), dw(9, 0.0), db(1, 0.0), dy(9, 1.0);
  depthwise_conv2d_forward(s, x.data(), w.data(), bias.data(), y.data());
  for (int i = 0; i < 9; ++i) CHECK(y[i] == sums[i] + 0.5);
  depthwise_conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  // dy = 1: dw[i][j] is the sum of x under tap (i, j) -- the same window sums as y.
  for (int i = 0; i < 9; ++i) CHECK(dw[i] == sums[i]);
  std::vector<double> covered = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (int i = 0; i < 9; ++i) CHECK(dx[i] == covered[i]);
  CHECK(db[0] == 9.0);
}

TEST_CASE("depthwise: golden stride 2, asymmetric kernel") {
  // x 4x4 = 0..15, w = [[1,2,3],[4,5,6],[7,8,9]], stride 2, pad 1 -> 2x2 output.
  ConvShape s = dw_shape({1, 1, 4, 4, 3, 2, 1, 1});
  std::vector<float> x(16), w = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y(4);
  for (int i = 0; i < 16; ++i) x[i] = float(i);
  depthwise_conv2d_forward<float>(s, x.data(), w.data(), nullptr, y.data());
  // y[0][0] = 5*0 + 6*1 + 8*4 + 9*5 = 83; y[0][1] = 4*1+5*2+6*3 + 7*5+8*6+9*7 = 178;
  // y[1][0] = 2*4+3*5 + 5*8+6*9 + 8*12+9*13 = 330;
  // y[1][1] = 1*5+2*6+3*7 + 4*9+5*10+6*11 + 7*13+8*14+9*15 = 528.
  CHECK(y == std::vector<float>{83, 178, 330, 528});
  std::vector<float> dy = {1, 0, 0, 0}, dx(16, 0.f);
  depthwise_conv2d_backward<float>(s, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr);
  CHECK(dx == std::vector<float>{5, 6, 0, 0, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("depthwise: specialised kernels match naive, float") { sweep<float>(specialised_cases()); }

TEST_CASE("depthwise: specialised kernels match naive, double") {
  sweep<double>(specialised_cases());
}

TEST_CASE("depthwise: generic path matches naive, float and double") {
  sweep<float>(generic_cases());
  sweep<double>(generic_cases());
}

TEST_CASE("depthwise: small-plane channel kernels match naive, float and double") {
  std::vector<DwCase> cases = channel_cases();
  // The sweep must exercise the channel kernels in both directions (and the plane kernels for
  // the larger outputs).
  auto [forward_f, backward_f] = channel_kernel_counts<float>(cases);
  auto [forward_d, backward_d] = channel_kernel_counts<double>(cases);
  CHECK(forward_f > 50);
  CHECK(backward_f > 100);
  CHECK(forward_d > 50);
  CHECK(backward_d > 100);
  CHECK(forward_f < static_cast<int>(cases.size()));
  sweep<float>(cases);
  sweep<double>(cases);
}

TEST_CASE("depthwise: small-plane channel kernels, mbv2-bench shapes and dbias alone") {
  ThreadCount one_thread(1);
  uint64_t seed = 700;
  for (DwCase c : {DwCase{2, 64, 6, 6, 3, 1, 1, 1}, DwCase{2, 48, 6, 6, 3, 2, 1, 1},
                   DwCase{3, 32, 3, 3, 3, 1, 1, 1}}) {
    ConvShape s = dw_shape(c);
    CHECK(depthwise_backward_by_channels<float>(s));
    check_against_naive<float>(s, true, ++seed);
    Rng rng(seed);
    int64_t ny = s.batch * s.out_channels * s.out_h * s.out_w;
    auto dy = random_vector<float>(ny, rng), db0 = random_vector<float>(s.out_channels, rng);
    auto db = db0, db_ref = db0;
    depthwise_conv2d_backward<float>(s, nullptr, nullptr, dy.data(), nullptr, nullptr, db.data());
    depthwise_conv2d_backward_naive<float>(s, nullptr, nullptr, dy.data(), nullptr, nullptr,
                                           db_ref.data());
    CHECK(max_rel_diff(db, db_ref) < 1e-5 * std::sqrt(double(s.batch * s.out_h * s.out_w)));
  }
}

TEST_CASE("depthwise: channel kernels give the plane kernels' y and dx bits") {
  // 16 channels (a multiple of every register's lanes) take the channel kernels; each channel
  // alone takes the plane kernels. Shapes of mbv2-bench (6x6 and 3x3, stride 1 and 2) and
  // other pads and sizes, for the padded 3x3 loops and the index tables.
  ThreadCount one_thread(1);
  uint64_t seed = 800;
  for (DwCase c : {DwCase{2, 16, 6, 6, 3, 1, 1, 1}, DwCase{2, 16, 6, 6, 3, 2, 1, 1},
                   DwCase{1, 16, 3, 3, 3, 1, 1, 1}, DwCase{1, 16, 5, 6, 3, 1, 0, 1},
                   DwCase{1, 16, 4, 5, 3, 1, 2, 1}, DwCase{1, 16, 5, 4, 3, 2, 2, 1},
                   DwCase{1, 16, 4, 4, 5, 1, 2, 1}, DwCase{1, 16, 3, 3, 3, 1, 1, 2}}) {
    CAPTURE(c.h);
    CAPTURE(c.stride);
    CAPTURE(c.pad);
    ConvShape s = dw_shape(c);
    REQUIRE(depthwise_backward_by_channels<float>(s));
    Rng rng(++seed);
    int64_t in_size = c.h * c.w, out_size = s.out_h * s.out_w, taps = c.k * c.k;
    auto x = random_vector<float>(c.batch * c.channels * in_size, rng);
    auto w = random_vector<float>(c.channels * taps, rng);
    auto b = random_vector<float>(c.channels, rng);
    auto dy = random_vector<float>(c.batch * c.channels * out_size, rng);
    std::vector<float> y(dy.size()), dx(x.size());
    depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
    depthwise_conv2d_backward<float>(s, x.data(), w.data(), dy.data(), dx.data(), nullptr,
                                     nullptr, GradWrite::Overwrite);
    DwCase one = c;
    one.batch = one.channels = 1;
    ConvShape s1 = dw_shape(one);
    REQUIRE_FALSE(depthwise_backward_by_channels<float>(s1));
    for (int64_t n = 0; n < c.batch; ++n)
      for (int64_t ch = 0; ch < c.channels; ++ch) {
        const int64_t plane = n * c.channels + ch;
        std::vector<float> y1(out_size), dx1(in_size, 0.f);
        depthwise_conv2d_forward(s1, x.data() + plane * in_size, w.data() + ch * taps, &b[ch],
                                 y1.data());
        depthwise_conv2d_backward<float>(s1, x.data() + plane * in_size, w.data() + ch * taps,
                                         dy.data() + plane * out_size, dx1.data(), nullptr,
                                         nullptr);
        CHECK(std::memcmp(y1.data(), y.data() + plane * out_size, out_size * sizeof(float)) == 0);
        CHECK(std::memcmp(dx1.data(), dx.data() + plane * in_size, in_size * sizeof(float)) == 0);
      }
  }
}

TEST_CASE("depthwise: stride-1 dx added straight into dx (whole and half register rests)") {
  // Planes whose bands tile dx exactly: 24 and 12 columns end in a half-register pass on
  // AVX-512 and AVX2 respectively (row pairs for 5x5 and 7x7), 16 and 32 in whole registers.
  std::vector<DwCase> cases;
  for (int64_t k : {3, 5, 7})
    for (int64_t width : {12, 16, 24, 32}) cases.push_back({2, 3, 8, width, k, 1, k / 2, 1});
  cases.push_back({1, 2, 24, 24, 3, 1, 1, 1});
  sweep<float>(cases);
  sweep<double>(cases);
}

// The stride-2 forward straight from the input rows (ops/depthwise_stride2.h, pad k/2) sums
// bias, then the taps in row-major order like the naive loop (adding w * 0 for the padding,
// which leaves random sums unchanged): the same bits. Odd and even sizes (tails of half and
// quarter registers, loads reaching into the neighbouring planes or past the tensor), several
// registers of output columns, batch 1 and 32, 1 to 3 threads; other pads take the
// padded-plane path, as do 130-wide rows on AVX2 (more registers of columns than it keeps).
TEST_CASE("depthwise: stride-2 forward from the input rows equals naive bit for bit") {
  uint64_t seed = 1200;
  for (int threads : {1, 2, 3}) {
    ThreadCount thread_count(threads);
    for (int64_t k : {3, 5, 7})
      for (int64_t width : {1, 2, 5, 6, 12, 13, 23, 24, 33, 48, 130})
        for (int64_t batch : {1, 32}) {
          if (batch == 32 && width > 48) continue;
          const int64_t height = width == 130 ? 3 : width % 5 + 6;
          const DwCase c{batch, width % 2 ? 3 : 2, height, width, k, 2, k / 2, 1};
          CAPTURE(threads);
          CAPTURE(k);
          CAPTURE(width);
          CAPTURE(batch);
          const ConvShape s = dw_shape(c);
          Rng rng(++seed);
          const int64_t nx = s.batch * s.in_channels * s.in_h * s.in_w;
          const int64_t ny = s.batch * s.out_channels * s.out_h * s.out_w;
          auto run = [&]<class T>(T) {
            auto x = random_vector<T>(nx, rng), w = random_vector<T>(s.out_channels * k * k, rng);
            auto b = random_vector<T>(s.out_channels, rng);
            std::vector<T> y(ny, T(7)), y_ref(ny, T(-7));
            depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
            depthwise_conv2d_forward_naive(s, x.data(), w.data(), b.data(), y_ref.data());
            CHECK(y == y_ref);
          };
          run(float{});
          run(double{});
        }
  }
}

TEST_CASE("depthwise: 2 threads match naive") {
  ThreadCount two_threads(2);
  uint64_t seed = 900;
  for (DwCase c : {DwCase{3, 5, 17, 16, 3, 1, 1, 1}, DwCase{2, 3, 15, 15, 3, 2, 1, 1},
                   DwCase{3, 2, 16, 17, 5, 1, 2, 1}, DwCase{1, 7, 9, 9, 7, 2, 3, 1},
                   DwCase{2, 3, 11, 10, 4, 1, 2, 2}, DwCase{3, 32, 5, 5, 3, 1, 1, 1},
                   DwCase{2, 32, 6, 6, 3, 2, 1, 1}}) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    check_against_naive<float>(dw_shape(c), true, ++seed);
    check_against_naive<double>(dw_shape(c), false, ++seed);
  }
}

TEST_CASE("depthwise: finite-difference gradients of the optimized backward, float64") {
  for (DwCase c : {DwCase{2, 2, 6, 7, 3, 1, 1, 1}, DwCase{1, 2, 9, 8, 5, 2, 2, 1},
                   DwCase{1, 1, 7, 7, 3, 1, 2, 2}, DwCase{1, 2, 8, 9, 7, 2, 3, 1},
                   DwCase{2, 16, 5, 6, 3, 1, 1, 1}, DwCase{1, 16, 6, 5, 3, 2, 1, 1},
                   DwCase{1, 16, 5, 5, 3, 1, 2, 2}}) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    ConvShape s = dw_shape(c);
    Rng rng(5);
    int64_t nx = s.batch * s.in_channels * s.in_h * s.in_w;
    int64_t ny = s.batch * s.out_channels * s.out_h * s.out_w, nw = s.out_channels * c.k * c.k;
    auto x = random_vector<double>(nx, rng), w = random_vector<double>(nw, rng);
    auto b = random_vector<double>(s.out_channels, rng), r = random_vector<double>(ny, rng);
    // loss = sum(y * r), so dloss/dy = r.
    auto loss = [&]() {
      std::vector<double> y(ny);
      depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
      double l = 0;
      for (int64_t i = 0; i < ny; ++i) l += y[i] * r[i];
      return l;
    };
    std::vector<double> dx(nx, 0.0), dw(nw, 0.0), db(s.out_channels, 0.0);
    depthwise_conv2d_backward(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
    const double h = 1e-6;
    auto numeric = [&](std::vector<double>& v, int64_t i) {
      double keep = v[i];
      v[i] = keep + h;
      double up = loss();
      v[i] = keep - h;
      double down = loss();
      v[i] = keep;
      return (up - down) / (2 * h);
    };
    for (int64_t i = 0; i < nx; i += 3) CHECK(dx[i] == doctest::Approx(numeric(x, i)).epsilon(1e-6));
    for (int64_t i = 0; i < nw; ++i) CHECK(dw[i] == doctest::Approx(numeric(w, i)).epsilon(1e-6));
    for (int64_t i = 0; i < s.out_channels; ++i)
      CHECK(db[i] == doctest::Approx(numeric(b, i)).epsilon(1e-6));
  }
}

TEST_CASE("depthwise: reproducible with 2 threads, and equal to 1 thread") {
  ThreadCount two_threads(2);
  for (DwCase c : {DwCase{4, 5, 17, 17, 5, 1, 2, 1}, DwCase{3, 4, 16, 15, 3, 2, 1, 1},
                   DwCase{3, 3, 13, 13, 4, 1, 1, 1}, DwCase{5, 32, 6, 6, 3, 1, 1, 1},
                   DwCase{5, 32, 6, 6, 3, 2, 1, 1}}) {
    ConvShape s = dw_shape(c);
    Rng rng(11);
    int64_t nx = s.batch * s.in_channels * s.in_h * s.in_w;
    int64_t ny = s.batch * s.out_channels * s.out_h * s.out_w, nw = s.out_channels * c.k * c.k;
    auto x = random_vector<float>(nx, rng), w = random_vector<float>(nw, rng);
    auto b = random_vector<float>(s.out_channels, rng), dy = random_vector<float>(ny, rng);
    auto run = [&]() {
      std::vector<float> y(ny), dx(nx, 0.f), dw(nw, 0.f), db(s.out_channels, 0.f);
      depthwise_conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
      depthwise_conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
      y.insert(y.end(), dx.begin(), dx.end());
      y.insert(y.end(), dw.begin(), dw.end());
      y.insert(y.end(), db.begin(), db.end());
      return y;
    };
    auto first = run();
    CHECK(first == run());
    // Partials are per plane and summed in batch order, so even the thread count does not
    // change the bits.
    ThreadCount one_thread(1);
    CHECK(first == run());
  }
}
