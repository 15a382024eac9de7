// batchnorm2d_act_blocks: the channel-block sums of the fused BatchNorm + activation
// (ops/batchnorm2d_act.cpp, NormKernel::ChannelBlocks), not a public interface. Header-only,
// templated on the element type; Act is one of batchnorm2d_act.cpp's activations.
//
// For planes of at most kLanes values (4x4, 3x3, 2x2, 1x1), a value's lane in the channel sums
// of ops/batchnorm2d_channel.h is its index in the plane. A block is k consecutive channels
// from c0, at most kBlockValues values per image; in image n they are contiguous from
// plane(s, n, c0), so the lane sums of the whole block lie side by side like its values: with
// every per-channel constant repeated for each of a channel's values, each pass is one flat
// loop over the block per image, vectorised across channels (a 3x3 plane alone fills 9 of 16
// lanes and runs a scalar tail). Each lane sum sees the same values in the same order as in
// ByChannel, so the bits are the same.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ops/batchnorm2d.h"
#include "ops/batchnorm2d_channel.h"

namespace piconas::ops::batchnorm2d_act_blocks {

using namespace batchnorm2d_channel;

inline constexpr int64_t kBlockValues = 256;
inline constexpr int64_t kBlockMaxSpatial = kLanes;

inline int64_t block_channels(const NormShape& s) { return kBlockValues / s.spatial; }

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

// The per-value lane sums of a block, gathered into channel c's kLanes lanes (the lanes past
// the plane stay +0, as in ByChannel).
inline void channel_lanes(const double* block_sums, int64_t c, int64_t spatial,
                          double (&lanes)[kLanes]) {
  std::fill(lanes, lanes + kLanes, 0.0);
  std::copy_n(block_sums + c * spatial, spatial, lanes);
}

// channel_moments for the k channels of a block: each channel's mean and biased variance.
template <class T>
void block_moments(const NormShape& s, const T* x, int64_t c0, int64_t k, double* mean,
                   double* var) {
  const int64_t S = s.spatial, len = k * S;
  alignas(64) double shift[kBlockValues], s1[kBlockValues] = {}, s2[kBlockValues] = {};
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
  const double count = static_cast<double>(s.batch * S);
  for (int64_t c = 0; c < k; ++c) {
    double l1[kLanes], l2[kLanes];
    channel_lanes(s1, c, S, l1);
    channel_lanes(s2, c, S, l2);
    moments_from_lanes(l1, l2, shift[c * S], count, mean[c], var[c]);
  }
}

// The sums of batchnorm2d_act.cpp's gated_grad_sums (g = Act::gate(z, dy): sum g and
// sum g * (x - mean)) for the k channels of a block.
template <class Act, class T>
void block_grad_sums(const NormShape& s, const T* x, const T* dy, const T* save_mean,
                     const BlockAffine<T>& af, int64_t c0, int64_t k, double* sum_dy,
                     double* sum_dy_xmu) {
  const int64_t S = s.spatial, len = k * S;
  alignas(64) double mean[kBlockValues], a[kBlockValues] = {}, b[kBlockValues] = {};
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
    double la[kLanes], lb[kLanes];
    channel_lanes(a, c, S, la);
    channel_lanes(b, c, S, lb);
    sum_dy[c] = combine_lanes(la);
    sum_dy_xmu[c] = combine_lanes(lb);
  }
}

}  // namespace piconas::ops::batchnorm2d_act_blocks
