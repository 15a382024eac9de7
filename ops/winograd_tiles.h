// winograd_tiles: building blocks of the Winograd F(4x4, 3x3) kernels (ops/conv2d_winograd.cpp),
// not a public interface:
//   bt_rows / at_rows / g_rows / a_rows / gt_rows   the 1-D transforms on kLanes lanes,
//   to_channels_last / from_channels_last           NCHW rows <-> channels-last strips, through
//                                                   register transposes,
//   panel_gemm                                      register-blocked GEMM on channels-last panels.
// Everything is templated on the element type (float, double) and header-only.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ops/depthwise_planes.h"

namespace piconas::ops::winograd_tiles {

using depthwise_planes::kRegisterLanes;
using depthwise_planes::Vec;

constexpr int kM = 4;         // output tile
constexpr int kA = kM + 2;    // input tile (alpha)
constexpr int kXi = kA * kA;  // transformed elements per tile

// F(4x4, 3x3) (Lavin & Gray 2016): y = A^T [(G g G^T) .* (B^T d B)] A; G, B^T and A^T are
// written out in g_rows, bt_rows and at_rows below.

// Channels are the vector lanes: every transform works on kLanes channels at a time (one
// 64-byte vector of floats), so images are turned channels-last a strip of rows at a time and
// the transformed tiles are stored [element xi][tile][channel], the channel count padded to a
// multiple of kLanes. The GEMMs then read and write contiguous rows of channels, and no
// transform gathers strided elements. Padding lanes are computed and dropped (no GEMM reads
// them); they may hold values of earlier calls.
constexpr int64_t kLanes = 16;
inline int64_t padded_channels(int64_t channels) {
  return (channels + kLanes - 1) / kLanes * kLanes;
}

// out[k] = (B^T d)[k] for the 1-D input transform of 6 rows of kLanes lanes.
template <class T>
void bt_rows(const T* const in[kA], T* const out[kA]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T d0 = in[0][l], d1 = in[1][l], d2 = in[2][l], d3 = in[3][l], d4 = in[4][l],
            d5 = in[5][l];
    out[0][l] = T(4) * d0 - T(5) * d2 + d4;
    out[1][l] = -T(4) * (d1 + d2) + d3 + d4;
    out[2][l] = T(4) * (d1 - d2) - d3 + d4;
    out[3][l] = T(2) * (d3 - d1) - d2 + d4;
    out[4][l] = T(2) * (d1 - d3) - d2 + d4;
    out[5][l] = T(4) * d1 - T(5) * d3 + d5;
  }
}

// out[k] = (A^T m)[k] for the 1-D output transform of 6 rows of kLanes lanes.
template <class T>
void at_rows(const T* const in[kA], T* const out[kM]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T m0 = in[0][l], m1 = in[1][l], m2 = in[2][l], m3 = in[3][l], m4 = in[4][l],
            m5 = in[5][l];
    const T s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
    out[0][l] = m0 + s12 + s34;
    out[1][l] = d12 + T(2) * d34;
    out[2][l] = s12 + T(4) * s34;
    out[3][l] = d12 + T(8) * d34 + m5;
  }
}

// out[k] = (G g)[k] for the 1-D filter transform of 3 rows of kLanes lanes.
template <class T>
void g_rows(const T* const in[3], T* const out[kA]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T g0 = in[0][l], g1 = in[1][l], g2 = in[2][l];
    out[0][l] = g0 * T(0.25);
    out[1][l] = (g0 + g1 + g2) * T(-1.0 / 6);
    out[2][l] = (g0 - g1 + g2) * T(-1.0 / 6);
    out[3][l] = g0 * T(1.0 / 24) + g1 * T(1.0 / 12) + g2 * T(1.0 / 6);
    out[4][l] = g0 * T(1.0 / 24) - g1 * T(1.0 / 12) + g2 * T(1.0 / 6);
    out[5][l] = g2;
  }
}

// out[k] = (A e)[k] for 4 rows of kLanes lanes: the transpose of at_rows, which takes an
// output-gradient tile into the transformed domain (weight gradient).
template <class T>
void a_rows(const T* const in[kM], T* const out[kA]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T e0 = in[0][l], e1 = in[1][l], e2 = in[2][l], e3 = in[3][l];
    const T s02 = e0 + e2, s13 = e1 + e3, s02w = e0 + T(4) * e2, s13w = T(2) * e1 + T(8) * e3;
    out[0][l] = e0;
    out[1][l] = s02 + s13;
    out[2][l] = s02 - s13;
    out[3][l] = s02w + s13w;
    out[4][l] = s02w - s13w;
    out[5][l] = e3;
  }
}

// out[i] = (G^T u)[i] for 6 rows of kLanes lanes: the transpose of g_rows, which takes a
// transformed weight gradient back to the 3 taps.
template <class T>
void gt_rows(const T* const in[kA], T* const out[3]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T u0 = in[0][l], u1 = in[1][l], u2 = in[2][l], u3 = in[3][l], u4 = in[4][l],
            u5 = in[5][l];
    const T s12 = u1 + u2, s34 = u3 + u4;
    out[0][l] = u0 * T(0.25) - s12 * T(1.0 / 6) + s34 * T(1.0 / 24);
    out[1][l] = (u2 - u1) * T(1.0 / 6) + (u3 - u4) * T(1.0 / 12);
    out[2][l] = (s34 - s12) * T(1.0 / 6) + u5;
  }
}

// Register-blocked products of channels-last panels (core/gemm would pack both operands of
// each of these small GEMMs again; here they are laid out for the kernel already):
//   c[r][0 : NV*RL] (+)= sum_{p < k} a(r, p) * b[p][0 : NV*RL] for r < R,
// a(r, p) = a[r * lda + p], or a[p * lda + r] with TransA, RL the lanes of one register.
// R x NV registers accumulate, each a(r, p) broadcast once for the NV registers; sums run over
// p in order. R and NV fill the registers of the target: 12 x 2 (32 floats or 16 doubles a
// row) with AVX-512, 6 x 2 (16 floats) and 2 x 4 (16 doubles) with AVX2's 16 registers.
template <class T>
struct Panel {
  static constexpr int kRegisters = depthwise_planes::kRegisterBytes == 64 ? 32 : 16;
  static constexpr int kPerLanes = static_cast<int>(kLanes) / kRegisterLanes<T>;  // per kLanes
  static constexpr int NV = kPerLanes == 1 ? 2 : kPerLanes;
  static constexpr int R = std::min(12, (kRegisters - 1 - NV) / NV);
};

template <class T, int R, int NV, bool TransA, bool Accumulate>
void panel_kernel(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t k, T* c, int64_t ldc) {
  constexpr int RL = kRegisterLanes<T>;
  using V = Vec<T, RL>;
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NV; ++j) {
      acc[r][j] = V{};
      if (Accumulate) std::memcpy(&acc[r][j], c + r * ldc + j * RL, sizeof(V));
    }
  for (int64_t p = 0; p < k; ++p) {
    V bv[NV];
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], b + p * ldb + j * RL, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const T ar = TransA ? a[p * lda + r] : a[r * lda + p];
      for (int j = 0; j < NV; ++j) acc[r][j] += ar * bv[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NV; ++j) std::memcpy(c + r * ldc + j * RL, &acc[r][j], sizeof(V));
}

// c (+)= a * b for rows (a multiple of Panel<T>::R: callers' buffers hold the extra rows,
// whose results they ignore) x n (a multiple of kLanes) over k.
template <class T, bool TransA, bool Accumulate>
void panel_gemm(int64_t rows, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                int64_t ldb, T* c, int64_t ldc) {
  constexpr int R = Panel<T>::R, NV = Panel<T>::NV, RL = kRegisterLanes<T>;
  constexpr int kRest = static_cast<int>(kLanes) / RL;  // registers of a last kLanes columns
  // Column blocks outside: one block of b (k x NV registers) stays in L1 while a streams.
  int64_t j0 = 0;
  for (; j0 + NV * RL <= n; j0 += NV * RL)
    for (int64_t r0 = 0; r0 < rows; r0 += R)
      panel_kernel<T, R, NV, TransA, Accumulate>(TransA ? a + r0 : a + r0 * lda, lda, b + j0, ldb,
                                                 k, c + r0 * ldc + j0, ldc);
  if (j0 < n)
    for (int64_t r0 = 0; r0 < rows; r0 += R)
      panel_kernel<T, R, kRest, TransA, Accumulate>(TransA ? a + r0 : a + r0 * lda, lda, b + j0,
                                                    ldb, k, c + r0 * ldc + j0, ldc);
}

inline int64_t round_up(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

// Transposes W x W elements held in W registers of W lanes: log2(W) stages, the one of
// distance D swapping the off-diagonal D x D blocks of rows i and i + D (i & D == 0), each
// swap two two-register shuffles.
template <int D, class V, int... L>
inline void swap_blocks(V& a, V& b, std::integer_sequence<int, L...>) {
  constexpr int W = sizeof...(L);
  const V lo = __builtin_shufflevector(a, b, ((L & D) ? W + L - D : L)...);
  const V hi = __builtin_shufflevector(a, b, ((L & D) ? W + L : L + D)...);
  a = lo;
  b = hi;
}

template <int D, class V, int W>
inline void transpose_registers(V (&r)[W]) {
  if constexpr (D >= 1) {
#pragma GCC unroll 16
    for (int i = 0; i < W; ++i)
      if (!(i & D)) swap_blocks<D>(r[i], r[i + D], std::make_integer_sequence<int, W>{});
    transpose_registers<D / 2>(r);
  }
}

// The same for 8 floats (AVX2, where the distance-1 stage above takes two instructions per
// shuffle): the usual unpack / 64-bit shuffle / 128-bit permute sequence, one instruction each.
template <class V>
inline void transpose_8x8(V (&r)[8]) {
  V t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 4)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j) {
      u[i + 2 * j] = __builtin_shufflevector(t[i + j], t[i + j + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * j + 1] =
          __builtin_shufflevector(t[i + j], t[i + j + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// dst[k * ld_dst + l] (+)= src[l * ld_src + k] (+ bias[k]) for l, k < W (W: the lanes of one
// register; bias may be null); adding, lanes l < skip of dst stay as they are.
template <class T, bool Add>
inline void transpose_block(const T* src, int64_t ld_src, T* dst, int64_t ld_dst, int skip,
                            const T* bias) {
  constexpr int W = kRegisterLanes<T>;
  using V = Vec<T, W>;
  V r[W];
#pragma GCC unroll 16
  for (int l = 0; l < W; ++l) std::memcpy(&r[l], src + l * ld_src, sizeof(V));
  if constexpr (W == 8 && sizeof(T) == 4)
    transpose_8x8(r);
  else
    transpose_registers<W / 2>(r);
#pragma GCC unroll 16
  for (int k = 0; k < W; ++k) {
    T* d = dst + k * ld_dst;
    if (bias) r[k] += bias[k];
    if constexpr (Add) {
      const V lane = []<int... L>(std::integer_sequence<int, L...>) { return V{T(L)...}; }
      (std::make_integer_sequence<int, W>{});
      V old;
      std::memcpy(&old, d, sizeof(V));
      r[k] = old + (lane >= T(skip) ? r[k] : V{});
    }
    std::memcpy(d, &r[k], sizeof(V));
  }
}

// Channels-last copy of `rows` image rows from row0 of the planes [channels][h][w]:
// dst[(i * pitch + left + k) * cp + c] = planes[c][row0 + i][k]. Rows outside [0, h) and
// columns outside [left, left + w) are zero (the padding); lanes c >= channels are not written.
// Whole blocks of W channels x W columns go through registers (the last one overlapping its
// predecessor), the rest element by element.
template <class T>
void to_channels_last(const T* planes, int64_t channels, int64_t h, int64_t w, int64_t row0,
                      int rows, int64_t left, int64_t pitch, T* dst) {
  constexpr int W = kRegisterLanes<T>;
  const int64_t cp = padded_channels(channels), plane = h * w;
  for (int i = 0; i < rows; ++i) {
    T* row = dst + i * pitch * cp;
    const int64_t r = row0 + i;
    if (r < 0 || r >= h) {
      std::fill_n(row, pitch * cp, T(0));
      continue;
    }
    std::fill_n(row, left * cp, T(0));
    std::fill_n(row + (left + w) * cp, (pitch - left - w) * cp, T(0));
    T* interior = row + left * cp;
    const T* src = planes + r * w;
    int64_t c0 = 0;
    for (; c0 + W <= channels && w >= W; c0 += W) {
      for (int64_t k = 0; k < w; k += W) {
        const int64_t k0 = std::min(k, w - W);
        transpose_block<T, false>(src + c0 * plane + k0, plane, interior + k0 * cp + c0, cp, 0,
                                  nullptr);
      }
    }
    for (int64_t c = c0; c < channels; ++c)
      for (int64_t k = 0; k < w; ++k) interior[k * cp + c] = src[c * plane + k];
  }
}

// The reverse, cropped: planes[c][row0 + i][k] (+)= src[(i * pitch + k) * cp + c] (+ bias[c])
// for c < channels, row0 + i < h (i < rows) and k < w.
template <class T, bool Accumulate>
void from_channels_last(const T* src, int64_t pitch, int64_t channels, int64_t h, int64_t w,
                        int64_t row0, int rows, const T* bias, T* planes) {
  constexpr int W = kRegisterLanes<T>;
  const int64_t cp = padded_channels(channels), plane = h * w;
  for (int i = 0; i < rows && row0 + i < h; ++i) {
    const T* row = src + i * pitch * cp;
    T* dst = planes + (row0 + i) * w;
    int64_t c0 = 0;
    if (w >= W) {
      for (; c0 + W <= channels; c0 += W)
        for (int64_t k = 0; k < w; k += W) {
          const int64_t k0 = std::min(k, w - W);
          // An overlapping last block adds only to the columns its predecessor did not.
          transpose_block<T, Accumulate>(row + k0 * cp + c0, cp, dst + c0 * plane + k0, plane,
                                         static_cast<int>(k - k0), bias ? bias + c0 : nullptr);
        }
    }
    for (int64_t c = c0; c < channels; ++c) {
      T* d = dst + c * plane;
      const T b = bias ? bias[c] : T(0);
      for (int64_t k = 0; k < w; ++k) {
        if (Accumulate)
          d[k] += row[k * cp + c];
        else
          d[k] = row[k * cp + c] + b;
      }
    }
  }
}

}  // namespace piconas::ops::winograd_tiles
