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

// Output channels per block: up to 16 accumulators with AVX-512 (32 vector registers), 8
// with AVX2 (16 registers: the accumulators, the input vector and a broadcast weight); 8 for
// nets of at most 8 channels (tiny-bench's stem) on either.
constexpr int kMaxBlockChannels = kRegisterBytes == 64 ? 16 : 8;

// y[o][oh][c0 + l] for the OB channels o0 + o of one block, l < B (only the columns below
// out_w and the channels below out_channels are stored).
// xp: the padded image, channel planes `plane` apart; wt: the block's weights as
// wt[tap][o] (zero for o beyond out_channels), tap = (c * kernel_h + i) * kernel_w + j.
template <class T, int OB, int B>
void direct_pass(const ConvShape& s, const PadLayout& L, const T* __restrict xp, int64_t plane,
                 const T* __restrict wt, const T* __restrict bias, int64_t o0, int64_t oh,
                 int64_t c0, T* __restrict y_image) {
  using V = Vec<T, B>;
  const int64_t S = s.stride_h, out_plane = s.out_h * s.out_w;
  const int64_t channels = std::min<int64_t>(OB, s.out_channels - o0);
  V acc[OB];
  for (int o = 0; o < OB; ++o) acc[o] = V{} + (bias && o < channels ? bias[o0 + o] : T(0));
  const T* wk = wt;
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j, wk += OB) {
        const T* src = xp + c * plane + ((i % S) * S + j % S) * L.phase_size() +
                       (oh + i / S) * L.pitch + j / S + c0;
        V x;
        std::memcpy(&x, src, sizeof x);
        keep_in_register(x);
        static_for<OB>([&](auto o) PICONAS_DW_INLINE { acc[o] += wk[o] * x; });
      }
  const int64_t cols = std::min<int64_t>(B, s.out_w - c0);
  for (int64_t o = 0; o < channels; ++o) {
    T* dst = y_image + (o0 + o) * out_plane + oh * s.out_w + c0;
    if (cols == B) {
      std::memcpy(dst, &acc[o], sizeof(V));
    } else {
      T lanes[B];
      std::memcpy(lanes, &acc[o], sizeof(V));
      std::copy_n(lanes, cols, dst);
    }
  }
}

}  // namespace

bool is_direct(const ConvShape& s) {
  return s.groups == 1 && s.in_channels <= kMaxInputChannels && s.stride_h == s.stride_w &&
         (s.stride_h == 1 || s.stride_h == 2) && s.dilation_h == 1 && s.dilation_w == 1 &&
         symmetric_padding(s);
}

namespace {

template <class T, int OB>
void forward_blocks(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  constexpr int V = kRegisterLanes<T>;
  const int64_t S = s.stride_h, taps = s.in_channels * s.kernel_h * s.kernel_w;
  const int64_t blocks = (s.out_channels + OB - 1) / OB;
  const PadLayout L = flat_layout<T>(s.in_h, s.in_w, s.pad_h, s.pad_w, S, s.out_h, s.out_w,
                                     (s.kernel_h - 1) / S, (s.kernel_w - 1) / S);
  // wt[block][tap][o] = w[block * OB + o][tap], zero past the last output channel.
  std::vector<T> wt(static_cast<size_t>(blocks * taps * OB), T(0));
  for (int64_t o = 0; o < s.out_channels; ++o)
    for (int64_t t = 0; t < taps; ++t) wt[((o / OB) * taps + t) * OB + o % OB] = w[o * taps + t];
  const int64_t in_image = s.in_channels * s.in_h * s.in_w;
  const int64_t out_image = s.out_channels * s.out_h * s.out_w;
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
      for (int64_t b = 0; b < blocks; ++b) {
        const T* wb = wt.data() + b * taps * OB;
        int64_t c0 = 0;
        for (; s.out_w - c0 > V / 2; c0 += V)
          direct_pass<T, OB, V>(s, L, xp.data(), L.size(), wb, bias, b * OB, oh, c0,
                                y + n * out_image);
        if (c0 < s.out_w)
          direct_pass<T, OB, V / 2>(s, L, xp.data(), L.size(), wb, bias, b * OB, oh, c0,
                                    y + n * out_image);
      }
    }
  });
}

}  // namespace

template <class T>
void conv2d_forward_direct(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if (s.out_channels <= 8)
    forward_blocks<T, 8>(s, x, w, bias, y);
  else
    forward_blocks<T, kMaxBlockChannels>(s, x, w, bias, y);
}

template void conv2d_forward_direct<float>(const ConvShape&, const float*, const float*,
                                           const float*, float*);
template void conv2d_forward_direct<double>(const ConvShape&, const double*, const double*,
                                            const double*, double*);

}  // namespace piconas::ops
