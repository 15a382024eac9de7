#include "ops/conv2d_winograd.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "ops/winograd_tiles.h"

namespace piconas::ops {

namespace {

using namespace winograd_tiles;

// A block's scratch (transformed inputs and GEMM outputs) holds at most this many bytes and
// its GEMMs at most this many tiles (columns); then the tile rows are cut into an even number
// of near-equal blocks, so that 2 threads get equal shares. Measured (bench_conv2d, 1 thread,
// CPU time): conv64_3x3_56 at batch 1 and 32 ~1.13x faster with 98-112 tile blocks than with
// 42-84 (the old 1.5 MiB limit and at least 4 blocks); conv32_3x3_24 at batch 32 ~0.9x with
// 192-tile blocks (2 MiB alone).
constexpr int64_t kBlockBytes = 2048 * 1024;
constexpr int64_t kBlockTiles = 144;

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
          grown(scratch.m, kXi * xi_pitch(tiles, s.out_channels)), grown(scratch.strip, strip)};
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
void inverse_strip(const T* m, int64_t ld_xi, int64_t cp, int64_t tiles_w, T* out, int64_t pitch) {
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
void transform_block_inputs(const ConvShape& s, const Tiling& t, const T* x, int64_t r0, int64_t r1,
                            T* strip, T* v, int64_t ld_xi) {
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
        from_channels_last<T, Accumulate>(strip, pitch, co, s.out_h, s.out_w, r % t.tiles_h * kM,
                                          kM, bias, y + r / t.tiles_h * co * out_plane);
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
// sums into its own du, the chunks' du are added in chunk order; the number of chunks is fixed
// by the size (core/parallel.h fixed_part_count), so dw is the same for any thread count.
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
  const int64_t chunks = fixed_part_count(t.blocks);
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
