#include "ops/conv2d_pointwise.h"

#include <algorithm>
#include <cstring>

#include "core/allocator.h"
#include "core/gemm.h"
#include "core/parallel.h"
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
template <class T, int OB, int CB, int B, PointwiseStore store>
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
      if (n == B) {
        const V stored = [&] {
          if constexpr (store == PointwiseStore::Add) return load<V>(d) + out;
          else return out;
        }();
        std::memcpy(d, &stored, sizeof(V));
      } else {
        for (int64_t l = 0; l < n; ++l) d[l] = store == PointwiseStore::Add ? T(d[l] + out[l]) : T(out[l]);
      }
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
std::vector<T> pack_pointwise_weights_transposed(int64_t out_channels, int64_t in_channels,
                                                 const T* w) {
  std::vector<T> w_t(static_cast<size_t>(in_channels * out_channels));
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t c = 0; c < in_channels; ++c)
      w_t[static_cast<size_t>(c * out_channels + o)] = w[o * in_channels + c];
  return pack_pointwise_weights(in_channels, out_channels, w_t.data());
}

template <class T>
void pointwise_forward_columns(int64_t out_channels, int64_t in_channels, int64_t cols,
                               const T* packed_w, const T* bias, const T* x, int64_t ld, T* y,
                               PointwiseStore store) {
  constexpr int OB = kBlockChannels, CB = kBlockVectors, V = kRegisterLanes<T>;
  const int64_t blocks = (out_channels + OB - 1) / OB;
  // The partial vector at the end comes from a zero-padded copy (no load past x's end).
  const int64_t full = cols / V * V, rest = cols - full;
  std::vector<T> tail(rest ? static_cast<size_t>(in_channels * V) : 0, T(0));
  for (int64_t c = 0; c < in_channels && rest; ++c)
    std::copy_n(x + c * ld + full, rest, tail.data() + c * V);
  // Each panel of columns (CB * V wide, then single vectors) meets every block of channels
  // while it is in L1.
  // The store mode is a template argument: the forward's passes compile as without it.
  auto blocks_over = [&]<int C>(const T* x_panel, int64_t x_ld, int64_t panel_cols, int64_t q) {
    for (int64_t b = 0; b < blocks; ++b) {
      const T* wb = packed_w + b * in_channels * OB;
      const T* bb = bias ? bias + b * OB : nullptr;
      const int64_t channels = std::min<int64_t>(OB, out_channels - b * OB);
      T* yb = y + b * OB * ld + q;
      const bool prefetch = C == CB && b == 0 && q + 2 * CB * V <= cols;
      if (store == PointwiseStore::Add)
        pointwise_pass<T, OB, C, V, PointwiseStore::Add>(in_channels, wb, bb, channels, x_panel,
                                                         x_ld, panel_cols, yb, ld, prefetch);
      else
        pointwise_pass<T, OB, C, V, PointwiseStore::Overwrite>(in_channels, wb, bb, channels,
                                                               x_panel, x_ld, panel_cols, yb, ld,
                                                               prefetch);
    }
  };
  int64_t q = 0;
  for (; cols - q >= CB * V; q += CB * V)
    blocks_over.template operator()<CB>(x + q, ld, CB * V, q);
  for (; cols - q >= V; q += V) blocks_over.template operator()<1>(x + q, ld, V, q);
  if (rest) blocks_over.template operator()<1>(tail.data(), V, rest, full);
}

template <class T>
void pointwise_forward_columns_naive(int64_t out_channels, int64_t in_channels, int64_t cols,
                                     const T* w, const T* bias, const T* x, int64_t ld, T* y,
                                     PointwiseStore store) {
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t q = 0; q < cols; ++q) {
      double sum = bias ? double(bias[o]) : 0.0;
      for (int64_t c = 0; c < in_channels; ++c)
        sum += double(w[o * in_channels + c]) * double(x[c * ld + q]);
      if (store == PointwiseStore::Add) sum += double(y[o * ld + q]);
      y[o * ld + q] = static_cast<T>(sum);
    }
}

namespace {

// Planes below this many pixels take the batch path (6x6 and 3x3 in mbv2-bench).
constexpr int64_t kBatchPointwiseMaxPixels = 63;

// A scratch panel from the tensor allocator (large blocks are cached between calls).
template <class T>
class Panel {
 public:
  explicit Panel(int64_t size) {
    data_ = static_cast<T*>(allocate_block(static_cast<size_t>(std::max<int64_t>(size, 1)) * sizeof(T),
                                           &capacity_));
  }
  ~Panel() { free_block(data_, capacity_); }
  Panel(const Panel&) = delete;
  Panel& operator=(const Panel&) = delete;
  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

// panel[c][n * hw + q] = images[n][c][q] for c < channels.
template <class T>
void gather_panel(int64_t batch, int64_t channels, int64_t hw, const T* images, T* panel) {
  parallel_chunks(0, channels, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = 0; n < batch; ++n)
        std::copy_n(images + (n * channels + c) * hw, hw, panel + (c * batch + n) * hw);
  });
}

// images[n][c][q] += panel[c][n * hw + q].
template <class T>
void add_panel(int64_t batch, int64_t channels, int64_t hw, const T* panel, T* images) {
  parallel_chunks(0, channels, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = 0; n < batch; ++n) {
        T* dst = images + (n * channels + c) * hw;
        const T* src = panel + (c * batch + n) * hw;
        for (int64_t q = 0; q < hw; ++q) dst[q] += src[q];
      }
  });
}

// out [rows x cols] = packed weights * in [in_channels x cols] (+ bias), both panels with
// leading dimension cols, parallel over fixed parts of the blocks of output rows.
template <class T>
void blocked_panel_product(int64_t rows, int64_t in_channels, int64_t cols, const T* packed_w,
                           const T* bias, const T* in, T* out) {
  constexpr int64_t OB = kBlockChannels;
  const int64_t blocks = (rows + OB - 1) / OB, parts = fixed_part_count(blocks);
  parallel_for(0, parts, [&](int64_t part) {
    const int64_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
    const int64_t o0 = b0 * OB, o1 = std::min(rows, b1 * OB);
    pointwise_forward_columns(o1 - o0, in_channels, cols, packed_w + b0 * in_channels * OB,
                              bias ? bias + o0 : nullptr, in, cols, out + o0 * cols);
  });
}

}  // namespace

bool use_blocked_pointwise_dx(int64_t in_channels, int64_t plane) {
  return kRegisterBytes == 64 && in_channels <= 32 && plane >= 64;
}

bool use_batch_pointwise(const ConvShape& s) {
  return s.groups == 1 && s.in_h * s.in_w <= kBatchPointwiseMaxPixels;
}

template <class T>
void pointwise_forward_batch(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t hw = s.in_h * s.in_w, cols = s.batch * hw;
  const std::vector<T> packed = pack_pointwise_weights(s.out_channels, s.in_channels, w);
  Panel<T> x_panel(s.in_channels * cols), y_panel(s.out_channels * cols);
  gather_panel(s.batch, s.in_channels, hw, x, x_panel.get());
  blocked_panel_product(s.out_channels, s.in_channels, cols, packed.data(), bias, x_panel.get(),
                        y_panel.get());
  parallel_chunks(0, s.out_channels, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t n = 0; n < s.batch; ++n)
        std::copy_n(y_panel.get() + (o * s.batch + n) * hw, hw, y + (n * s.out_channels + o) * hw);
  });
}

template <class T>
void pointwise_backward_batch(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                              T* dw, T* dbias) {
  const int64_t hw = s.in_h * s.in_w, cols = s.batch * hw;
  const int64_t in_c = s.in_channels, out_c = s.out_channels;
  Panel<T> dy_panel(out_c * cols);
  gather_panel(s.batch, out_c, hw, dy, dy_panel.get());
  if (dbias)
    for (int64_t o = 0; o < out_c; ++o) {
      T sum = 0;
      for (int64_t q = 0; q < cols; ++q) sum += dy_panel.get()[o * cols + q];
      dbias[o] += sum;
    }
  if (dw) {
    Panel<T> x_panel(in_c * cols);
    gather_panel(s.batch, in_c, hw, x, x_panel.get());
    if (out_c >= in_c) {
      gemm_parallel(Trans::No, Trans::Yes, out_c, in_c, cols, T(1), dy_panel.get(), cols,
                    x_panel.get(), cols, T(1), dw, in_c);
    } else {  // dw^T = x * dy^T: Eigen's transposing pack is then of the smaller dy (conv2d_gemm.cpp)
      std::vector<T> dw_t(static_cast<size_t>(in_c * out_c));
      gemm_parallel(Trans::No, Trans::Yes, in_c, out_c, cols, T(1), x_panel.get(), cols,
                    dy_panel.get(), cols, T(0), dw_t.data(), out_c);
      for (int64_t o = 0; o < out_c; ++o)
        for (int64_t c = 0; c < in_c; ++c) dw[o * in_c + c] += dw_t[static_cast<size_t>(c * out_c + o)];
    }
  }
  if (dx) {
    const std::vector<T> packed = pack_pointwise_weights_transposed(out_c, in_c, w);
    Panel<T> dx_panel(in_c * cols);
    blocked_panel_product(in_c, out_c, cols, packed.data(), static_cast<const T*>(nullptr),
                          dy_panel.get(), dx_panel.get());
    add_panel(s.batch, in_c, hw, dx_panel.get(), dx);
  }
}

#define PICONAS_INSTANTIATE_POINTWISE(T)                                                          \
  template std::vector<T> pack_pointwise_weights<T>(int64_t, int64_t, const T*);                  \
  template std::vector<T> pack_pointwise_weights_transposed<T>(int64_t, int64_t, const T*);       \
  template void pointwise_forward_columns<T>(int64_t, int64_t, int64_t, const T*, const T*,       \
                                             const T*, int64_t, T*, PointwiseStore);              \
  template void pointwise_forward_columns_naive<T>(int64_t, int64_t, int64_t, const T*, const T*, \
                                                   const T*, int64_t, T*, PointwiseStore);        \
  template void pointwise_forward_batch<T>(const ConvShape&, const T*, const T*, const T*, T*);    \
  template void pointwise_backward_batch<T>(const ConvShape&, const T*, const T*, const T*, T*,    \
                                            T*, T*);
PICONAS_INSTANTIATE_POINTWISE(float)
PICONAS_INSTANTIATE_POINTWISE(double)

}  // namespace piconas::ops
