#include "ops/layernorm2d.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/parallel.h"

namespace piconas::ops {

namespace {

// Work is split into tiles of up to kTile consecutive positions (h, w) of one image. Inside a
// tile the loops run over channels outside and positions inside, so every inner loop reads a
// contiguous row of an NCHW plane and vectorises; the per-position sums live in a small
// double array on the stack.
constexpr int64_t kTile = 256;

struct Tile {
  int64_t n, s0, len;
};

inline int64_t tiles_per_image(const NormShape& s) { return (s.spatial + kTile - 1) / kTile; }

inline Tile tile_of(const NormShape& s, int64_t t) {
  int64_t per = tiles_per_image(s);
  Tile tile{t / per, (t % per) * kTile, 0};
  tile.len = std::min(kTile, s.spatial - tile.s0);
  return tile;
}

}  // namespace

template <class T>
void layernorm2d_forward(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                         T* y, T* save_mean, T* save_invstd) {
  const int64_t C = s.channels, S = s.spatial;
  parallel_for(0, s.batch * tiles_per_image(s), [&](int64_t t) {
    const Tile tile = tile_of(s, t);
    const T* xb = x + tile.n * C * S + tile.s0;
    T* yb = y + tile.n * C * S + tile.s0;
    std::array<double, kTile> mean{}, sq{};
    // Two passes in double: mean first, then squared deviations.
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < tile.len; ++j) mean[j] += xb[c * S + j];
    for (int64_t j = 0; j < tile.len; ++j) mean[j] /= static_cast<double>(C);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < tile.len; ++j) {
        double d = xb[c * S + j] - mean[j];
        sq[j] += d * d;
      }
    // The mean is kept as mean_hi + mean_lo so x - mean_hi is exact when |mean| >> std
    // (see channel_affine in batchnorm2d.cpp).
    std::array<T, kTile> mean_t, mean_lo, invstd_t;
    for (int64_t j = 0; j < tile.len; ++j) {
      mean_t[j] = static_cast<T>(mean[j]);
      mean_lo[j] = static_cast<T>(mean[j] - static_cast<double>(mean_t[j]));
      invstd_t[j] = static_cast<T>(1.0 / std::sqrt(sq[j] / static_cast<double>(C) + eps));
      save_mean[tile.n * S + tile.s0 + j] = mean_t[j];
      save_invstd[tile.n * S + tile.s0 + j] = invstd_t[j];
    }
    for (int64_t c = 0; c < C; ++c) {
      const T g = gamma[c], b = beta[c];
      for (int64_t j = 0; j < tile.len; ++j)
        yb[c * S + j] = g * ((xb[c * S + j] - mean_t[j]) - mean_lo[j]) * invstd_t[j] + b;
    }
  });
}

// Per position, with xhat_c = (x_c - mean) * invstd and g_c = dy_c * gamma_c over C channels:
//   dx_c = invstd / C * (C * g_c - sum g - xhat_c * sum(g * xhat)).
// dgamma / dbeta reduce over every position; they run as a separate pass parallel over
// channels, so each thread owns its channels' entries and no partial buffers are needed.
template <class T>
void layernorm2d_backward(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                          const T* save_invstd, const T* dy, T* dx, T* dgamma, T* dbeta) {
  const int64_t C = s.channels, S = s.spatial;
  if (dgamma || dbeta) {
    parallel_for(0, C, [&](int64_t c) {
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const T* xp = x + (n * C + c) * S;
        const T* gp = dy + (n * C + c) * S;
        const T* mp = save_mean + n * S;
        const T* ip = save_invstd + n * S;
        for (int64_t j = 0; j < S; ++j) {
          sum_dy += gp[j];
          sum_dy_xhat += static_cast<double>(gp[j]) * (xp[j] - mp[j]) * ip[j];
        }
      }
      if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
      if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
    });
  }
  if (!dx) return;
  parallel_for(0, s.batch * tiles_per_image(s), [&](int64_t t) {
    const Tile tile = tile_of(s, t);
    const int64_t off = tile.n * C * S + tile.s0;
    const T* xb = x + off;
    const T* gb = dy + off;
    T* db = dx + off;
    const T* mean = save_mean + tile.n * S + tile.s0;
    const T* invstd = save_invstd + tile.n * S + tile.s0;
    std::array<double, kTile> sum_g{}, sum_gx{};
    for (int64_t c = 0; c < C; ++c) {
      const double gm = gamma[c];
      for (int64_t j = 0; j < tile.len; ++j) {
        double g = gb[c * S + j] * gm;
        sum_g[j] += g;
        sum_gx[j] += g * (xb[c * S + j] - mean[j]) * invstd[j];
      }
    }
    std::array<T, kTile> mean_g, mean_gx;
    for (int64_t j = 0; j < tile.len; ++j) {
      mean_g[j] = static_cast<T>(sum_g[j] / static_cast<double>(C));
      mean_gx[j] = static_cast<T>(sum_gx[j] / static_cast<double>(C));
    }
    for (int64_t c = 0; c < C; ++c) {
      const T gm = gamma[c];
      for (int64_t j = 0; j < tile.len; ++j) {
        T xhat = (xb[c * S + j] - mean[j]) * invstd[j];
        db[c * S + j] += invstd[j] * (gb[c * S + j] * gm - mean_g[j] - xhat * mean_gx[j]);
      }
    }
  });
}

#define PICONAS_INSTANTIATE_LAYERNORM2D(T)                                                   \
  template void layernorm2d_forward<T>(const NormShape&, const T*, const T*, const T*, T, T*, \
                                       T*, T*);                                              \
  template void layernorm2d_backward<T>(const NormShape&, const T*, const T*, const T*,      \
                                        const T*, const T*, T*, T*, T*);
PICONAS_INSTANTIATE_LAYERNORM2D(float)
PICONAS_INSTANTIATE_LAYERNORM2D(double)
#undef PICONAS_INSTANTIATE_LAYERNORM2D

}  // namespace piconas::ops
