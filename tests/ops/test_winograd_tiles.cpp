// The building blocks of the Winograd kernels (ops/winograd_tiles.h) against naive loops:
// the panel GEMM against core/gemm's gemm_naive, the channels-last strips against index loops.
// The whole convolution is checked against its naive twin in test_conv2d.cpp; these catch a
// wrong block or remainder path directly, on sizes around the register blocking.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/gemm.h"
#include "core/rng.h"
#include "ops/winograd_tiles.h"

using namespace piconas;
using namespace piconas::ops::winograd_tiles;

namespace {

template <class T>
std::vector<T> random_vector(int64_t n, Rng& rng) {
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(rng.uniform(-1.0, 1.0));
  return v;
}

// c (rows x n) (+)= a * b through panel_gemm and through gemm_naive; rows a multiple of the
// panel rows, n a multiple of kLanes, every k.
template <class T, bool TransA, bool Accumulate>
void check_panel(int64_t rows, int64_t n, int64_t k) {
  CAPTURE(rows);
  CAPTURE(n);
  CAPTURE(k);
  Rng rng(static_cast<uint64_t>(rows * 1000 + n * 10 + k));
  const int64_t lda = TransA ? rows + 3 : k + 5, ldb = n + kLanes, ldc = n + kLanes;
  auto a = random_vector<T>((TransA ? k : rows) * lda, rng);
  auto b = random_vector<T>(k * ldb, rng);
  auto c = random_vector<T>(rows * ldc, rng), want = c;
  panel_gemm<T, TransA, Accumulate>(rows, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
  gemm_naive(TransA ? Trans::Yes : Trans::No, Trans::No, rows, n, k, T(1), a.data(), lda, b.data(),
             ldb, Accumulate ? T(1) : T(0), want.data(), ldc);
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t i = static_cast<size_t>(r * ldc + j);
      if (j < n)
        REQUIRE(std::abs(double(c[i]) - double(want[i])) <= tol * (1 + double(k)));
      else
        REQUIRE(c[i] == want[i]);  // columns past n untouched
    }
}

template <class T>
void check_panels() {
  const int64_t R = Panel<T>::R;
  for (int64_t rows : {R, 2 * R, 5 * R})
    for (int64_t n : {kLanes, 2 * kLanes, 3 * kLanes, 4 * kLanes})
      for (int64_t k : {1, 7, 16, 33}) {
        check_panel<T, false, false>(rows, n, k);
        check_panel<T, false, true>(rows, n, k);
        check_panel<T, true, false>(rows, n, k);
        check_panel<T, true, true>(rows, n, k);
      }
}

// to_channels_last then from_channels_last (adding, with and without bias) against index loops.
template <class T>
void check_strips(int64_t channels, int64_t h, int64_t w, int64_t row0, int rows, int64_t left) {
  CAPTURE(channels);
  CAPTURE(w);
  CAPTURE(row0);
  CAPTURE(left);
  Rng rng(static_cast<uint64_t>(channels * 100 + w));
  const int64_t pitch = left + w + 3, cp = padded_channels(channels);
  auto planes = random_vector<T>(channels * h * w, rng);
  std::vector<T> strip(static_cast<size_t>(rows * pitch * cp), T(9));
  to_channels_last(planes.data(), channels, h, w, row0, rows, left, pitch, strip.data());
  for (int i = 0; i < rows; ++i)
    for (int64_t k = 0; k < pitch; ++k)
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t r = row0 + i, col = k - left;
        const bool inside = r >= 0 && r < h && col >= 0 && col < w;
        const T want = inside ? planes[(c * h + r) * w + col] : T(0);
        REQUIRE(strip[(i * pitch + k) * cp + c] == want);
      }
  // Back: planes[c][row0 + i][k] += strip[(i * pitch + left + k) * cp + c] for rows inside.
  auto bias = random_vector<T>(channels, rng);
  for (bool add : {false, true}) {
    auto got = planes, want = planes;
    const T* src = strip.data() + left * cp;
    for (int i = 0; i < rows; ++i) {
      const int64_t r = row0 + i;
      if (r < 0 || r >= h) continue;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t k = 0; k < w; ++k) {
          T& d = want[(c * h + r) * w + k];
          const T v = src[(i * pitch + k) * cp + c];
          d = add ? d + v : v + bias[c];
        }
    }
    const int64_t r0 = std::max<int64_t>(row0, 0);
    const int skip_rows = static_cast<int>(r0 - row0);
    if (add)
      from_channels_last<T, true>(src + skip_rows * pitch * cp, pitch, channels, h, w, r0,
                                  rows - skip_rows, nullptr, got.data());
    else
      from_channels_last<T, false>(src + skip_rows * pitch * cp, pitch, channels, h, w, r0,
                                   rows - skip_rows, bias.data(), got.data());
    CHECK(got == want);
  }
}

}  // namespace

TEST_CASE("winograd tiles: panel GEMM matches gemm_naive (float, double)") {
  check_panels<float>();
  check_panels<double>();
}

TEST_CASE("winograd tiles: channels-last strips and back match index loops") {
  for (int64_t channels : {1, 7, 8, 16, 17, 32, 40})
    for (int64_t w : {1, 5, 8, 9, 16, 17, 24, 31})
      for (int64_t row0 : {-2, 0, 3}) {
        check_strips<float>(channels, 9, w, row0, 6, 2);
        check_strips<double>(channels, 9, w, row0, 6, 1);
      }
}
