#include "ops/conv2d_winograd.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "ops/depthwise_planes.h"

namespace piconas::ops {

namespace {

using depthwise_planes::kRegisterLanes;
using depthwise_planes::Vec;

constexpr int kM = 4;         // output tile
constexpr int kA = kM + 2;    // input tile (alpha)
constexpr int kXi = kA * kA;  // transformed elements per tile
// A block's scratch (transformed inputs and GEMM outputs) holds at most this many bytes and
// its GEMMs at most this many tiles (columns); then the tile rows are cut into an even number
// of near-equal blocks, so that 2 threads get equal shares. Measured (bench_conv2d, 1 thread,
// CPU time): conv64_3x3_56 at batch 1 and 32 ~1.13x faster with 98-112 tile blocks than with
// 42-84 (the old 1.5 MiB limit and at least 4 blocks); conv32_3x3_24 at batch 32 ~0.9x with
// 192-tile blocks (2 MiB alone).
constexpr int64_t kBlockBytes = 2048 * 1024;
constexpr int64_t kBlockTiles = 144;

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

struct Tiling {
  int64_t tiles_h, tiles_w;  // tiles per image
  int64_t tile_rows;         // over all images: batch * tiles_h
  int64_t blocks;            // the tile rows cut into this many blocks of near-equal size
  int64_t block_tiles;       // tiles of the largest block
  int64_t begin(int64_t block) const { return tile_rows * block / blocks; }  // its first row
};

Tiling make_tiling(const ConvShape& s, int64_t elem_size) {
  Tiling t{};
  t.tiles_h = (s.out_h + kM - 1) / kM;
  t.tiles_w = (s.out_w + kM - 1) / kM;
  t.tile_rows = s.batch * t.tiles_h;
  const int64_t per_tile =
      kXi * (padded_channels(s.in_channels) + padded_channels(s.out_channels)) * elem_size;
  const int64_t tiles = std::max<int64_t>(std::min(kBlockBytes / per_tile, kBlockTiles), 1);
  const int64_t rows_per_block = std::clamp<int64_t>(tiles / t.tiles_w, 1, t.tile_rows);
  const int64_t blocks = (t.tile_rows + rows_per_block - 1) / rows_per_block;
  t.blocks = std::min(blocks + blocks % 2, t.tile_rows);
  t.block_tiles = (t.tile_rows + t.blocks - 1) / t.blocks * t.tiles_w;
  return t;
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

// Buffers kept by each thread from call to call and grown to the largest size asked for:
// a call at batch 1 is short enough that allocating (and faulting in) fresh ones cost ~40 %
// of it (perf, conv64_3x3_56 batch 1). New elements are zero.
template <class T>
T* grown(std::vector<T>& buffer, int64_t size) {
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size), T(0));
  return buffer.data();
}

// U[xi][c][o] = (G g G^T)[xi] for every filter g = w[o][c], into the calling thread's
// buffer: in_channels rows of padded_channels(out_channels), kLanes output channels of one
// input channel at a time (so each element xi is stored as one vector; lanes past
// out_channels are zero).
template <class T>
const T* transform_filters(const ConvShape& s, const T* w) {
  thread_local std::vector<T> buffer;
  const int64_t ci = s.in_channels, co = s.out_channels, cop = padded_channels(co);
  const int64_t o_blocks = cop / kLanes;
  T* u = grown(buffer, kXi * ci * cop);
  parallel_for(0, ci * o_blocks, [&](int64_t blk) {
    const int64_t c = blk / o_blocks, o0 = blk % o_blocks * kLanes;
    const int64_t lanes = std::min(kLanes, co - o0);
    T g[9][kLanes] = {}, tmp[kA * 3][kLanes], out[kXi][kLanes];
    for (int64_t l = 0; l < lanes; ++l)
      for (int e = 0; e < 9; ++e) g[e][l] = w[((o0 + l) * ci + c) * 9 + e];
    for (int j = 0; j < 3; ++j) {  // columns: tmp[a*3 + j] = sum_i G[a][i] g[i*3 + j]
      const T* in[3] = {g[j], g[3 + j], g[6 + j]};
      T* o[kA];
      for (int a = 0; a < kA; ++a) o[a] = tmp[a * 3 + j];
      g_rows(in, o);
    }
    for (int a = 0; a < kA; ++a) {  // rows: out[a*6 + b] = sum_j tmp[a*3 + j] G[b][j]
      const T* in[3] = {tmp[a * 3], tmp[a * 3 + 1], tmp[a * 3 + 2]};
      T* o[kA];
      for (int b = 0; b < kA; ++b) o[b] = out[a * kA + b];
      g_rows(in, o);
    }
    for (int xi = 0; xi < kXi; ++xi) std::copy_n(out[xi], kLanes, u + (xi * ci + c) * cop + o0);
  });
  return u;
}

// Lanes from one transformed element xi's rows to the next: a block's tiles times the padded
// channels plus one spare cache line, so that the 36 blocks of rows do not all start at the
// same offset modulo 4 KiB (with 64 channels they would, and the L1 sets they map to collide).
inline int64_t xi_pitch(int64_t tiles, int64_t channels) {
  return tiles * padded_channels(channels) + kLanes;
}

// Register-blocked products of channels-last panels (core/gemm would pack both operands of
// each of these small GEMMs again; here they are laid out for the kernel already):
//   c[r][0 : J*kLanes] (+)= sum_{p < k} a(r, p) * b[p][0 : J*kLanes] for r < R,
// a(r, p) = a[r * lda + p], or a[p * lda + r] with TransA. R x J vectors of kLanes accumulate
// in registers, each a(r, p) broadcast once for the J vectors; sums run over p in order.
// R and J fill the vector registers of the target: 12 x 2 with AVX-512 and float, 6 x 1 with
// AVX2 (one kLanes vector is 2 registers), 12 x 1 / 2 x 1 for double.
template <class T>
struct Panel {
  static constexpr int kRegisters = depthwise_planes::kRegisterBytes == 64 ? 32 : 16;
  static constexpr int kPerVector = kLanes * sizeof(T) / depthwise_planes::kRegisterBytes;
  static constexpr int J = kPerVector == 1 ? 2 : 1;
  static constexpr int R = std::min(12, (kRegisters - 1 - J * kPerVector) / (J * kPerVector));
};

template <class T, int R, int J, bool TransA, bool Accumulate>
void panel_kernel(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t k, T* c,
                  int64_t ldc) {
  using V = Vec<T, kLanes>;
  V acc[R][J];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) {
      acc[r][j] = V{};
      if (Accumulate) std::memcpy(&acc[r][j], c + r * ldc + j * kLanes, sizeof(V));
    }
  for (int64_t p = 0; p < k; ++p) {
    V bv[J];
    for (int j = 0; j < J; ++j) std::memcpy(&bv[j], b + p * ldb + j * kLanes, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const T ar = TransA ? a[p * lda + r] : a[r * lda + p];
      for (int j = 0; j < J; ++j) acc[r][j] += ar * bv[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) std::memcpy(c + r * ldc + j * kLanes, &acc[r][j], sizeof(V));
}

// c (+)= a * b for rows (a multiple of Panel<T>::R: callers' buffers hold the extra rows,
// whose results they ignore) x n (a multiple of kLanes) over k.
template <class T, bool TransA, bool Accumulate>
void panel_gemm(int64_t rows, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                int64_t ldb, T* c, int64_t ldc) {
  constexpr int R = Panel<T>::R, J = Panel<T>::J;
  for (int64_t r0 = 0; r0 < rows; r0 += R) {
    const T* ar = TransA ? a + r0 : a + r0 * lda;
    int64_t j0 = 0;
    for (; j0 + J * kLanes <= n; j0 += J * kLanes)
      panel_kernel<T, R, J, TransA, Accumulate>(ar, lda, b + j0, ldb, k, c + r0 * ldc + j0, ldc);
    if (j0 < n)
      panel_kernel<T, R, 1, TransA, Accumulate>(ar, lda, b + j0, ldb, k, c + r0 * ldc + j0, ldc);
  }
}

inline int64_t round_up(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

// The calling thread's block scratch, shared by the forward (and dx) and the weight gradient:
// v (transformed input tiles), m (transformed outputs or output gradients) and strip (one
// channels-last strip of image rows).
template <class T>
struct BlockScratch {
  std::vector<T> v, m, strip;
};

template <class T>
struct BlockBuffers {
  T *v, *m, *strip;
};

template <class T>
BlockBuffers<T> block_buffers(const ConvShape& s, const Tiling& t) {
  thread_local BlockScratch<T> scratch;
  const int64_t strip = std::max(kA * (t.tiles_w * kM + 2) * padded_channels(s.in_channels),
                                 kM * t.tiles_w * kM * padded_channels(s.out_channels));
  const int64_t tiles = round_up(t.block_tiles, Panel<T>::R);
  return {grown(scratch.v, kXi * xi_pitch(tiles, s.in_channels)),
          grown(scratch.m, kXi * xi_pitch(tiles, s.out_channels)),
          grown(scratch.strip, strip)};
}

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

// dst[k * ld_dst + l] (+)= src[l * ld_src + k] for l, k < W (W: the lanes of one register);
// adding, lanes l < skip of dst stay as they are.
template <class T, bool Add>
inline void transpose_block(const T* src, int64_t ld_src, T* dst, int64_t ld_dst, int skip) {
  constexpr int W = kRegisterLanes<T>;
  using V = Vec<T, W>;
  V r[W], lane;
  for (int l = 0; l < W; ++l) {
    std::memcpy(&r[l], src + l * ld_src, sizeof(V));
    lane[l] = T(l);
  }
  transpose_registers<W / 2>(r);
  for (int k = 0; k < W; ++k) {
    T* d = dst + k * ld_dst;
    if (Add) {
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
        transpose_block<T, false>(src + c0 * plane + k0, plane, interior + k0 * cp + c0, cp, 0);
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
    if (!bias && w >= W) {
      for (; c0 + W <= channels; c0 += W)
        for (int64_t k = 0; k < w; k += W) {
          const int64_t k0 = std::min(k, w - W);
          // An overlapping last block adds only to the columns its predecessor did not.
          transpose_block<T, Accumulate>(row + k0 * cp + c0, cp, dst + c0 * plane + k0, plane,
                                         static_cast<int>(k - k0));
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

// v[xi * ld_xi + tw * cp + c] = (B^T d B)[xi] of the 6x6 patch of tile tw (columns
// 4 tw .. 4 tw + 5) of a channels-last strip of 6 rows, for the tiles_w tiles of the strip.
template <class T>
void transform_strip(const T* strip, int64_t pitch, int64_t cp, int64_t tiles_w, T* v,
                     int64_t ld_xi) {
  T tmp[kXi][kLanes];
  for (int64_t tw = 0; tw < tiles_w; ++tw)
    for (int64_t c0 = 0; c0 < cp; c0 += kLanes) {
      const T* d = strip + tw * kM * cp + c0;
      for (int j = 0; j < kA; ++j) {  // columns: tmp[a*6 + j] = sum_i BT[a][i] d[i][j]
        const T* in[kA];
        T* out[kA];
        for (int k = 0; k < kA; ++k) {
          in[k] = d + (k * pitch + j) * cp;
          out[k] = tmp[k * kA + j];
        }
        bt_rows(in, out);
      }
      for (int a = 0; a < kA; ++a) {  // rows: v[a*6 + b] = sum_j tmp[a*6 + j] BT[b][j]
        const T* in[kA];
        T* out[kA];
        for (int k = 0; k < kA; ++k) {
          in[k] = tmp[a * kA + k];
          out[k] = v + (a * kA + k) * ld_xi + tw * cp + c0;
        }
        bt_rows(in, out);
      }
    }
}

// out[(p * pitch + 4 tw + q) * cp + c] = (A^T m A)[p][q] for the tiles_w tiles of one tile
// row of m (laid out as v in transform_strip): a channels-last strip of 4 output rows.
template <class T>
void inverse_strip(const T* m, int64_t ld_xi, int64_t cp, int64_t tiles_w, T* out,
                   int64_t pitch) {
  T z[kA * kM][kLanes];
  for (int64_t tw = 0; tw < tiles_w; ++tw)
    for (int64_t c0 = 0; c0 < cp; c0 += kLanes) {
      for (int a = 0; a < kA; ++a) {  // z[a*4 + q] = sum_b m[a*6 + b] AT[q][b]
        const T* in[kA];
        T* o[kM];
        for (int k = 0; k < kA; ++k) in[k] = m + (a * kA + k) * ld_xi + tw * cp + c0;
        for (int q = 0; q < kM; ++q) o[q] = z[a * kM + q];
        at_rows(in, o);
      }
      for (int q = 0; q < kM; ++q) {  // out[p][q] = sum_a AT[p][a] z[a*4 + q]
        const T* in[kA];
        T* o[kM];
        for (int k = 0; k < kA; ++k) in[k] = z[k * kM + q];
        for (int p = 0; p < kM; ++p) o[p] = out + (p * pitch + tw * kM + q) * cp + c0;
        at_rows(in, o);
      }
    }
}

// m[xi * ld_xi + tw * cp + c] = (A e A^T)[xi] of the 4x4 output-gradient tile tw of a
// channels-last strip of 4 rows (zero past the output): the transpose of inverse_strip.
template <class T>
void transform_grad_strip(const T* e, int64_t pitch, int64_t cp, int64_t tiles_w, T* m,
                          int64_t ld_xi) {
  T tmp[kA * kM][kLanes];
  for (int64_t tw = 0; tw < tiles_w; ++tw)
    for (int64_t c0 = 0; c0 < cp; c0 += kLanes) {
      const T* d = e + tw * kM * cp + c0;
      for (int q = 0; q < kM; ++q) {  // columns: tmp[a*4 + q] = sum_p A[a][p] e[p][q]
        const T* in[kM];
        T* out[kA];
        for (int p = 0; p < kM; ++p) in[p] = d + (p * pitch + q) * cp;
        for (int a = 0; a < kA; ++a) out[a] = tmp[a * kM + q];
        a_rows(in, out);
      }
      for (int a = 0; a < kA; ++a) {  // rows: m[a*6 + b] = sum_q tmp[a*4 + q] A[b][q]
        const T* in[kM];
        T* out[kA];
        for (int q = 0; q < kM; ++q) in[q] = tmp[a * kM + q];
        for (int b = 0; b < kA; ++b) out[b] = m + (a * kA + b) * ld_xi + tw * cp + c0;
        a_rows(in, out);
      }
    }
}

// v = the transformed input tiles of tile rows [r0, r1) (tile t = (r - r0) * tiles_w + tw),
// rows of v ld_xi apart; strip is scratch.
template <class T>
void transform_block_inputs(const ConvShape& s, const Tiling& t, const T* x, int64_t r0,
                            int64_t r1, T* strip, T* v, int64_t ld_xi) {
  const int64_t ci = s.in_channels, cp = padded_channels(ci), pitch = t.tiles_w * kM + 2;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / t.tiles_h, th = r % t.tiles_h;
    to_channels_last(x + n * ci * s.in_h * s.in_w, ci, s.in_h, s.in_w, th * kM - s.pad_h, kA,
                     s.pad_w, pitch, strip);
    transform_strip(strip, pitch, cp, t.tiles_w, v + (r - r0) * t.tiles_w * cp, ld_xi);
  }
}

// y = conv(x, filters with transformed form u) (+ bias); Accumulate adds to y instead.
// Per block: the input tiles transformed, 36 GEMMs (tiles x in_channels times the transposed
// out_channels x in_channels filters), and each tile row transformed back and stored.
template <class T, bool Accumulate>
void winograd_apply(const ConvShape& s, const T* x, const T* u, const T* bias, T* y) {
  const Tiling t = make_tiling(s, sizeof(T));
  const int64_t ci = s.in_channels, co = s.out_channels, cp = padded_channels(ci),
                cop = padded_channels(co);
  const int64_t tiles = round_up(t.block_tiles, Panel<T>::R);
  const int64_t ld_v = xi_pitch(tiles, ci), ld_m = xi_pitch(tiles, co);
  const int64_t out_plane = s.out_h * s.out_w, pitch = t.tiles_w * kM;
  parallel_chunks(0, t.blocks, [&](int64_t b_lo, int64_t b_hi) {
    const auto [v, m, strip] = block_buffers<T>(s, t);
    for (int64_t blk = b_lo; blk < b_hi; ++blk) {
      const int64_t r0 = t.begin(blk), r1 = t.begin(blk + 1);
      const int64_t cols = (r1 - r0) * t.tiles_w;
      transform_block_inputs(s, t, x, r0, r1, strip, v, ld_v);
      for (int xi = 0; xi < kXi; ++xi)
        panel_gemm<T, false, false>(round_up(cols, Panel<T>::R), cop, ci, v + xi * ld_v, cp,
                                    u + xi * ci * cop, cop, m + xi * ld_m, cop);
      for (int64_t r = r0; r < r1; ++r) {
        inverse_strip(m + (r - r0) * t.tiles_w * cop, ld_m, cop, t.tiles_w, strip, pitch);
        from_channels_last<T, Accumulate>(strip, pitch, co, s.out_h, s.out_w,
                                          r % t.tiles_h * kM, kM, bias,
                                          y + r / t.tiles_h * co * out_plane);
      }
    }
  });
}

// dw[o][c] += G^T du[.][o][c] G for every filter, kLanes input channels of one output
// channel at a time (du laid out [xi][o][c] with rows ld and ld_xi per xi apart).
template <class T>
void inverse_filters(const ConvShape& s, const T* du, int64_t ld, int64_t ld_xi, T* dw) {
  const int64_t ci = s.in_channels, c_blocks = padded_channels(ci) / kLanes;
  parallel_for(0, s.out_channels * c_blocks, [&](int64_t blk) {
    const int64_t oc = blk / c_blocks, c0 = blk % c_blocks * kLanes;
    const int64_t lanes = std::min(kLanes, ci - c0);
    T u[kXi][kLanes], tmp[3 * kA][kLanes], g[9][kLanes];
    for (int xi = 0; xi < kXi; ++xi) std::copy_n(du + xi * ld_xi + oc * ld + c0, kLanes, u[xi]);
    for (int b = 0; b < kA; ++b) {  // columns: tmp[i*6 + b] = sum_a G[a][i] u[a*6 + b]
      const T* in[kA];
      T* o[3];
      for (int a = 0; a < kA; ++a) in[a] = u[a * kA + b];
      for (int i = 0; i < 3; ++i) o[i] = tmp[i * kA + b];
      gt_rows(in, o);
    }
    for (int i = 0; i < 3; ++i) {  // rows: g[i*3 + j] = sum_b tmp[i*6 + b] G[b][j]
      const T* in[kA];
      T* o[3];
      for (int b = 0; b < kA; ++b) in[b] = tmp[i * kA + b];
      for (int j = 0; j < 3; ++j) o[j] = g[i * 3 + j];
      gt_rows(in, o);
    }
    for (int64_t l = 0; l < lanes; ++l)
      for (int e = 0; e < 9; ++e) dw[(oc * ci + c0 + l) * 9 + e] += g[e][l];
  });
}

// dw += the weight gradient in the Winograd domain: with V = B^T d B of the input patches
// (as in the forward) and dM = A dy A^T of the output-gradient tiles,
// du[xi][o][c] = sum over tiles dM[xi][tile][o] V[xi][tile][c] (36 GEMMs per block, the
// long dimension the block's tiles), then dw[o][c] += G^T du[o][c] G. Each chunk of blocks
// (one per thread) sums into its own du, the chunks' du are added in chunk order.
template <class T>
void winograd_weight_grad(const ConvShape& s, const T* x, const T* dy, T* dw) {
  const Tiling t = make_tiling(s, sizeof(T));
  // du[xi] has the out channels (rounded up to panel rows) as rows and in channels as
  // columns; its extra rows read the padding lanes of dm (and up to Panel<T>::R - 1 lanes
  // past the last tile's: inside the spare line of xi_pitch) and are ignored.
  const int64_t ci = s.in_channels, co = s.out_channels, cp = padded_channels(ci),
                cop = padded_channels(co);
  const int64_t co_rows = round_up(co, Panel<T>::R), du_xi = co_rows * cp, du_size = kXi * du_xi;
  const int64_t tiles = round_up(t.block_tiles, Panel<T>::R);
  const int64_t ld_v = xi_pitch(tiles, ci), ld_m = xi_pitch(tiles, co);
  const int64_t out_plane = s.out_h * s.out_w, pitch = t.tiles_w * kM;
  const int64_t chunks = parallel_chunk_count(t.blocks);
  thread_local std::vector<T> du_buffer;
  T* du = grown(du_buffer, chunks * du_size);
  parallel_for(0, chunks, [&](int64_t chunk) {
    const auto [v, m, strip] = block_buffers<T>(s, t);
    T* du_chunk = du + chunk * du_size;
    const int64_t b_lo = t.blocks * chunk / chunks, b_hi = t.blocks * (chunk + 1) / chunks;
    for (int64_t blk = b_lo; blk < b_hi; ++blk) {
      const int64_t r0 = t.begin(blk), r1 = t.begin(blk + 1);
      const int64_t cols = (r1 - r0) * t.tiles_w;
      transform_block_inputs(s, t, x, r0, r1, strip, v, ld_v);
      for (int64_t r = r0; r < r1; ++r) {
        to_channels_last(dy + r / t.tiles_h * co * out_plane, co, s.out_h, s.out_w,
                         r % t.tiles_h * kM, kM, 0, pitch, strip);
        transform_grad_strip(strip, pitch, cop, t.tiles_w, m + (r - r0) * t.tiles_w * cop, ld_m);
      }
      for (int xi = 0; xi < kXi; ++xi) {
        T* du_xi_chunk = du_chunk + xi * du_xi;
        if (blk == b_lo)
          panel_gemm<T, true, false>(co_rows, cp, cols, m + xi * ld_m, cop, v + xi * ld_v, cp,
                                     du_xi_chunk, cp);
        else
          panel_gemm<T, true, true>(co_rows, cp, cols, m + xi * ld_m, cop, v + xi * ld_v, cp,
                                    du_xi_chunk, cp);
      }
    }
  });
  parallel_chunks(0, du_size, [&](int64_t lo, int64_t hi) {
    for (int64_t c = 1; c < chunks; ++c)
      for (int64_t i = lo; i < hi; ++i) du[i] += du[c * du_size + i];
  });
  inverse_filters(s, du, cp, du_xi, dw);
}

// dbias[o] += sum of dy over the batch and the plane of o, in double.
template <class T>
void bias_grad(const ConvShape& s, const T* dy, T* dbias) {
  const int64_t plane = s.out_h * s.out_w;
  parallel_for(0, s.out_channels, [&](int64_t o) {
    double sum = 0;
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* p = dy + (n * s.out_channels + o) * plane;
      T part = 0;
#pragma omp simd reduction(+ : part)
      for (int64_t i = 0; i < plane; ++i) part += p[i];
      sum += part;
    }
    dbias[o] += static_cast<T>(sum);
  });
}

}  // namespace

bool is_winograd(const ConvShape& s) {
  return s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1 && s.groups == 1 && s.pad_h <= 2 && s.pad_w <= 2 &&
         symmetric_padding(s);
}

template <class T>
void conv2d_forward_winograd(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  winograd_apply<T, false>(s, x, transform_filters(s, w), bias, y);
}

template <class T>
void conv2d_backward_winograd(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                              T* dbias) {
  if (dx) {
    // dx[n][c][ih][iw] = sum_{o,i,j} w[o][c][i][j] * dy[n][o][ih + pad - i][iw + pad - j]:
    // a 3x3 convolution of dy with w'[c][o][i][j] = w[o][c][2-i][2-j] and padding 2 - pad.
    ConvShape t = s;
    t.in_channels = s.out_channels;
    t.out_channels = s.in_channels;
    t.in_h = s.out_h;
    t.in_w = s.out_w;
    t.out_h = s.in_h;
    t.out_w = s.in_w;
    t.pad_h = 2 - s.pad_h;
    t.pad_w = 2 - s.pad_w;
    std::vector<T> flipped(static_cast<size_t>(s.out_channels * s.in_channels * 9));
    for (int64_t o = 0; o < s.out_channels; ++o)
      for (int64_t c = 0; c < s.in_channels; ++c)
        for (int k = 0; k < 9; ++k)
          flipped[(c * s.out_channels + o) * 9 + k] = w[(o * s.in_channels + c) * 9 + 8 - k];
    winograd_apply<T, true>(t, dy, transform_filters(t, flipped.data()), nullptr, dx);
  }
  if (dw) winograd_weight_grad(s, x, dy, dw);
  if (dbias) bias_grad(s, dy, dbias);
}

#define PICONAS_INSTANTIATE_WINOGRAD(T)                                                         \
  template void conv2d_forward_winograd<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_winograd<T>(const ConvShape&, const T*, const T*, const T*, T*, \
                                            T*, T*);
PICONAS_INSTANTIATE_WINOGRAD(float)
PICONAS_INSTANTIATE_WINOGRAD(double)

}  // namespace piconas::ops
