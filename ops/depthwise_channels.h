// depthwise_channels: the depthwise kernels for small planes (ops/depthwise_conv2d.cpp), not a
// public interface. On planes of a few dozen elements (mbv2-bench's 6x6 and 3x3 layers with
// 384..960 channels) the plane kernels of depthwise_planes.h spend most of their time on
// per-plane overhead: padded copies, bands of 4-8 rows for 3-6 rows, a horizontal sum per dw
// tap. Here B = kRegisterLanes consecutive channels of one image go together: their planes
// are transposed into B-lane vectors per spatial position, the spatial loops are scalar and
// simply skip taps outside the input (no padded copy), and each multiply-add works on B
// channels. Any kernel, stride and dilation; needs in_channels % B == 0.
//
// Rounding: the forward sums bias, then the taps in row-major order, and dx sums over the
// outputs in increasing order, like the plane kernels (which add w * 0 for the padding
// instead of skipping it), so y and dx are the same. A dw partial (one image and channel)
// sums over the output positions in increasing order, one multiply-add chain per channel:
// a different rounding than the plane kernels' vector-lane sums.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ops/conv2d.h"
#include "ops/depthwise_planes.h"

namespace piconas::ops::depthwise_channels {

using depthwise_planes::kRegisterLanes;
using depthwise_planes::Vec;

// to_lanes gathers B values per position, from_lanes one plane per lane (1.2x on the forward
// of mbv2-bench's 3x3 outputs against the scalar copies, 2026-12-06).
// Measured on mbv2-bench's layers (bench/README.md, 2026-12-05): the forward is faster here
// for outputs of 3x3 (2.5-3.6x) but slower for 6x6 (0.83x), the backward faster for inputs of
// 6x6 and 3x3 (1.15x, 3x) but slower for 12x12 (0.4x).
constexpr int64_t kMaxForwardOutputs = 16;
constexpr int64_t kMaxBackwardPlane = 48;

template <class T>
bool forward_applies(const ConvShape& s) {
  return s.in_channels % kRegisterLanes<T> == 0 && s.out_h * s.out_w <= kMaxForwardOutputs;
}

template <class T>
bool backward_applies(const ConvShape& s) {
  return s.in_channels % kRegisterLanes<T> == 0 && s.in_h * s.in_w <= kMaxBackwardPlane &&
         s.out_h * s.out_w <= kMaxBackwardPlane;
}

template <class T>
struct Scratch {
  std::vector<T> x, dy, dx, y, w, dw, x_padded, dy_padded;
};

template <class T>
T* sized(std::vector<T>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

// out[pos * B + l] = planes[l * size + pos]: B planes of `size` elements into B-lane vectors.
template <class T, int B>
void to_lanes(const T* __restrict planes, int64_t size, T* __restrict out) {
  for (int64_t pos = 0; pos < size; ++pos) {
#pragma omp simd
    for (int l = 0; l < B; ++l) out[pos * B + l] = planes[l * size + pos];
  }
}

// The reverse: planes[l * size + pos] = lanes[pos * B + l] (Accumulate: +=).
template <bool Accumulate, class T, int B>
void from_lanes(const T* __restrict lanes, int64_t size, T* __restrict planes) {
  for (int l = 0; l < B; ++l)
#pragma omp simd
    for (int64_t pos = 0; pos < size; ++pos) {
      T v = lanes[pos * B + l];
      planes[l * size + pos] = Accumulate ? planes[l * size + pos] + v : v;
    }
}

template <class T, int B>
Vec<T, B> load(const T* p) {
  Vec<T, B> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T, int B>
void store(T* p, const Vec<T, B>& v) {
  std::memcpy(p, &v, sizeof v);
}

// The (output, tap, input) triples of a shape whose input lies inside the plane (the taps on
// padding are skipped), grouped three ways and computed once per call: the spatial loops then
// run without bounds checks or divisions. Group g's entries are [begin[g], begin[g + 1]), in
// the order of output, then tap.
struct Links {
  std::vector<int32_t> begin;
  std::vector<int32_t> first, second;  // per entry, the two indices other than the group's
};

struct ShapeLinks {
  Links by_output;  // group: output position; entries: tap, input position
  Links by_input;   // group: input position; entries: tap, output position
  Links by_tap;     // group: tap; entries: input position, output position
};

inline Links group_links(const std::vector<int32_t>& key, const std::vector<int32_t>& first,
                         const std::vector<int32_t>& second, int64_t groups) {
  Links L;
  L.begin.assign(static_cast<size_t>(groups + 1), 0);
  for (int32_t g : key) ++L.begin[static_cast<size_t>(g + 1)];
  for (int64_t g = 0; g < groups; ++g) L.begin[g + 1] += L.begin[g];
  L.first.resize(key.size());
  L.second.resize(key.size());
  std::vector<int32_t> fill(L.begin.begin(), L.begin.end() - 1);
  for (size_t e = 0; e < key.size(); ++e) {
    int32_t at = fill[static_cast<size_t>(key[e])]++;
    L.first[at] = first[e];
    L.second[at] = second[e];
  }
  return L;
}

inline ShapeLinks shape_links(const ConvShape& s) {
  std::vector<int32_t> out, tap, in;
  for (int64_t oh = 0; oh < s.out_h; ++oh)
    for (int64_t ow = 0; ow < s.out_w; ++ow)
      for (int64_t i = 0; i < s.kernel_h; ++i) {
        int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
        if (ih < 0 || ih >= s.in_h) continue;
        for (int64_t j = 0; j < s.kernel_w; ++j) {
          int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
          if (iw < 0 || iw >= s.in_w) continue;
          out.push_back(static_cast<int32_t>(oh * s.out_w + ow));
          tap.push_back(static_cast<int32_t>(i * s.kernel_w + j));
          in.push_back(static_cast<int32_t>(ih * s.in_w + iw));
        }
      }
  return {group_links(out, tap, in, s.out_h * s.out_w),
          group_links(in, tap, out, s.in_h * s.in_w),
          group_links(tap, in, out, s.kernel_h * s.kernel_w)};
}

// acc + sum over group g's entries e of a[first[e] * B] * b[second[e] * B], in entry order.
template <class T, int B>
Vec<T, B> link_sum(const Links& L, int64_t g, const T* a, const T* b, Vec<T, B> acc) {
  for (int32_t e = L.begin[g]; e < L.begin[g + 1]; ++e)
    acc += load<T, B>(a + L.first[e] * B) * load<T, B>(b + L.second[e] * B);
  return acc;
}

// The stride-1 backward of 3x3 kernels without dilation (mbv2-bench's layers) skips the index
// tables: x and dy go into zero-bordered B-lane planes, and the loops read every tap at a fixed
// offset, with the nine weight vectors in registers (1.1-1.2x on mbv2-bench's 6x6 and 3x3
// layers; the forward stays on the tables, which skip the border taps: 0.8x padded, measured).
// A tap on the border adds w * 0, which leaves every sum (started at +0, never -0) unchanged:
// the same bits as the table loops.
constexpr int kPaddedKernel = 3;

inline bool padded_applies(const ConvShape& s) {
  constexpr int K = kPaddedKernel;
  return s.kernel_h == K && s.kernel_w == K && s.dilation_h == 1 && s.dilation_w == 1 &&
         s.stride_h == 1 && s.stride_w == 1 && s.pad_h < K && s.pad_w < K;
}

// A zero-bordered plane of positions rows x cols, the plane's (0, 0) at (top, left).
struct PaddedLanes {
  int64_t rows, cols, top, left;
  int64_t size() const { return rows * cols; }
};

// The input for dw: every tap of every output inside.
inline PaddedLanes padded_input(const ConvShape& s) {
  constexpr int K = kPaddedKernel;
  return {std::max((s.out_h - 1) * s.stride_h + K, s.pad_h + s.in_h),
          std::max((s.out_w - 1) * s.stride_w + K, s.pad_w + s.in_w), s.pad_h, s.pad_w};
}

// dy for the stride-1 dx: dy(oh, ow) at (oh + K-1-pad, ow + K-1-pad), so input (ih, iw) reads
// its K x K window from (ih, iw).
inline PaddedLanes padded_dy(const ConvShape& s) {
  constexpr int K = kPaddedKernel;
  return {s.in_h + K - 1, s.in_w + K - 1, K - 1 - s.pad_h, K - 1 - s.pad_w};
}

// out[((r + top) * cols + c + left) * B + l] = planes[l * h * w + r * w + c]; out's border is
// never written (a buffer zeroed once stays zero there).
template <class T, int B>
void to_padded_lanes(const T* __restrict planes, int64_t h, int64_t w, const PaddedLanes& P,
                     T* __restrict out) {
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) {
      const T* src = planes + r * w + c;
      T* dst = out + ((r + P.top) * P.cols + P.left + c) * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) dst[l] = src[l * h * w];
    }
}

// Stride 1: dx(ih, iw) = its outputs' w * dy in increasing output order (kernel rows and
// columns from the last), from dy padded by padded_dy.
template <class T, int B>
void dx_padded(const ConvShape& s, const PaddedLanes& Q, const T* dyp, const T* wl, T* dxl) {
  constexpr int K = kPaddedKernel;
  Vec<T, B> wf[K * K];
  for (int k = 0; k < K * K; ++k) wf[k] = load<T, B>(wl + (K * K - 1 - k) * B);
  for (int64_t ih = 0; ih < s.in_h; ++ih)
    for (int64_t iw = 0; iw < s.in_w; ++iw) {
      const T* in = dyp + (ih * Q.cols + iw) * B;
      Vec<T, B> acc{};
      for (int a = 0; a < K; ++a)
        for (int b = 0; b < K; ++b) acc += wf[a * K + b] * load<T, B>(in + (a * Q.cols + b) * B);
      store<T, B>(dxl + (ih * s.in_w + iw) * B, acc);
    }
}

// dw(i, j) = sum over the outputs in increasing order of x under tap (i, j) times dy; dy read
// from its padded plane (Q) at (oh + Q.top, ow + Q.left).
template <class T, int B>
void dw_padded(const ConvShape& s, const PaddedLanes& P, const T* xp, const PaddedLanes& Q,
               const T* dyp, T* dwl) {
  constexpr int K = kPaddedKernel;
  Vec<T, B> acc[K * K] = {};
  for (int64_t oh = 0; oh < s.out_h; ++oh)
    for (int64_t ow = 0; ow < s.out_w; ++ow) {
      const Vec<T, B> d = load<T, B>(dyp + ((oh + Q.top) * Q.cols + ow + Q.left) * B);
      const T* in = xp + (oh * P.cols + ow) * B;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) acc[i * K + j] += load<T, B>(in + (i * P.cols + j) * B) * d;
    }
  for (int k = 0; k < K * K; ++k) store<T, B>(dwl + k * B, acc[k]);
}

// Runs body(scratch, n, c0) for every image n and block of B channels from c0, spread over
// the threads; each block writes only its own planes.
template <class T, class Body>
void for_channel_blocks(const ConvShape& s, Body&& body) {
  constexpr int B = kRegisterLanes<T>;
  int64_t blocks_per_image = s.in_channels / B;
  depthwise_planes::for_plane_blocks<Scratch<T>>(
      s.batch * blocks_per_image, [&](Scratch<T>& sc, int64_t lo, int64_t hi) {
        for (int64_t u = lo; u < hi; ++u)
          body(sc, u / blocks_per_image, (u % blocks_per_image) * B);
      });
}

template <class T>
void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  constexpr int B = kRegisterLanes<T>;
  using V = Vec<T, B>;
  const int64_t in_size = s.in_h * s.in_w, out_size = s.out_h * s.out_w;
  const int64_t taps = s.kernel_h * s.kernel_w;
  const ShapeLinks links = shape_links(s);
  for_channel_blocks<T>(s, [&](Scratch<T>& sc, int64_t n, int64_t c0) {
    T* xl = sized(sc.x, in_size * B);
    T* yl = sized(sc.y, out_size * B);
    T* wl = sized(sc.w, taps * B);
    to_lanes<T, B>(w + c0 * taps, taps, wl);
    V b{};
    if (bias) b = load<T, B>(bias + c0);
    to_lanes<T, B>(x + (n * s.in_channels + c0) * in_size, in_size, xl);
    for (int64_t o = 0; o < out_size; ++o)
      store<T, B>(yl + o * B, link_sum<T, B>(links.by_output, o, wl, xl, b));
    from_lanes<false, T, B>(yl, out_size, y + (n * s.in_channels + c0) * out_size);
  });
}

// dx (+)= the input gradient (AccumulateDx: +=, else =; dx may be null). Partials of plane p = n * C + c, at
// parts + p * (taps + 1): with_dw, its weight gradient (taps values); with_dbias, then the sum
// of its dy (depthwise_planes::plane_sum, as the plane kernels).
template <bool AccumulateDx, class T>
void backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* parts,
              bool with_dw, bool with_dbias) {
  constexpr int B = kRegisterLanes<T>;
  using V = Vec<T, B>;
  const int64_t in_size = s.in_h * s.in_w, out_size = s.out_h * s.out_w;
  const int64_t taps = s.kernel_h * s.kernel_w, part_stride = taps + 1;
  // (Stride 2's dx would need a phase per input position: it stays on the tables.)
  const bool padded = padded_applies(s);
  const ShapeLinks links = padded ? ShapeLinks{} : shape_links(s);
  const PaddedLanes P = padded_input(s), Q = padded_dy(s);
  for_channel_blocks<T>(s, [&](Scratch<T>& sc, int64_t n, int64_t c0) {
    const int64_t first = n * s.in_channels + c0;
    T* dyl = nullptr;
    if (padded) {
      dyl = sized(sc.dy_padded, Q.size() * B);
      to_padded_lanes<T, B>(dy + first * out_size, s.out_h, s.out_w, Q, dyl);
    } else {
      dyl = sized(sc.dy, out_size * B);
      to_lanes<T, B>(dy + first * out_size, out_size, dyl);
    }
    if (dx) {
      // Each input position sums what its outputs send back, in increasing output order.
      T* wl = sized(sc.w, taps * B);
      T* dxl = sized(sc.dx, in_size * B);
      to_lanes<T, B>(w + c0 * taps, taps, wl);
      if (padded) {
        dx_padded<T, B>(s, Q, dyl, wl, dxl);
      } else {
        for (int64_t i = 0; i < in_size; ++i)
          store<T, B>(dxl + i * B, link_sum<T, B>(links.by_input, i, wl, dyl, V{}));
      }
      from_lanes<AccumulateDx, T, B>(dxl, in_size, dx + first * in_size);
    }
    T* dwl = nullptr;
    if (with_dw) {
      // One tap at a time, summed over the outputs in increasing order.
      dwl = sized(sc.dw, taps * B);
      if (padded) {
        T* xp = sized(sc.x_padded, P.size() * B);
        to_padded_lanes<T, B>(x + first * in_size, s.in_h, s.in_w, P, xp);
        dw_padded<T, B>(s, P, xp, Q, dyl, dwl);
      } else {
        T* xl = sized(sc.x, in_size * B);
        to_lanes<T, B>(x + first * in_size, in_size, xl);
        for (int64_t k = 0; k < taps; ++k)
          store<T, B>(dwl + k * B, link_sum<T, B>(links.by_tap, k, xl, dyl, V{}));
      }
    }
    for (int l = 0; l < B; ++l) {
      T* part = parts + (first + l) * part_stride;
      if (dwl)
        for (int64_t k = 0; k < taps; ++k) part[k] = dwl[k * B + l];
      if (with_dbias)
        part[taps] = depthwise_planes::plane_sum(dy + (first + l) * out_size, out_size);
    }
  });
}

}  // namespace piconas::ops::depthwise_channels
