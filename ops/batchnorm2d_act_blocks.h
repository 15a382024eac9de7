// batchnorm2d_act_blocks: the channel-block sums of the fused BatchNorm + activation
// (ops/batchnorm2d_act.cpp, NormKernel::ChannelBlocks), not a public interface. Header-only,
// templated on the element type; Act is one of batchnorm2d_act.cpp's activations.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ops/batchnorm2d.h"
#include "ops/batchnorm2d_channel.h"

namespace piconas::ops::batchnorm2d_act_blocks {

using namespace batchnorm2d_channel;

// A block is `k` consecutive channels from c0, at most
// kBlockValues values per image; in image n they are contiguous from plane(s, n, c0), so with
// every per-channel constant repeated for each of a channel's values, each pass is one flat
// loop over the block per image, vectorised across channels (a 3x3 or 6x6 plane alone is
// shorter than, or not a multiple of, the vector loop). Each channel's lane sums see the
// same values in the same order as in ByChannel, so the bits are the same.
inline constexpr int64_t kBlockValues = 256;

inline int64_t block_channels(const NormShape& s) {
  return std::max<int64_t>(1, kBlockValues / s.spatial);
}

// Per-value copies of per-channel constants over a block.
template <class T>
struct BlockAffine {
  alignas(64) T mean_hi[kBlockValues], mean_lo[kBlockValues], scale[kBlockValues],
      shift[kBlockValues];
  void set(int64_t from, int64_t count, const ChannelAffine<T>& a) {
    std::fill_n(mean_hi + from, count, a.mean_hi);
    std::fill_n(mean_lo + from, count, a.mean_lo);
    std::fill_n(scale + from, count, a.scale);
    std::fill_n(shift + from, count, a.shift);
  }
  T normalised(int64_t j, T x) const {
    return ChannelAffine<T>{mean_hi[j], mean_lo[j], scale[j], shift[j]}.normalised(x);
  }
};

// Rows of kLanes values: a plane's last, partial row is read as a whole row (the values past
// the plane belong to the next plane, so the load stays inside the tensor) and the lanes past
// the plane replaced in registers; only the tensor's last plane copies its partial row
// (copying every tail into a buffer stalled on store-to-load forwarding: bench_batchnorm_act).
inline bool last_plane(const NormShape& s, int64_t n, int64_t c) {
  return n == s.batch - 1 && c == s.channels - 1;
}

template <class T>
const T* tail_copy(const T* from, int64_t count, T (&row)[kLanes]) {
  std::fill(std::copy(from, from + count, row), row + kLanes, T(0));
  return row;
}

// The lane sums of channel_moments for the k channels of a block, then each channel's mean and
// variance. spatial <= kLanes: a value's lane is its index in the plane, so the lanes of the
// block lie side by side like its values. Longer planes go row by row (kLanes values), the
// last row completed with the channel's shift value: d = 0 exactly, and adding 0 leaves a lane
// sum unchanged (a sum that starts at +0 is never -0).
template <class T>
void block_moments(const NormShape& s, const T* x, int64_t c0, int64_t k, double* mean,
                   double* var) {
  const int64_t S = s.spatial, len = k * S;
  const double count = static_cast<double>(s.batch * S);
  alignas(64) double s1[kBlockValues] = {}, s2[kBlockValues] = {};
  if (S <= kLanes) {
    alignas(64) double shift[kBlockValues];
    for (int64_t c = 0; c < k; ++c) std::fill_n(shift + c * S, S, x[plane(s, 0, c0 + c)]);
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* p = x + plane(s, n, c0);
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const double d = static_cast<double>(p[j]) - shift[j];
        s1[j] += d;
        s2[j] += d * d;
      }
    }
    for (int64_t c = 0; c < k; ++c) {
      double l1[kLanes] = {}, l2[kLanes] = {};
      std::copy_n(s1 + c * S, S, l1);
      std::copy_n(s2 + c * S, S, l2);
      moments_from_lanes(l1, l2, shift[c * S], count, mean[c], var[c]);
    }
    return;
  }
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < k; ++c) {
      const T* p = x + plane(s, n, c0 + c);
      const T first = x[plane(s, 0, c0 + c)];
      const double shift = first;
      T tail[kLanes];
      double* l1 = s1 + c * kLanes;
      double* l2 = s2 + c * kLanes;
      auto add_row = [&](const T* row, int64_t valid) {
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) {
          const T loaded = row[l];
          const double d = static_cast<double>(l < valid ? loaded : first) - shift;
          l1[l] += d;
          l2[l] += d * d;
        }
      };
      int64_t i = 0;
      for (; i + kLanes <= S; i += kLanes) add_row(p + i, kLanes);
      if (i < S) add_row(last_plane(s, n, c0 + c) ? tail_copy(p + i, S - i, tail) : p + i, S - i);
    }
  for (int64_t c = 0; c < k; ++c) {
    double l1[kLanes], l2[kLanes];
    std::copy_n(s1 + c * kLanes, kLanes, l1);
    std::copy_n(s2 + c * kLanes, kLanes, l2);
    moments_from_lanes(l1, l2, x[plane(s, 0, c0 + c)], count, mean[c], var[c]);
  }
}

// The gated sums of gated_grad_sums for the k channels of a block, laid out as block_moments
// lays out its sums (a padded last row: dy = +0 gives g = +0, and x = mean gives
// g * (x - mean) = 0).
template <class Act, class T>
void block_grad_sums(const NormShape& s, const T* x, const T* dy, const T* save_mean,
                     const BlockAffine<T>& af, int64_t c0, int64_t k, double* sum_dy,
                     double* sum_dy_xmu) {
  const int64_t S = s.spatial, len = k * S;
  alignas(64) double a[kBlockValues] = {}, b[kBlockValues] = {};
  if (S <= kLanes) {
    alignas(64) double mean[kBlockValues];
    for (int64_t c = 0; c < k; ++c) std::fill_n(mean + c * S, S, save_mean[c0 + c]);
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c0);
      const T* gp = dy + plane(s, n, c0);
      alignas(64) T gated[kBlockValues];  // two loops, as in gated_grad_sums
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) gated[j] = Act::gate(af.normalised(j, xp[j]), gp[j]);
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const double g = gated[j];
        a[j] += g;
        b[j] += g * (static_cast<double>(xp[j]) - mean[j]);
      }
    }
    for (int64_t c = 0; c < k; ++c) {
      double la[kLanes] = {}, lb[kLanes] = {};
      std::copy_n(a + c * S, S, la);
      std::copy_n(b + c * S, S, lb);
      sum_dy[c] = combine_lanes(la);
      sum_dy_xmu[c] = combine_lanes(lb);
    }
    return;
  }
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < k; ++c) {
      const T* xp = x + plane(s, n, c0 + c);
      const T* gp = dy + plane(s, n, c0 + c);
      const ChannelAffine<T> affine{af.mean_hi[c * S], af.mean_lo[c * S], af.scale[c * S],
                                    af.shift[c * S]};
      const T mean_t = save_mean[c0 + c];
      const double mean = mean_t;
      T x_tail[kLanes], dy_tail[kLanes];
      double* la = a + c * kLanes;
      double* lb = b + c * kLanes;
      auto add_row = [&](const T* xr, const T* gr, int64_t valid) {
        T xs[kLanes], gated[kLanes];
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) {
          const T x_loaded = xr[l], dy_loaded = gr[l];
          xs[l] = l < valid ? x_loaded : mean_t;
          gated[l] = Act::gate(affine.normalised(xs[l]), l < valid ? dy_loaded : T(0));
        }
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) {
          const double g = gated[l];
          la[l] += g;
          lb[l] += g * (static_cast<double>(xs[l]) - mean);
        }
      };
      int64_t i = 0;
      for (; i + kLanes <= S; i += kLanes) add_row(xp + i, gp + i, kLanes);
      if (i == S) continue;
      if (last_plane(s, n, c0 + c))
        add_row(tail_copy(xp + i, S - i, x_tail), tail_copy(gp + i, S - i, dy_tail), S - i);
      else
        add_row(xp + i, gp + i, S - i);
    }
  for (int64_t c = 0; c < k; ++c) {
    double la[kLanes], lb[kLanes];
    std::copy_n(a + c * kLanes, kLanes, la);
    std::copy_n(b + c * kLanes, kLanes, lb);
    sum_dy[c] = combine_lanes(la);
    sum_dy_xmu[c] = combine_lanes(lb);
  }
}

}  // namespace piconas::ops::batchnorm2d_act_blocks
