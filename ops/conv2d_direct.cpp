#include "ops/conv2d_direct.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "ops/depthwise_planes.h"

namespace piconas::ops {

namespace {

using namespace depthwise_planes;

constexpr int64_t kMaxInputChannels = 4;

// Register blocking of one pass: OB output channels times CB vectors of output columns, OB * CB
// accumulators, each tap's input vectors loaded once for all OB channels. AVX-512 (32
// registers): 16 channels x 1 vector, each FMA broadcasting its weight from memory (embedded
// broadcast), so wt holds scalars (kWeightLanes 1). AVX2 (16 registers) has no embedded
// broadcast, so wt holds every weight repeated over a full vector (no broadcast instruction per
// FMA), and 4 channels x 3 vectors (12 accumulators) load 7 vectors per 12 FMAs where 8
// channels x 1 vector loaded 9 per 8. Nets of at most 8 output channels (tiny-bench's stem) use
// 8 channels x 1 vector on either.
constexpr bool kWide = kRegisterBytes == 64;
constexpr int kBlockChannels = kWide ? 16 : 4;
constexpr int kBlockVectors = kWide ? 1 : 3;
template <class T>
constexpr int kWeightLanes = kWide ? 1 : kRegisterLanes<T>;

template <class V, class T>
PICONAS_DW_INLINE inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// y[o][oh][c0 + l] for the OB channels o0 + o of one block, l < CB * B (only the first `cols`
// columns and the first `channels` channels are stored).
// src: the padded image at row oh, column c0; tap t reads src + offsets[t].
// wt: the block's weights as wt[tap][o][WL] (zero for o beyond out_channels), each weight
// repeated WL times, tap = (c * kernel_h + i) * kernel_w + j.
template <class T, int OB, int CB, int B, int WL>
void direct_pass(const T* __restrict src, const int64_t* __restrict offsets, int64_t taps,
                 const T* __restrict wt, const T* __restrict bias, int64_t channels, int64_t cols,
                 int64_t out_plane, T* __restrict dst) {
  using V = Vec<T, B>;
  static_assert(WL == 1 || WL >= B);
  V acc[OB][CB];
  static_for<OB>([&](auto o) PICONAS_DW_INLINE {
    const T start = bias && o < channels ? bias[o] : T(0);
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[o][cb] = V{} + start; });
  });
  const T* wk = wt;
  for (int64_t t = 0; t < taps; ++t, wk += OB * WL) {
    V x[CB];
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE {
      x[cb] = load<V>(src + offsets[t] + cb * B);
      // (With several vectors GCC keeps them in registers unasked, and the asm barrier
      // would make it store them to the stack.)
      if constexpr (CB == 1) keep_in_register(x[cb]);
    });
    static_for<OB>([&](auto o) PICONAS_DW_INLINE {
      if constexpr (WL == 1) {
        static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[o][cb] += wk[o] * x[cb]; });
      } else {
        const V w = load<V>(wk + o * WL);
        static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[o][cb] += w * x[cb]; });
      }
    });
  }
  // Compile-time indices only, so that acc stays in registers.
  static_for<OB>([&](auto o) PICONAS_DW_INLINE {
    if (o >= channels) return;
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE {
      const int64_t n = std::min<int64_t>(B, cols - cb * B);
      T* d = dst + o * out_plane + cb * B;
      if (n == B) {
        std::memcpy(d, &acc[o][cb], sizeof(V));
      } else if (n > 0) {
        T lanes[B];
        std::memcpy(lanes, &acc[o][cb], sizeof(V));
        std::copy_n(lanes, n, d);
      }
    });
  });
}

}  // namespace

bool is_direct(const ConvShape& s) {
  return s.groups == 1 && s.in_channels <= kMaxInputChannels && s.stride_h == s.stride_w &&
         (s.stride_h == 1 || s.stride_h == 2) && s.dilation_h == 1 && s.dilation_w == 1 &&
         symmetric_padding(s);
}

namespace {

template <class T, int OB, int CB>
void forward_blocks(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  constexpr int V = kRegisterLanes<T>, WL = kWeightLanes<T>;
  const int64_t S = s.stride_h, taps = s.in_channels * s.kernel_h * s.kernel_w;
  const int64_t blocks = (s.out_channels + OB - 1) / OB;
  const PadLayout L = flat_layout<T>(s.in_h, s.in_w, s.pad_h, s.pad_w, S, s.out_h, s.out_w,
                                     (s.kernel_h - 1) / S, (s.kernel_w - 1) / S);
  // wt[block][tap][o][l] = w[block * OB + o][tap], zero past the last output channel.
  std::vector<T> wt(static_cast<size_t>(blocks * taps * OB * WL), T(0));
  for (int64_t o = 0; o < s.out_channels; ++o)
    for (int64_t t = 0; t < taps; ++t)
      std::fill_n(wt.data() + (((o / OB) * taps + t) * OB + o % OB) * WL, WL, w[o * taps + t]);
  // Tap t = (c, i, j) reads channel plane c, sub-plane (i % S, j % S), i / S rows and j / S
  // columns further on.
  std::vector<int64_t> offsets;
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j)
        offsets.push_back(c * L.size() + ((i % S) * S + j % S) * L.phase_size() +
                          (i / S) * L.pitch + j / S);
  const int64_t in_image = s.in_channels * s.in_h * s.in_w;
  const int64_t out_plane = s.out_h * s.out_w, out_image = s.out_channels * out_plane;
  parallel_chunks(0, s.batch * s.out_h, [&](int64_t lo, int64_t hi) {
    std::vector<T> xp(static_cast<size_t>(s.in_channels * L.size()), T(0));
    int64_t loaded = -1;  // the image whose padded copy xp holds
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / s.out_h, oh = r % s.out_h;
      if (n != loaded) {
        for (int64_t c = 0; c < s.in_channels; ++c)
          copy_into_padded(L, x + n * in_image + c * s.in_h * s.in_w, s.in_h, s.in_w,
                           xp.data() + c * L.size());
        loaded = n;
      }
      const T* row = xp.data() + oh * L.pitch;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t channels = std::min<int64_t>(OB, s.out_channels - b * OB);
        const T* wb = wt.data() + b * taps * OB * WL;
        const T* bb = bias ? bias + b * OB : nullptr;
        T* yb = y + n * out_image + b * OB * out_plane + oh * s.out_w;
        auto pass = [&]<int C, int B>(int64_t c0) {
          direct_pass<T, OB, C, B, WL>(row + c0, offsets.data(), taps, wb, bb, channels,
                                       s.out_w - c0, out_plane, yb + c0);
        };
        int64_t c0 = 0;
        for (; s.out_w - c0 >= CB * V; c0 += CB * V) pass.template operator()<CB, V>(c0);
        for (; s.out_w - c0 > V / 2; c0 += V) pass.template operator()<1, V>(c0);
        if (c0 < s.out_w) pass.template operator()<1, V / 2>(c0);
      }
    }
  });
}

}  // namespace

template <class T>
void conv2d_forward_direct(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if (s.out_channels <= 8)
    forward_blocks<T, 8, 1>(s, x, w, bias, y);
  else
    forward_blocks<T, kBlockChannels, kBlockVectors>(s, x, w, bias, y);
}

template void conv2d_forward_direct<float>(const ConvShape&, const float*, const float*,
                                           const float*, float*);
template void conv2d_forward_direct<double>(const ConvShape&, const double*, const double*,
                                            const double*, double*);

}  // namespace piconas::ops
