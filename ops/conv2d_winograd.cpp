#include "ops/conv2d_winograd.h"

#include <algorithm>
#include <vector>

#include "core/gemm.h"
#include "core/parallel.h"
#include "ops/conv2d_gemm.h"

namespace piconas::ops {

namespace {

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
  const int64_t per_tile = kXi * (s.in_channels + s.out_channels) * elem_size;
  const int64_t tiles = std::max<int64_t>(std::min(kBlockBytes / per_tile, kBlockTiles), 1);
  const int64_t rows_per_block = std::clamp<int64_t>(tiles / t.tiles_w, 1, t.tile_rows);
  const int64_t blocks = (t.tile_rows + rows_per_block - 1) / rows_per_block;
  t.blocks = std::min(blocks + blocks % 2, t.tile_rows);
  t.block_tiles = (t.tile_rows + t.blocks - 1) / t.blocks * t.tiles_w;
  return t;
}

// Transforms run on kLanes tiles at a time (one 64-byte vector of floats), rows of lanes
// `ld` apart; block buffers are padded to a multiple of kLanes (the extra lanes are computed
// and ignored).
constexpr int64_t kLanes = 16;

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

// out[k] = (A^T m)[k] (+ bias) for the 1-D output transform of 6 rows of kLanes lanes.
template <class T>
void at_rows(const T* const in[kA], T bias, T* const out[kM]) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const T m0 = in[0][l], m1 = in[1][l], m2 = in[2][l], m3 = in[3][l], m4 = in[4][l],
            m5 = in[5][l];
    const T s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
    out[0][l] = bias + m0 + s12 + s34;
    out[1][l] = bias + d12 + T(2) * d34;
    out[2][l] = bias + s12 + T(4) * s34;
    out[3][l] = bias + d12 + T(8) * d34 + m5;
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

// Lanes from one transformed element xi's rows to the next: channels * ld plus one spare
// cache line, so that the 36 blocks of rows do not all start at the same offset modulo 4 KiB
// (with 64 channels and ld a multiple of 16 they would, and the L1 sets they map to collide).
inline int64_t xi_pitch(int64_t channels, int64_t ld) { return channels * ld + kLanes; }

// Buffers kept by each thread from call to call and grown to the largest size asked for:
// a call at batch 1 is short enough that allocating (and faulting in) fresh ones cost ~40 %
// of it (perf, conv64_3x3_56 batch 1). New elements are zero; lanes past a block's tiles keep
// values of earlier calls, which reach only lanes that are computed and ignored.
template <class T>
T* grown(std::vector<T>& buffer, int64_t size) {
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size), T(0));
  return buffer.data();
}

template <class T>
struct BlockScratch {
  std::vector<T> v, m, d, prow;
};

// The calling thread's block scratch, shared by the forward (and dx) and the weight gradient.
template <class T>
BlockScratch<T>& thread_scratch() {
  thread_local BlockScratch<T> scratch;
  return scratch;
}

// The calling thread's scratch sized for one block of ld tiles: v (transformed input patches,
// ci channels), m (transformed outputs, co channels), d (one channel's patches) and prow (one
// padded input row, zeroed: its borders are the zero padding).
template <class T>
struct BlockBuffers {
  T *v, *m, *d, *prow;
};

template <class T>
BlockBuffers<T> block_buffers(int64_t ci, int64_t co, int64_t ld, int64_t pitch) {
  BlockScratch<T>& scratch = thread_scratch<T>();
  BlockBuffers<T> b{grown(scratch.v, kXi * xi_pitch(ci, ld)), grown(scratch.m, kXi * xi_pitch(co, ld)),
                    grown(scratch.d, kXi * ld), grown(scratch.prow, pitch)};
  std::fill_n(b.prow, pitch, T(0));
  return b;
}

// U[xi][o][c] = (G g G^T)[xi] for every filter g = w[o][c], kLanes filters at a time, into
// the calling thread's buffer.
template <class T>
const T* transform_filters(const ConvShape& s, const T* w) {
  thread_local std::vector<T> buffer;
  const int64_t oc = s.out_channels * s.in_channels;
  T* u = grown(buffer, kXi * oc);
  parallel_for(0, (oc + kLanes - 1) / kLanes, [&](int64_t blk) {
    const int64_t k0 = blk * kLanes, lanes = std::min(kLanes, oc - k0);
    T g[9][kLanes] = {}, tmp[kA * 3][kLanes], out[kXi][kLanes];
    for (int64_t l = 0; l < lanes; ++l)
      for (int e = 0; e < 9; ++e) g[e][l] = w[(k0 + l) * 9 + e];
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
    for (int xi = 0; xi < kXi; ++xi) std::copy_n(out[xi], lanes, u + xi * oc + k0);
  });
  return u;
}

// Gathers the 6x6 input patches of tile row th (image plane x_plane) into d[i*6 + j][t0 + tw]
// (rows ld apart). prow (tiles_w * 4 + 2 elements) holds one input row at offset pad_w; its
// other elements stay zero.

template <class T>
void gather_patches(const ConvShape& s, const Tiling& t, const T* x_plane, int64_t th, T* prow,
                    T* d, int64_t ld, int64_t t0) {
  for (int i = 0; i < kA; ++i) {
    const int64_t ih = th * kM - s.pad_h + i;
    if (ih < 0 || ih >= s.in_h) {
      for (int j = 0; j < kA; ++j) std::fill_n(d + (i * kA + j) * ld + t0, t.tiles_w, T(0));
      continue;
    }
    std::copy_n(x_plane + ih * s.in_w, s.in_w, prow + s.pad_w);
    for (int j = 0; j < kA; ++j) {
      T* dst = d + (i * kA + j) * ld + t0;
      const T* src = prow + j;
      for (int64_t tw = 0; tw < t.tiles_w; ++tw) dst[tw] = src[tw * kM];
    }
  }
}

// v[xi * ld_xi + t] = (B^T d B)[xi] for the tiles t < n (rounded up to kLanes) of d.
template <class T>
void transform_patches(const T* d, int64_t ld, int64_t n, T* v, int64_t ld_xi) {
  T tmp[kXi][kLanes];
  for (int64_t t = 0; t < n; t += kLanes) {
    for (int j = 0; j < kA; ++j) {  // columns: tmp[a*6 + j] = sum_i BT[a][i] d[i*6 + j]
      const T* in[kA];
      T* out[kA];
      for (int k = 0; k < kA; ++k) {
        in[k] = d + (k * kA + j) * ld + t;
        out[k] = tmp[k * kA + j];
      }
      bt_rows(in, out);
    }
    for (int a = 0; a < kA; ++a) {  // rows: v[a*6 + b] = sum_j tmp[a*6 + j] BT[b][j]
      const T* in[kA];
      T* out[kA];
      for (int k = 0; k < kA; ++k) {
        in[k] = tmp[a * kA + k];
        out[k] = v + (a * kA + k) * ld_xi + t;
      }
      bt_rows(in, out);
    }
  }
}

// out[p*4 + q][t] = (A^T m A)[p][q] + bias for the tiles t < n of m (rows ld_xi apart).
template <class T>
void inverse_patches(const T* m, int64_t ld_xi, int64_t n, T bias, T* out, int64_t ld) {
  T z[kA * kM][kLanes];
  for (int64_t t = 0; t < n; t += kLanes) {
    for (int a = 0; a < kA; ++a) {  // z[a*4 + q] = sum_b m[a*6 + b] AT[q][b]
      const T* in[kA];
      T* o[kM];
      for (int k = 0; k < kA; ++k) in[k] = m + (a * kA + k) * ld_xi + t;
      for (int q = 0; q < kM; ++q) o[q] = z[a * kM + q];
      at_rows(in, T(0), o);
    }
    for (int q = 0; q < kM; ++q) {  // out[p*4 + q] = sum_a AT[p][a] z[a*4 + q] + bias
      const T* in[kA];
      T* o[kM];
      for (int k = 0; k < kA; ++k) in[k] = z[k * kM + q];
      for (int p = 0; p < kM; ++p) o[p] = out + (p * kM + q) * ld + t;
      at_rows(in, bias, o);
    }
  }
}

// y rows of tile row th (+)= out[p*4 + q][t0 + tw], cropped to the output.
template <class T, bool Accumulate>
void scatter_tiles(const ConvShape& s, const T* out, int64_t ld, int64_t t0, int64_t th,
                   T* y_plane) {
  for (int p = 0; p < kM && th * kM + p < s.out_h; ++p) {
    T* row = y_plane + (th * kM + p) * s.out_w;
    for (int q = 0; q < kM; ++q) {
      const T* src = out + (p * kM + q) * ld + t0;
      const int64_t full = (s.out_w - q + kM - 1) / kM;  // tiles whose column q is inside
      for (int64_t tw = 0; tw < full; ++tw) {
        if (Accumulate)
          row[tw * kM + q] += src[tw];
        else
          row[tw * kM + q] = src[tw];
      }
    }
  }
}

// v[xi][c][tile] = (B^T d B)[xi] for every input channel c and the tiles of tile rows
// [r0, r1) (rows of v ld apart); d and prow are scratch (see gather_patches).
template <class T>
void transform_block_inputs(const ConvShape& s, const Tiling& t, const T* x, int64_t r0,
                            int64_t r1, T* prow, T* d, int64_t ld, T* v) {
  const int64_t ci = s.in_channels, in_plane = s.in_h * s.in_w;
  const int64_t cols = (r1 - r0) * t.tiles_w;
  for (int64_t c = 0; c < ci; ++c) {
    for (int64_t r = r0; r < r1; ++r)
      gather_patches(s, t, x + (r / t.tiles_h * ci + c) * in_plane, r % t.tiles_h, prow, d, ld,
                     (r - r0) * t.tiles_w);
    transform_patches(d, ld, cols, v + c * ld, xi_pitch(ci, ld));
  }
}

// y = conv(x, filters with transformed form u) (+ bias); Accumulate adds to y instead.
template <class T, bool Accumulate>
void winograd_apply(const ConvShape& s, const T* x, const T* u, const T* bias, T* y) {
  const Tiling t = make_tiling(s, sizeof(T));
  const int64_t ci = s.in_channels, co = s.out_channels;
  const int64_t out_plane = s.out_h * s.out_w;
  const int64_t ld = (t.block_tiles + kLanes - 1) / kLanes * kLanes;
  const int64_t pitch = t.tiles_w * kM + 2;
  parallel_chunks(0, t.blocks, [&](int64_t b_lo, int64_t b_hi) {
    const auto [v, m, d, prow] = block_buffers<T>(ci, co, ld, pitch);
    for (int64_t blk = b_lo; blk < b_hi; ++blk) {
      const int64_t r0 = t.begin(blk), r1 = t.begin(blk + 1);
      const int64_t cols = (r1 - r0) * t.tiles_w;
      transform_block_inputs(s, t, x, r0, r1, prow, d, ld, v);
      for (int xi = 0; xi < kXi; ++xi)
        gemm(Trans::No, Trans::No, co, cols, ci, T(1), u + xi * co * ci, ci,
             v + xi * xi_pitch(ci, ld), ld, T(0), m + xi * xi_pitch(co, ld), ld);
      for (int64_t o = 0; o < co; ++o) {
        inverse_patches(m + o * ld, xi_pitch(co, ld), cols, bias ? bias[o] : T(0), d, ld);
        for (int64_t r = r0; r < r1; ++r)
          scatter_tiles<T, Accumulate>(s, d, ld, (r - r0) * t.tiles_w, r % t.tiles_h,
                                       y + (r / t.tiles_h * co + o) * out_plane);
      }
    }
  });
}

// Gathers the 4x4 output-gradient tiles of tile row th (plane dy_plane) into
// e[p*4 + q][t0 + tw] (rows ld apart); rows and columns past the output are zero (the
// forward crops them). prow holds one dy row; its elements past out_w stay zero.
template <class T>
void gather_tiles(const ConvShape& s, const Tiling& t, const T* dy_plane, int64_t th, T* prow,
                  T* e, int64_t ld, int64_t t0) {
  for (int p = 0; p < kM; ++p) {
    const int64_t oh = th * kM + p;
    if (oh >= s.out_h) {
      for (int q = 0; q < kM; ++q) std::fill_n(e + (p * kM + q) * ld + t0, t.tiles_w, T(0));
      continue;
    }
    std::copy_n(dy_plane + oh * s.out_w, s.out_w, prow);
    for (int q = 0; q < kM; ++q) {
      T* dst = e + (p * kM + q) * ld + t0;
      for (int64_t tw = 0; tw < t.tiles_w; ++tw) dst[tw] = prow[tw * kM + q];
    }
  }
}

// m[xi * ld_xi + t] = (A e A^T)[xi] for the tiles t < n (rounded up to kLanes) of e.
template <class T>
void transform_tiles(const T* e, int64_t ld, int64_t n, T* m, int64_t ld_xi) {
  T tmp[kA * kM][kLanes];
  for (int64_t t = 0; t < n; t += kLanes) {
    for (int q = 0; q < kM; ++q) {  // columns: tmp[a*4 + q] = sum_p A[a][p] e[p*4 + q]
      const T* in[kM];
      T* out[kA];
      for (int p = 0; p < kM; ++p) in[p] = e + (p * kM + q) * ld + t;
      for (int a = 0; a < kA; ++a) out[a] = tmp[a * kM + q];
      a_rows(in, out);
    }
    for (int a = 0; a < kA; ++a) {  // rows: m[a*6 + b] = sum_q tmp[a*4 + q] A[b][q]
      const T* in[kM];
      T* out[kA];
      for (int q = 0; q < kM; ++q) in[q] = tmp[a * kM + q];
      for (int b = 0; b < kA; ++b) out[b] = m + (a * kA + b) * ld_xi + t;
      a_rows(in, out);
    }
  }
}

// dw[o][c] += G^T du[.][o][c] G for every filter, kLanes filters at a time (du as U in
// transform_filters: du[xi * oc + o * in_channels + c]).
template <class T>
void inverse_filters(const ConvShape& s, const T* du, T* dw) {
  const int64_t oc = s.out_channels * s.in_channels;
  parallel_for(0, (oc + kLanes - 1) / kLanes, [&](int64_t blk) {
    const int64_t k0 = blk * kLanes, lanes = std::min(kLanes, oc - k0);
    T u[kXi][kLanes] = {}, tmp[3 * kA][kLanes], g[9][kLanes];
    for (int xi = 0; xi < kXi; ++xi) std::copy_n(du + xi * oc + k0, lanes, u[xi]);
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
      for (int e = 0; e < 9; ++e) dw[(k0 + l) * 9 + e] += g[e][l];
  });
}

// dw += the weight gradient in the Winograd domain: with V = B^T d B of the input patches
// (as in the forward) and dM = A dy A^T of the output-gradient tiles,
// du[xi][o][c] = sum over tiles dM[xi][o][tile] V[xi][c][tile] (36 GEMMs per block, the
// long dimension the block's tiles), then dw[o][c] += G^T du[o][c] G. Each chunk of blocks
// sums into its own du, the chunks' du are added in chunk order; the number of chunks is fixed
// by the size (core/parallel.h fixed_part_count), so dw is the same for any thread count.
template <class T>
void winograd_weight_grad(const ConvShape& s, const T* x, const T* dy, T* dw) {
  const Tiling t = make_tiling(s, sizeof(T));
  const int64_t ci = s.in_channels, co = s.out_channels, du_size = kXi * co * ci;
  const int64_t out_plane = s.out_h * s.out_w;
  const int64_t ld = (t.block_tiles + kLanes - 1) / kLanes * kLanes;
  const int64_t pitch = t.tiles_w * kM + 2;
  const int64_t chunks = fixed_part_count(t.blocks);
  thread_local std::vector<T> du_buffer;
  T* du = grown(du_buffer, chunks * du_size);
  parallel_for(0, chunks, [&](int64_t chunk) {
    const auto [v, m, d, prow] = block_buffers<T>(ci, co, ld, pitch);
    T* du_chunk = du + chunk * du_size;
    const int64_t b_lo = t.blocks * chunk / chunks, b_hi = t.blocks * (chunk + 1) / chunks;
    for (int64_t blk = b_lo; blk < b_hi; ++blk) {
      const int64_t r0 = t.begin(blk), r1 = t.begin(blk + 1);
      const int64_t cols = (r1 - r0) * t.tiles_w;
      transform_block_inputs(s, t, x, r0, r1, prow, d, ld, v);
      std::fill_n(prow, pitch, T(0));  // gather_tiles needs zeros past out_w
      for (int64_t o = 0; o < co; ++o) {
        for (int64_t r = r0; r < r1; ++r)
          gather_tiles(s, t, dy + (r / t.tiles_h * co + o) * out_plane, r % t.tiles_h, prow, d,
                       ld, (r - r0) * t.tiles_w);
        transform_tiles(d, ld, cols, m + o * ld, xi_pitch(co, ld));
      }
      std::fill_n(prow, pitch, T(0));
      const T beta = blk == b_lo ? T(0) : T(1);
      for (int xi = 0; xi < kXi; ++xi)
        gemm(Trans::No, Trans::Yes, co, ci, cols, T(1), m + xi * xi_pitch(co, ld), ld,
             v + xi * xi_pitch(ci, ld), ld, beta, du_chunk + xi * co * ci, ci);
    }
  });
  parallel_chunks(0, du_size, [&](int64_t lo, int64_t hi) {
    for (int64_t c = 1; c < chunks; ++c)
      for (int64_t i = lo; i < hi; ++i) du[i] += du[c * du_size + i];
  });
  inverse_filters(s, du, dw);
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
