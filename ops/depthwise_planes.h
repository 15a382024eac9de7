// depthwise_planes: building blocks of the direct depthwise kernels (ops/depthwise_conv2d.cpp),
// not a public interface. A plane is one (n, c) image of H x W elements, NCHW.
//   PadLayout / copy_into_padded  zero-padded (and, for stride 2, phase-split) plane copies,
//   corr_flat / dw_flat           correlation and weight-gradient loops over a padded plane,
//                                 flattened to one loop of blocks of 64-byte vectors,
//   corr_rows / corr_bands        row-blocked correlation (stride 1): bands of 4 or 8 output
//                                 rows, each input vector loaded once for all its kernel rows
//                                 (5x5 / 7x7: a half-register rest two rows per register),
//   row_copy / crop_rows / ...    short row loops in fixed-size vector blocks,
//   for_plane_blocks              planes spread over the threads of core/parallel.
// Everything is templated on the element type (float, double) and header-only.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/parallel.h"

// The row copies below are 12..48 elements long; GCC would turn them into calls to memcpy
// (or rep movs), which cost more than the copy itself at that length.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

namespace piconas::ops::depthwise_planes {

// Forces inlining where GCC would otherwise keep a call (and its captures in memory). The
// sanitizer and fuzz builds (PICONAS_SANITIZE, PICONAS_FUZZ) leave inlining to the compiler:
// the same code is checked in a quarter of the compile time (forced inlining under ASan+UBSan
// took 14 minutes for depthwise_conv2d.cpp alone, 3 without).
#if defined(PICONAS_SANITIZER_BUILD)
#define PICONAS_DW_INLINE
#else
#define PICONAS_DW_INLINE __attribute__((always_inline))
#endif

// Every kernel works on a zero-padded copy of its input plane, so the loops over the output
// carry no bounds checks at all; the borders are handled once, by the copy. With the 12..48
// wide planes of TinyML nets a separate bounds-checked border path would cost more than the
// interior (a 7x7 kernel on a 24-wide plane has 6 border columns out of 24), while the copy
// costs one load and store per input element against k*k multiply-adds per output.
//
// Padded layout: padded row r holds input row r - top, padded column c input column c - left.
// With phases = S = 2 (stride 2; otherwise phases = 1) the plane is split into S*S sub-planes
// by (r % S, c % S), each holding rows r / S and columns c / S, so a stride-S kernel reads
// unit-stride. Sub-planes are `rows` x `pitch` and zero outside the copied input.
struct PadLayout {
  int64_t rows, pitch, phases, top, left;
  int64_t phase_size() const { return rows * pitch; }
  int64_t size() const { return phases * phases * rows * pitch; }
};

// Lanes per block: one 64-byte vector. The flat kernels below work on blocks of V outputs
// held in a local array, which GCC and Clang keep in one vector register per array.
template <class T>
constexpr int64_t kLanes = 64 / sizeof(T);

inline int64_t round_up(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

// Row loops are short (12..48 elements), too short for the compiler's vector loop plus
// epilogue, so for_row covers [0, n) with fixed-size blocks. Plain copies (Overlap) use
// blocks of V (or V/2 if n < V) lanes, the last one ending at n and overlapping its
// predecessor, which just writes some values twice. Accumulations cannot overlap (and would
// stall on store forwarding re-reading what was just stored): blocks of V lanes, then at most
// one each of V/2 and V/4, then single elements.
template <int64_t V, bool Overlap, class Block, class Element>
PICONAS_DW_INLINE inline void for_row(int64_t n, Block&& block, Element&& element) {
  int64_t start = 0;
  if constexpr (Overlap) {
    if (n >= V) {
      for (; start + V <= n; start += V) block.template operator()<V>(start);
      if (start < n) block.template operator()<V>(n - V);
      return;
    }
    if (n >= V / 2) {
      for (; start + V / 2 <= n; start += V / 2) block.template operator()<V / 2>(start);
      if (start < n) block.template operator()<V / 2>(n - V / 2);
      return;
    }
  } else {
    for (; start + V <= n; start += V) block.template operator()<V>(start);
    if (start + V / 2 <= n) {
      block.template operator()<V / 2>(start);
      start += V / 2;
    }
    if (start + V / 4 <= n) {
      block.template operator()<V / 4>(start);
      start += V / 4;
    }
  }
  for (; start < n; ++start) element(start);
}

// dst[c] = src[c] (Accumulate: dst[c] += src[c]) for c < w.
template <bool Accumulate, class T>
PICONAS_DW_INLINE inline void row_copy(const T* __restrict src, int64_t w, T* __restrict dst) {
  for_row<kLanes<T>, !Accumulate>(
      w,
      [&]<int64_t B>(int64_t start) PICONAS_DW_INLINE {
#pragma omp simd
        for (int64_t c = start; c < start + B; ++c) dst[c] = Accumulate ? dst[c] + src[c] : src[c];
      },
      [&](int64_t c) PICONAS_DW_INLINE { dst[c] = Accumulate ? dst[c] + src[c] : src[c]; });
}

// Stride-2 column pairs: even[k] = src[2k], odd[k] = src[2k + 1] for k < half.
template <class T>
void split_pairs(const T* __restrict src, int64_t half, T* __restrict even, T* __restrict odd) {
  auto element = [&](int64_t k) {
    even[k] = src[2 * k];
    odd[k] = src[2 * k + 1];
  };
  for_row<kLanes<T> / 2, true>(
      half,
      [&]<int64_t B>(int64_t start) {
#pragma omp simd
        for (int64_t k = start; k < start + B; ++k) element(k);
      },
      element);
}

// The reverse: dst[2k] = even[k], dst[2k + 1] = odd[k] for k < half (Accumulate: +=).
template <bool Accumulate, class T>
void merge_pairs(const T* __restrict even, const T* __restrict odd, int64_t half,
                 T* __restrict dst) {
  auto element = [&](int64_t k) PICONAS_DW_INLINE {
    dst[2 * k] = Accumulate ? dst[2 * k] + even[k] : even[k];
    dst[2 * k + 1] = Accumulate ? dst[2 * k + 1] + odd[k] : odd[k];
  };
  for_row<kLanes<T> / 2, false>(
      half,
      [&]<int64_t B>(int64_t start) {
#pragma omp simd
        for (int64_t k = start; k < start + B; ++k) element(k);
      },
      element);
}

// Copies an h x w plane into its place in `out`. The border of `out` is never written, so a
// buffer zeroed once stays a valid padded plane for every plane copied into it.
template <class T>
void copy_into_padded(const PadLayout& L, const T* x, int64_t h, int64_t w, T* out) {
  if (L.phases == 1) {
    T* first = out + L.top * L.pitch + L.left;
    for (int64_t r = 0; r < h; ++r) row_copy<false>(x + r * w, w, first + r * L.pitch);
    return;
  }
  // Two phases (stride 2; the only other layout): constant divisions, no idiv per row.
  for (int64_t r = 0; r < h; ++r) {
    int64_t pr = r + L.top;
    const T* src = x + r * w;
    T* row = out + (pr % 2) * 2 * L.phase_size() + (pr / 2) * L.pitch;
    // Even input columns land in column phase left % 2, odd ones in the other phase.
    T* d0 = row + (L.left % 2) * L.phase_size() + L.left / 2;
    T* d1 = row + ((L.left + 1) % 2) * L.phase_size() + (L.left + 1) / 2;
    split_pairs(src, w / 2, d0, d1);
    if (w % 2) d0[w / 2] = src[w - 1];
  }
}

// Flat correlation: with the output laid out at the input's pitch, every output row and
// column is the same offset pattern into the padded input, so one loop over n = out_h * pitch
// positions (rounded up to V) covers the whole plane; columns ow >= out_w are garbage the
// caller drops. out[t] = bias + sum_{i<KH, j<KW} w[i][j] * in(i, j)[t] where in(i, j) is the
// sub-plane/offset of tap (i, j) for stride S.
template <class T, int KH, int KW, int S>
void corr_flat(const T* __restrict in, const PadLayout& L, const T* __restrict w, T bias,
               T* __restrict out, int64_t n) {
  constexpr int64_t V = kLanes<T>;
  T wr[KH * KW];
  const T* tap[KH * KW];
  for (int i = 0; i < KH; ++i)
    for (int j = 0; j < KW; ++j) {
      wr[i * KW + j] = w[i * KW + j];
      tap[i * KW + j] = in + ((i % S) * S + j % S) * L.phase_size() + (i / S) * L.pitch + j / S;
    }
  // R vector blocks at a time: R independent accumulator chains hide the FMA latency (one
  // chain of K*K dependent FMAs per block ran latency-bound). Each output still sums bias,
  // then the taps in order, so the result does not depend on R.
  constexpr int R = 4;
  int64_t t0 = 0;
  for (; t0 + R * V <= n; t0 += R * V) {
    T acc[R][V];
    for (int r = 0; r < R; ++r) {
#pragma omp simd
      for (int64_t l = 0; l < V; ++l) acc[r][l] = bias;
    }
#pragma GCC unroll 64
    for (int k = 0; k < KH * KW; ++k) {
      const T wk = wr[k];
      const T* src = tap[k] + t0;
      for (int r = 0; r < R; ++r) {
#pragma omp simd
        for (int64_t l = 0; l < V; ++l) acc[r][l] += wk * src[r * V + l];
      }
    }
    for (int r = 0; r < R; ++r) {
#pragma omp simd
      for (int64_t l = 0; l < V; ++l) out[t0 + r * V + l] = acc[r][l];
    }
  }
  for (; t0 < n; t0 += V) {
    T acc[V];
#pragma omp simd
    for (int64_t l = 0; l < V; ++l) acc[l] = bias;
#pragma GCC unroll 64
    for (int k = 0; k < KH * KW; ++k) {
#pragma omp simd
      for (int64_t l = 0; l < V; ++l) acc[l] += wr[k] * tap[k][t0 + l];
    }
#pragma omp simd
    for (int64_t l = 0; l < V; ++l) out[t0 + l] = acc[l];
  }
}

// One vector register of the target (64 bytes with AVX-512, 32 with AVX2) as a GCC/Clang
// vector of B lanes: the row-blocked kernel below indexes arrays of them with compile-time
// indices only, so they live in registers.
#if defined(__AVX512F__)
constexpr int64_t kRegisterBytes = 64;
#else
constexpr int64_t kRegisterBytes = 32;
#endif
template <class T>
constexpr int kRegisterLanes = static_cast<int>(kRegisterBytes / sizeof(T));
template <class T, int B>
struct VecOf {
  typedef T type __attribute__((vector_size(B * sizeof(T))));
};
template <class T, int B>
using Vec = typename VecOf<T, B>::type;

// f(std::integral_constant<int, I>{}) for I = 0 .. N-1, unrolled at compile time. The bodies
// must be inlined (PICONAS_DW_INLINE on every lambda): past GCC's inlining limits (7x7
// kernels) the accumulator array would otherwise go through memory between calls.
template <int N, class F>
PICONAS_DW_INLINE inline void static_for(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) PICONAS_DW_INLINE {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

// Tells the compiler that x lives in a register from here on: it then loads an input vector
// once for all its taps instead of folding a fresh (cache-line crossing) load into each FMA.
template <class V>
PICONAS_DW_INLINE inline void keep_in_register(V& x) {
#if defined(__x86_64__) && defined(__AVX__)
  __asm__("" : "+v"(x));
#else
  (void)x;
#endif
}

// Output rows per band of corr_rows: 8, or 4 where that wastes fewer rows (out_h 12: 4).
inline int band_rows(int64_t out_h) {
  return round_up(out_h, 4) - out_h < round_up(out_h, 8) - out_h ? 4 : 8;
}
constexpr int64_t kMaxBandRows = 8;

// Whether sub-plane row m of row phase pr feeds any of the RB output rows of a corr_rows pass.
template <int K, int S, int RB>
constexpr bool row_phase_used(int m, int pr) {
  for (int r = 0; r < RB; ++r)
    if (m - r >= 0 && pr + S * (m - r) < K) return true;
  return false;
}

// One pass of corr_rows: RB output rows [oh0, oh0 + RB) x CB vectors of B columns from c0,
// out rows out_pitch apart. Sub-plane row oh0 + m of row phase pr feeds output row oh0 + r
// through kernel row i = pr + S * (m - r), so each input vector is loaded once and used by up
// to ceil(K / S) kernel rows (corr_flat loads it once per tap), and each weight is broadcast
// once for its CB vectors. The loops run m, pr, j, so each output sums bias, then the taps in
// row-major (i, j) order, like the naive loop (the same sums for every CB).
template <class T, int K, int S, int RB, int B, int CB = 1, bool Accumulate = false>
void corr_rows_pass(const T* __restrict in, const PadLayout& L, const T* __restrict w, T bias,
                    T* __restrict out, int64_t out_pitch, int64_t oh0, int64_t c0) {
  using V = Vec<T, B>;
  constexpr int kReach = (K - 1) / S;
  V acc[RB][CB];
  static_for<RB>([&](auto r) PICONAS_DW_INLINE {
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[r][cb] = V{} + bias; });
  });
  const T* base = in + oh0 * L.pitch + c0;
  static_for<RB + kReach>([&](auto m) PICONAS_DW_INLINE {
    static_for<S>([&](auto pr) PICONAS_DW_INLINE {
      constexpr int kM = decltype(m)::value, kPr = decltype(pr)::value;
      constexpr bool kUsed = row_phase_used<K, S, RB>(kM, kPr);
      if constexpr (kUsed) {
        static_for<K>([&](auto j) PICONAS_DW_INLINE {
          constexpr int kJ = decltype(j)::value;
          V x[CB];
          static_for<CB>([&](auto cb) PICONAS_DW_INLINE {
            std::memcpy(&x[cb],
                        base + (kPr * S + kJ % S) * L.phase_size() + kM * L.pitch + kJ / S +
                            decltype(cb)::value * B,
                        sizeof(V));
            // (With several vectors GCC keeps them in registers unasked, and the asm barrier
            // would make it store them to the stack.)
            if constexpr (CB == 1) keep_in_register(x[cb]);
          });
          static_for<RB>([&](auto r) PICONAS_DW_INLINE {
            constexpr int u = kM - decltype(r)::value, i = kPr + S * u;
            if constexpr (u >= 0 && i < K) {
              const T wv = w[i * K + kJ];
              static_for<CB>([&](auto cb) PICONAS_DW_INLINE { acc[r][cb] += wv * x[cb]; });
            }
          });
        });
      }
    });
  });
  static_for<RB>([&](auto r) PICONAS_DW_INLINE {
    static_for<CB>([&](auto cb) PICONAS_DW_INLINE {
      T* o = out + (oh0 + r) * out_pitch + c0 + cb * B;
      if constexpr (Accumulate) {
        V old;
        std::memcpy(&old, o, sizeof(V));
        acc[r][cb] = old + acc[r][cb];
      }
      std::memcpy(o, &acc[r][cb], sizeof(V));
    });
  });
}

// The half-register rest of a stride-1 corr_rows band, two rows per register: lanes [0, H)
// hold output row oh0 + 2q, lanes [H, 2H) row oh0 + 2q + 1 (H = B / 2 columns from c0), so
// the multiply-adds run on whole registers (half as many as corr_rows_pass<..., H> needs).
// The input register of sub-plane row m joins rows m and m + 1; kernel row i = m - 2q feeds
// pair q, for both of its rows. Each output sums bias, then the taps in row-major order, as
// in corr_rows_pass.
template <class T, int K, int RB, int B, bool Accumulate = false>
void corr_row_pairs_pass(const T* __restrict in, const PadLayout& L, const T* __restrict w,
                         T bias, T* __restrict out, int64_t out_pitch, int64_t oh0, int64_t c0) {
  constexpr int H = B / 2;
  using V = Vec<T, B>;
  using Half = Vec<T, H>;
  V acc[RB / 2];
  for (int q = 0; q < RB / 2; ++q) acc[q] = V{} + bias;
  const T* base = in + oh0 * L.pitch + c0;
  static_for<RB + K - 2>([&](auto m) PICONAS_DW_INLINE {
    constexpr int kM = decltype(m)::value;
    static_for<K>([&](auto j) PICONAS_DW_INLINE {
      constexpr int kJ = decltype(j)::value;
      Half upper, lower;
      std::memcpy(&lower, base + kM * L.pitch + kJ, sizeof lower);
      std::memcpy(&upper, base + (kM + 1) * L.pitch + kJ, sizeof upper);
      V x = [&]<int... I>(std::integer_sequence<int, I...>) PICONAS_DW_INLINE {
        return __builtin_shufflevector(lower, upper, I...);
      }(std::make_integer_sequence<int, B>{});
      keep_in_register(x);
      static_for<RB / 2>([&](auto q) PICONAS_DW_INLINE {
        constexpr int i = kM - 2 * decltype(q)::value;
        if constexpr (i >= 0 && i < K) acc[decltype(q)::value] += w[i * K + kJ] * x;
      });
    });
  });
  for (int q = 0; q < RB / 2; ++q) {
    if constexpr (Accumulate) {
      Half lo, hi;
      std::memcpy(&lo, out + (oh0 + 2 * q) * out_pitch + c0, sizeof(Half));
      std::memcpy(&hi, out + (oh0 + 2 * q + 1) * out_pitch + c0, sizeof(Half));
      V old = [&]<int... I>(std::integer_sequence<int, I...>) PICONAS_DW_INLINE {
        return __builtin_shufflevector(lo, hi, I...);
      }(std::make_integer_sequence<int, B>{});
      acc[q] = old + acc[q];
    }
    std::memcpy(out + (oh0 + 2 * q) * out_pitch + c0, &acc[q], sizeof(Half));
    std::memcpy(out + (oh0 + 2 * q + 1) * out_pitch + c0, reinterpret_cast<T*>(&acc[q]) + H,
                sizeof(Half));
  }
}

// Row-blocked correlation: out[oh * out_pitch + ow] = bias + sum_{i,j} w[i][j] * in(i, j) for
// oh < rows (a multiple of RB), ow < cols, in bands of RB rows and passes of one register
// of columns (a half register for a short rest). Writes up to rows * out_pitch +
// kRegisterLanes elements of out (exactly rows * cols when corr_bands_exact); reads up to (rows + (K-1)/S) * pitch + kRegisterLanes of each sub-plane.
// Accumulate: out[...] += that sum (bias, then the taps, then added to out: the same bits as
// summing into a buffer and adding the buffer to out).
// Vector registers of columns per corr_rows pass of RB rows. 3x3 with 16 registers (AVX2): 4
// rows x 3 vectors (12 accumulators, each weight broadcast once per 3 multiply-adds), 1.2x
// faster than 8 rows x 1 vector on 96ch_3x3_s1_48; 5x5 / 7x7 measured no faster that way
// (GCC spills), and AVX-512 keeps 1 (bench/README.md, 2026-12-05).
template <int K, int RB>
constexpr int kWideVectors = kRegisterBytes == 32 && K == 3 && RB == 4 ? 3 : 1;

template <class T, int K, int S, int RB, bool Accumulate = false>
void corr_rows(const T* __restrict in, const PadLayout& L, const T* __restrict w, T bias,
               T* __restrict out, int64_t out_pitch, int64_t rows, int64_t cols) {
  constexpr int V = kRegisterLanes<T>;
  T wr[K * K];
  std::copy_n(w, K * K, wr);
  constexpr int CB = kWideVectors<K, RB>;
  for (int64_t oh0 = 0; oh0 < rows; oh0 += RB) {
    int64_t c0 = 0;
    if constexpr (CB > 1)
      for (; cols - c0 >= CB * V; c0 += CB * V)
        corr_rows_pass<T, K, S, RB, V, CB, Accumulate>(in, L, wr, bias, out, out_pitch, oh0, c0);
    for (; cols - c0 > V / 2; c0 += V)
      corr_rows_pass<T, K, S, RB, V, 1, Accumulate>(in, L, wr, bias, out, out_pitch, oh0, c0);
    if (c0 < cols) {
      // Row pairs for 5x5 and 7x7; with 3 taps a row the extra half-register loads cost more
      // than the halved multiply-adds save.
      if constexpr (S == 1 && K >= 5)
        corr_row_pairs_pass<T, K, RB, V, Accumulate>(in, L, wr, bias, out, out_pitch, oh0, c0);
      else
        corr_rows_pass<T, K, S, RB, V / 2, 1, Accumulate>(in, L, wr, bias, out, out_pitch, oh0,
                                                           c0);
    }
  }
}

// corr_rows over h output rows in bands of band_rows(h), out rows out_pitch apart; writes
// corr_bands_size(h, out_pitch) elements of out.
template <class T>
int64_t corr_bands_size(int64_t h, int64_t pitch) {
  return round_up(round_up(h, band_rows(h)) * pitch + kRegisterLanes<T>, kLanes<T>);
}
template <class T, int K, int S, bool Accumulate = false>
void corr_bands(const T* in, const PadLayout& L, const T* w, T bias, T* out, int64_t out_pitch,
                int64_t h, int64_t cols) {
  // 4-row bands where they give wide passes (never more rows than bands of 8).
  constexpr int kWide = kWideVectors<K, 4>;
  if (band_rows(h) == 8 && !(kWide > 1 && cols >= kWide * kRegisterLanes<T>))
    corr_rows<T, K, S, 8, Accumulate>(in, L, w, bias, out, out_pitch, round_up(h, 8), cols);
  else
    corr_rows<T, K, S, 4, Accumulate>(in, L, w, bias, out, out_pitch, round_up(h, 4), cols);
}

// Whether the bands and passes of corr_bands cover exactly h x w outputs (whole bands, whole
// and half registers of columns): then it can write straight into an h x w plane.
template <class T>
bool corr_bands_exact(int64_t h, int64_t w) {
  constexpr int64_t V = kRegisterLanes<T>;
  return h % band_rows(h) == 0 && (w % V == 0 || w % V == V / 2);
}

// acc[i*K + j] += sum_t dy[t] * in(i, j)[t] over the flat plane; dy has the input's pitch and
// zeros in its garbage columns, so the garbage inputs there contribute nothing. R kernel rows
// per pass: all of them (K*K vector accumulators) while that fits the 32 vector registers.
template <class T, int K, int S>
void dw_flat(const T* __restrict in, const PadLayout& L, const T* __restrict dy, int64_t n,
             T* __restrict acc_out) {
  constexpr int64_t V = kLanes<T>;
  constexpr int R = K <= 5 ? K : 1;
  for (int i0 = 0; i0 < K; i0 += R) {
    const T* tap[R * K];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < K; ++j) {
        int i = i0 + r;
        tap[r * K + j] = in + ((i % S) * S + j % S) * L.phase_size() + (i / S) * L.pitch + j / S;
      }
    T acc[R * K][V] = {};
    for (int64_t t0 = 0; t0 < n; t0 += V) {
#pragma GCC unroll 32
      for (int k = 0; k < R * K; ++k) {
#pragma omp simd
        for (int64_t l = 0; l < V; ++l) acc[k][l] += dy[t0 + l] * tap[k][t0 + l];
      }
    }
    for (int k = 0; k < R * K; ++k) {
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t l = 0; l < V; ++l) sum += acc[k][l];
      acc_out[i0 * K + k] += sum;
    }
  }
}

// Adds (or copies) the first w columns of each of h rows of a pitch-strided buffer.
template <class T, bool Accumulate>
void crop_rows(const T* src, int64_t pitch, int64_t h, int64_t w, T* dst) {
  for (int64_t r = 0; r < h; ++r) row_copy<Accumulate>(src + r * pitch, w, dst + r * w);
}

template <class T>
T plane_sum(const T* v, int64_t n) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < n; ++k) sum += v[k];
  return sum;
}

// Per-thread scratch buffers, allocated (zeroed) on first use and reused for every plane.
template <class T>
struct Scratch {
  std::vector<T> xp, dyp, tmp;
};

template <class T>
T* zeroed(std::vector<T>& v, int64_t size) {
  if (v.empty()) v.assign(size, T(0));
  return v.data();
}

// Layout whose flat loop of round_up(out_h * pitch, V) positions with taps reaching
// (reach_h, reach_w) sub-plane rows/columns further stays inside each sub-plane.
template <class T>
PadLayout flat_layout(int64_t in_h, int64_t in_w, int64_t top, int64_t left, int64_t S,
                      int64_t out_h, int64_t out_w, int64_t reach_h, int64_t reach_w,
                      int64_t min_pitch = 0) {
  PadLayout L{};
  L.phases = S;
  L.top = top;
  L.left = left;
  L.pitch = std::max({(in_w + left + S - 1) / S, out_w + reach_w, min_pitch});
  int64_t n = round_up(out_h * L.pitch, kLanes<T>);
  // One more row and V lanes of slack: callers may start the flat loop a few columns in.
  L.rows = std::max((in_h + top + S - 1) / S,
                    (n + reach_w + kLanes<T> + L.pitch - 1) / L.pitch + reach_h + 1);
  return L;
}

// Runs body(state, lo, hi) over blocks of planes covering [0, planes) on the threads of
// parallel_chunks, each thread claiming the next block from a shared counter and keeping its
// own State (scratch buffers). A static split makes every call wait for its slowest thread,
// and on a shared machine a descheduled thread stalls the whole call; claimed blocks keep the
// running threads busy. Results do not depend on the schedule: every plane writes only its
// own outputs and partials.
template <class State, class Body>
void for_plane_blocks(int64_t planes, Body&& body) {
  constexpr int64_t kBlock = 4;
  int64_t blocks = (planes + kBlock - 1) / kBlock;
  std::atomic<int64_t> next{0};
  parallel_chunks(0, std::min<int64_t>(blocks, num_threads()), [&](int64_t, int64_t) {
    State state;
    for (int64_t b = next.fetch_add(1, std::memory_order_relaxed); b < blocks;
         b = next.fetch_add(1, std::memory_order_relaxed))
      body(state, b * kBlock, std::min(planes, (b + 1) * kBlock));
  });
}

}  // namespace piconas::ops::depthwise_planes

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
