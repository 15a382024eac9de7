// depthwise_stride2: the stride-2 K x K forward of the plane kernels (ops/depthwise_conv2d.cpp)
// straight from the input rows, not a public interface. No padded plane: for each output row
// and kernel row, pairs of vector loads of the input row are split into their even and odd
// columns in registers (one shuffle each), which are the taps' inputs for a register of
// output columns; columns outside the row come in as zeros (masked loads), rows outside the
// plane as zero vectors. The padded-plane path copied each plane into four phase planes and
// ran a flat loop at a padded pitch followed by a crop copy: ~2,500 instructions per plane of
// 144ch_3x3_s2_24 (AVX2, callgrind), 70 % of them in the copy (bench/README.md, 2026-12-06).
//
// Rounding: each output sums bias, then the K*K taps in row-major order with w * 0 for the
// padding, exactly as the padded-plane path (same bits).
//
// Needs pad_w == K / 2 (the pair offsets of the taps are then compile-time constants).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "ops/conv2d.h"
#include "ops/depthwise_planes.h"

namespace piconas::ops::depthwise_stride2 {

using depthwise_planes::kRegisterLanes;
using depthwise_planes::static_for;
using depthwise_planes::Vec;

// One register of B lanes: loads with lanes outside a mask read as zero, stores of the first n
// lanes. Guarded loads never touch memory outside the mask; unguarded ones may read (and
// drop) the masked lanes, for callers that know those addresses are inside the tensor (AVX2's
// vmaskmov is slow on AMD Zen: 1.5x the whole kernel's time).
template <class T>
struct Lanes {
  static constexpr int B = kRegisterLanes<T>;
  using V = Vec<T, B>;
#if defined(__AVX512F__)
  using Mask = uint32_t;
  static Mask mask(int64_t lo, int64_t hi) {  // lanes [lo, hi)
    lo = std::max<int64_t>(lo, 0);
    hi = std::min<int64_t>(hi, B);
    return hi <= lo ? 0 : static_cast<Mask>(((uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1));
  }
  template <bool Guarded>
  static V load(const T* p, Mask m) {
    if constexpr (sizeof(T) == 4)
      return (V)_mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p);
    else
      return (V)_mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p);
  }
#elif defined(__AVX2__)
  using Mask = __m256i;
  static Mask mask(int64_t lo, int64_t hi) {
    using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    alignas(32) I m[B];
    for (int l = 0; l < B; ++l) m[l] = l >= lo && l < hi ? I{-1} : I{0};
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  }
  template <bool Guarded>
  static V load(const T* p, Mask m) {
    if constexpr (Guarded) {
      if constexpr (sizeof(T) == 4)
        return (V)_mm256_maskload_ps(p, m);
      else
        return (V)_mm256_maskload_pd(p, m);
    } else {
      if constexpr (sizeof(T) == 4)
        return (V)_mm256_and_ps(_mm256_loadu_ps(p), (__m256)m);
      else
        return (V)_mm256_and_pd(_mm256_loadu_pd(p), (__m256d)m);
    }
  }
#else
  using Mask = uint32_t;
  static Mask mask(int64_t lo, int64_t hi) {
    Mask m = 0;
    for (int l = 0; l < B; ++l) m |= l >= lo && l < hi ? Mask{1} << l : 0;
    return m;
  }
  template <bool Guarded>
  static V load(const T* p, Mask m) {
    V v{};
    for (int l = 0; l < B; ++l)
      if (m >> l & 1) v[l] = p[l];
    return v;
  }
#endif

  // p[0, n) = v's first n lanes (n >= 0), in halves, quarters, ... of the register.
  template <int N = B>
  PICONAS_DW_INLINE static void store(T* p, Vec<T, N> v, int64_t n) {
    if (n >= N) {
      std::memcpy(p, &v, sizeof v);
    } else if constexpr (N > 1) {
      constexpr int H = N / 2;
      auto [lo, hi] = [&]<int... I>(std::integer_sequence<int, I...>) PICONAS_DW_INLINE {
        return std::pair{Vec<T, H>{v[I]...}, Vec<T, H>{v[H + I]...}};
      }(std::make_integer_sequence<int, H>{});
      if (n >= H) {
        std::memcpy(p, &lo, sizeof lo);
        store<H>(p + H, hi, n - H);
      } else {
        store<H>(p, lo, n);
      }
    }
  }
};

// Even (R = 0) or odd (R = 1) columns of the 2B columns in (a, b), within 128-bit chunks (one
// vshufps / vshufpd): lane l holds column pair column_of<T, B>(l). All taps share that lane
// order, so the sums are permuted back once, at the store (in_columns).
template <class T>
constexpr int kChunk = 16 / static_cast<int>(sizeof(T));
template <class T, int B>
constexpr int column_of(int l) {
  constexpr int H = kChunk<T> / 2;
  const int g = l / kChunk<T>, pos = l % kChunk<T>;
  return (pos < H ? 0 : B / 2) + H * g + pos % H;
}
template <class T, int B, int R, class V>
PICONAS_DW_INLINE inline V split(V a, V b) {
  constexpr int P = kChunk<T>, H = P / 2;
  return [&]<int... I>(std::integer_sequence<int, I...>) PICONAS_DW_INLINE {
    return __builtin_shufflevector(a, b, ((I % P < H ? 0 : B) + P * (I / P) + 2 * (I % H) + R)...);
  }(std::make_integer_sequence<int, B>{});
}
template <class T, int B, class V>
PICONAS_DW_INLINE inline V in_columns(V v) {
  constexpr auto lane_of = [](int c) {
    for (int l = 0; l < B; ++l)
      if (column_of<T, B>(l) == c) return l;
    return 0;
  };
  return [&]<int... C>(std::integer_sequence<int, C...>) PICONAS_DW_INLINE {
    return __builtin_shufflevector(v, v, lane_of(C)...);
  }(std::make_integer_sequence<int, B>{});
}

// Tap column j of output column ow reads input column 2 ow + j - K/2 = 2 (ow + Q0 + t) + r
// for the pair offset Q0 + t (t < NQ) and parity r: one pair of loads per t serves two taps.
template <class T, int K>
struct Columns {
  static constexpr int B = kRegisterLanes<T>;
  static constexpr int PW = K / 2;
  static constexpr int Q0 = -((PW + 1) / 2);
  static constexpr int NQ = (K - 1 - PW) / 2 - Q0 + 1;
  static constexpr int kMaxBlocks = 8;
  using Mask = typename Lanes<T>::Mask;
  Mask in[kMaxBlocks][NQ][2];  // per register of output columns, pair offset and load
  int blocks;
  int64_t before, after;  // how far the loads of a plane reach before and past it

  Columns(int64_t in_h, int64_t in_w, int64_t out_w)
      : in{}, blocks(static_cast<int>((out_w + B - 1) / B)) {
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < NQ; ++t)
        for (int h = 0; h < 2; ++h) {
          const int64_t start = 2 * b * B + 2 * (Q0 + t) + h * B;  // column of lane 0
          in[b][t][h] = Lanes<T>::mask(-start, in_w - start);
        }
    before = -2 * Q0;
    after = std::max<int64_t>(
        0, (in_h - 1) * in_w + 2 * (blocks - 1) * B + 2 * (Q0 + NQ - 1) + 2 * B - in_h * in_w);
  }
};

template <class T, int K>
bool applies(const ConvShape& s) {
  return s.kernel_h == K && s.kernel_w == K && s.stride_h == 2 && s.stride_w == 2 &&
         s.pad_w == K / 2 && s.out_w <= Columns<T, K>::kMaxBlocks * kRegisterLanes<T>;
}

// RB output rows from oh, output columns [b B, b B + B) of one plane.
template <class T, int K, int RB, bool Guarded>
PICONAS_DW_INLINE inline void rows(const ConvShape& s, const Columns<T, K>& cols, const T* x,
                                   const T* wr, T bias, T* y, int64_t oh, int b) {
  using C = Columns<T, K>;
  using V = Vec<T, C::B>;
  constexpr int B = C::B;
  V acc[RB];
  static_for<RB>([&](auto r) PICONAS_DW_INLINE { acc[r] = V{} + bias; });
  static_for<K>([&](auto i) PICONAS_DW_INLINE {
    constexpr int kI = decltype(i)::value;
    static_for<RB>([&](auto r) PICONAS_DW_INLINE {
      constexpr int kR = decltype(r)::value;
      const int64_t ih = 2 * (oh + kR) - s.pad_h + kI;
      if (ih < 0 || ih >= s.in_h) {
        static_for<K>([&](auto j) PICONAS_DW_INLINE {
          acc[kR] = acc[kR] + wr[kI * K + decltype(j)::value] * V{};
        });
        return;
      }
      const T* row = x + ih * s.in_w + 2 * b * B + 2 * C::Q0;
      static_for<C::NQ>([&](auto t) PICONAS_DW_INLINE {
        constexpr int kT = decltype(t)::value, j = 2 * (C::Q0 + kT) + C::PW;  // tap of r = 0
        const V lo = Lanes<T>::template load<Guarded>(row + 2 * kT, cols.in[b][kT][0]);
        const V hi = Lanes<T>::template load<Guarded>(row + 2 * kT + B, cols.in[b][kT][1]);
        if constexpr (j >= 0 && j < K) acc[kR] = acc[kR] + wr[kI * K + j] * split<T, B, 0>(lo, hi);
        if constexpr (j + 1 < K) acc[kR] = acc[kR] + wr[kI * K + j + 1] * split<T, B, 1>(lo, hi);
      });
    });
  });
  static_for<RB>([&](auto r) PICONAS_DW_INLINE {
    Lanes<T>::store(y + (oh + decltype(r)::value) * s.out_w + b * B, in_columns<T, B>(acc[r]),
                    std::min<int64_t>(B, s.out_w - b * B));
  });
}

// One plane: y = bias + the K x K stride-2 correlation of x, in pairs of output rows.
template <class T, int K, bool Guarded>
void plane(const ConvShape& s, const Columns<T, K>& cols, const T* x, const T* w, T bias, T* y) {
  T wr[K * K];
  std::copy_n(w, K * K, wr);
  for (int b = 0; b < cols.blocks; ++b) {
    int64_t oh = 0;
    for (; oh + 2 <= s.out_h; oh += 2) rows<T, K, 2, Guarded>(s, cols, x, wr, bias, y, oh, b);
    if (oh < s.out_h) rows<T, K, 1, Guarded>(s, cols, x, wr, bias, y, oh, b);
  }
}

template <class T, int K>
void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t planes = s.batch * s.in_channels, in_size = s.in_h * s.in_w;
  const int64_t out_size = s.out_h * s.out_w;
  const Columns<T, K> cols(s.in_h, s.in_w, s.out_w);
  struct NoScratch {};
  depthwise_planes::for_plane_blocks<NoScratch>(planes, [&](NoScratch&, int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t c = p % s.in_channels;
      const T b = bias ? bias[c] : T(0);
      // Unguarded loads only where everything they reach lies inside x.
      const bool inside = p * in_size >= cols.before && (planes - 1 - p) * in_size >= cols.after;
      if (inside)
        plane<T, K, false>(s, cols, x + p * in_size, w + c * K * K, b, y + p * out_size);
      else
        plane<T, K, true>(s, cols, x + p * in_size, w + c * K * K, b, y + p * out_size);
    }
  });
}

}  // namespace piconas::ops::depthwise_stride2
