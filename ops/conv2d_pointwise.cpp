#include "ops/conv2d_pointwise.h"

#include <algorithm>
#include <cstring>

#include "ops/depthwise_planes.h"

namespace piconas::ops {

namespace {

using depthwise_planes::kRegisterBytes;
using depthwise_planes::kRegisterLanes;
using depthwise_planes::static_for;
using depthwise_planes::Vec;

// AVX2 has 16 vector registers: 12 accumulators, 3 input vectors, 1 broadcast weight.
// AVX-512 has 32 (and broadcasts from memory inside the FMA): 24 accumulators.
constexpr int kBlockChannels = kRegisterBytes == 64 ? 8 : 4;
constexpr int kBlockVectors = 3;

template <class V, class T>
PICONAS_DW_INLINE inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// y[o][l] for o < channels (at most OB), l < min(cols, CB * B); x row c at x + c * x_ld.
// prefetch_next: also prefetch each row's next CB * B columns (the next panel). Its rows are
// in_channels separate streams, more than the hardware prefetcher follows: AVX2 batch 32
// 1.1x faster with it (bench/README.md, 2026-12-05).
template <class T, int OB, int CB, int B>
PICONAS_DW_INLINE inline void pointwise_pass(int64_t in_channels, const T* __restrict wt,
                                             const T* __restrict bias, int64_t channels,
                                             const T* __restrict x, int64_t x_ld, int64_t cols,
                                             T* __restrict y, int64_t y_ld, bool prefetch_next) {
  using V = Vec<T, B>;
  V acc[OB][CB];
  static_for<OB>([&](auto o) PICONAS_DW_INLINE {
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[o][cb] = V{}; });
  });
  for (int64_t c = 0; c < in_channels; ++c, wt += OB, x += x_ld) {
    V xv[CB];
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE { xv[cb] = load<V>(x + cb * B); });
    if (prefetch_next) {
      static_for<(CB * B * sizeof(T) + 63) / 64>([&](auto line) PICONAS_DW_INLINE {
        __builtin_prefetch(x + CB * B + line * (64 / sizeof(T)));
      });
      __builtin_prefetch(x + 2 * CB * B - 1);
    }
    static_for<OB>([&](auto o) PICONAS_DW_INLINE {
      const T w = wt[o];
      static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[o][cb] += w * xv[cb]; });
    });
  }
  static_for<OB>([&](auto o) PICONAS_DW_INLINE {
    if (o >= channels) return;
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE {
      const V out = bias ? bias[o] + acc[o][cb] : acc[o][cb];
      const int64_t n = std::min<int64_t>(B, cols - cb * B);
      T* d = y + o * y_ld + cb * B;
      if (n == B)
        std::memcpy(d, &out, sizeof(V));
      else
        for (int64_t l = 0; l < n; ++l) d[l] = out[l];
    });
  });
}

}  // namespace

template <class T>
std::vector<T> pack_pointwise_weights(int64_t out_channels, int64_t in_channels, const T* w) {
  constexpr int64_t OB = kBlockChannels;
  const int64_t blocks = (out_channels + OB - 1) / OB;
  std::vector<T> packed(static_cast<size_t>(blocks * in_channels * OB), T(0));
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t c = 0; c < in_channels; ++c)
      packed[static_cast<size_t>(((o / OB) * in_channels + c) * OB + o % OB)] =
          w[o * in_channels + c];
  return packed;
}

template <class T>
void pointwise_forward_columns(int64_t out_channels, int64_t in_channels, int64_t cols,
                               const T* packed_w, const T* bias, const T* x, int64_t ld, T* y) {
  constexpr int OB = kBlockChannels, CB = kBlockVectors, V = kRegisterLanes<T>;
  const int64_t blocks = (out_channels + OB - 1) / OB;
  // The partial vector at the end comes from a zero-padded copy (no load past x's end).
  const int64_t full = cols / V * V, rest = cols - full;
  std::vector<T> tail(rest ? static_cast<size_t>(in_channels * V) : 0, T(0));
  for (int64_t c = 0; c < in_channels && rest; ++c)
    std::copy_n(x + c * ld + full, rest, tail.data() + c * V);
  // Each panel of columns (CB * V wide, then single vectors) meets every block of channels
  // while it is in L1.
  auto blocks_over = [&]<int C>(const T* x_panel, int64_t x_ld, int64_t panel_cols, int64_t q) {
    for (int64_t b = 0; b < blocks; ++b)
      pointwise_pass<T, OB, C, V>(in_channels, packed_w + b * in_channels * OB,
                                  bias ? bias + b * OB : nullptr,
                                  std::min<int64_t>(OB, out_channels - b * OB), x_panel, x_ld,
                                  panel_cols, y + b * OB * ld + q, ld,
                                  C == CB && b == 0 && q + 2 * CB * V <= cols);
  };
  int64_t q = 0;
  for (; cols - q >= CB * V; q += CB * V)
    blocks_over.template operator()<CB>(x + q, ld, CB * V, q);
  for (; cols - q >= V; q += V) blocks_over.template operator()<1>(x + q, ld, V, q);
  if (rest) blocks_over.template operator()<1>(tail.data(), V, rest, full);
}

template <class T>
void pointwise_forward_columns_naive(int64_t out_channels, int64_t in_channels, int64_t cols,
                                     const T* w, const T* bias, const T* x, int64_t ld, T* y) {
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t q = 0; q < cols; ++q) {
      double sum = bias ? double(bias[o]) : 0.0;
      for (int64_t c = 0; c < in_channels; ++c)
        sum += double(w[o * in_channels + c]) * double(x[c * ld + q]);
      y[o * ld + q] = static_cast<T>(sum);
    }
}

#define PICONAS_INSTANTIATE_POINTWISE(T)                                                          \
  template std::vector<T> pack_pointwise_weights<T>(int64_t, int64_t, const T*);                  \
  template void pointwise_forward_columns<T>(int64_t, int64_t, int64_t, const T*, const T*,       \
                                             const T*, int64_t, T*);                              \
  template void pointwise_forward_columns_naive<T>(int64_t, int64_t, int64_t, const T*, const T*, \
                                                   const T*, int64_t, T*);
PICONAS_INSTANTIATE_POINTWISE(float)
PICONAS_INSTANTIATE_POINTWISE(double)

}  // namespace piconas::ops
