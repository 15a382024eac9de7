// batchnorm2d_channel: the per-channel loops shared by the BatchNorm kernels
// (ops/batchnorm2d.cpp, ops/batchnorm2d_act.cpp), not a public interface. NCHW; a channel's
// values are its N planes of H*W elements. Header-only, templated on the element type.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/batchnorm2d.h"

// The per-plane loops below take their caller's lane arrays; inlined, the lanes of a local
// array stay in registers (a call would pass them through memory on every step).
#define PICONAS_BN_INLINE __attribute__((always_inline)) inline

namespace piconas::ops::batchnorm2d_channel {

// Offset of plane (n, c) in NCHW.
inline int64_t plane(const NormShape& s, int64_t n, int64_t c) {
  return (n * s.channels + c) * s.spatial;
}

// The channel sums below accumulate in double over kLanes lane partials that persist across
// the planes of a channel: the lane loop vectorises (two 8-double registers), the partials
// are combined in a fixed order at the end, so results do not depend on the thread count,
// and small planes (4x4, 2x2, 1x1 late in a network) pay no per-plane horizontal reduction.
constexpr int kLanes = 16;

inline double combine_lanes(const double (&lanes)[kLanes]) {
  double total = 0.0;
  for (double v : lanes) total += v;
  return total;
}

// Mean and biased variance of a channel of `count` values from its lane sums of d = x - shift
// and d^2 (channel_moments).
inline void moments_from_lanes(const double (&s1)[kLanes], const double (&s2)[kLanes],
                               double shift, double count, double& mean, double& var) {
  const double mean_shifted = combine_lanes(s1) / count;
  mean = shift + mean_shifted;
  var = std::max(0.0, combine_lanes(s2) / count - mean_shifted * mean_shifted);
}

// Two sums of a channel as kLanes lane partials each.
struct LaneSums {
  double first[kLanes] = {}, second[kLanes] = {};
};

// Adds d = x - shift and d^2 of one plane into the lane sums s1, s2: value i goes to lane
// i % kLanes, the plane's tail to lanes 0, 1, ...
template <class T>
PICONAS_BN_INLINE void add_shifted_plane(const T* p, int64_t spatial, double shift, double (&s1)[kLanes],
                       double (&s2)[kLanes]) {
  int64_t i = 0;
  for (; i + kLanes <= spatial; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(p[i + l]) - shift;
      s1[l] += d;
      s2[l] += d * d;
    }
  }
  for (int l = 0; i < spatial; ++i, ++l) {
    const double d = static_cast<double>(p[i]) - shift;
    s1[l] += d;
    s2[l] += d * d;
  }
}

// Mean and biased variance of channel c in one pass over shifted data: with a shift K taken
// from the channel itself, sums of (x - K) and (x - K)^2 in double keep the variance accurate
// even when |mean| >> std (the unshifted E[x^2] - E[x]^2 would cancel); for float inputs
// x - K is exact in double.
template <class T>
void channel_moments(const NormShape& s, const T* x, int64_t c, double& mean, double& var) {
  const double shift = x[plane(s, 0, c)];
  double s1[kLanes] = {}, s2[kLanes] = {};
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* p = x + plane(s, n, c);
    int64_t i = 0;
    for (; i + kLanes <= s.spatial; i += kLanes) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) {
        const double d = static_cast<double>(p[i + l]) - shift;
        s1[l] += d;
        s2[l] += d * d;
      }
    }
    for (int l = 0; i < s.spatial; ++i, ++l) {
      const double d = static_cast<double>(p[i]) - shift;
      s1[l] += d;
      s2[l] += d * d;
    }
  }
  moments_from_lanes(s1, s2, shift, static_cast<double>(s.batch * s.spatial), mean, var);
}

// Channel groups: the channels [first, first + count) walked image by image. In one image a
// group's planes are contiguous, so a pass streams count * spatial values at a time instead of
// one plane followed by a jump of a whole image (the hardware prefetcher restarts at every
// jump: channel_moments over a 48x48 plane ran at a third of a linear sweep's bandwidth). Each
// channel's sums still see its values in the same order (image, then position), so the bits
// are those of the channel at a time walk.
inline constexpr int64_t kMaxGroupChannels = 64;
// Target bytes of a group per image (measured: 32-150 KB runs all stream well; bench/README.md).
inline constexpr int64_t kGroupBytes = 64 << 10;
// Planes below this many bytes keep one channel per group: their tensors are small, and a
// channel's lane sums then stay in registers across its planes (AVX2 forward on 6x6-12x12
// planes: grouped 0.8-0.9x of one channel at a time; bench/README.md).
inline constexpr int64_t kGroupMinPlaneBytes = 1 << 10;

struct ChannelGroups {
  int64_t size, count;  // channels per group (the last may have fewer), number of groups
};

// Groups of about kGroupBytes per image, at most kMaxGroupChannels channels, their number
// rounded up to a multiple of `workers` so that a static split keeps every thread busy; one
// channel per group on planes under kGroupMinPlaneBytes.
inline ChannelGroups channel_groups(const NormShape& s, int64_t element_bytes, int64_t workers) {
  const int64_t plane_bytes = std::max<int64_t>(1, s.spatial * element_bytes);
  if (plane_bytes < kGroupMinPlaneBytes) return {1, s.channels};
  const int64_t wanted = std::clamp<int64_t>((kGroupBytes + plane_bytes - 1) / plane_bytes, 1,
                                             kMaxGroupChannels);
  int64_t count = (s.channels + wanted - 1) / wanted;
  count = std::min(s.channels, (count + workers - 1) / workers * workers);
  const int64_t size = (s.channels + count - 1) / count;
  return {size, (s.channels + size - 1) / size};
}

// channel_moments for the k channels from c0, walked image by image. A channel's lane sums
// are copied into locals for each of its planes (kept in registers there; through the array
// GCC reloads them every step).
template <class T>
void group_moments(const NormShape& s, const T* x, int64_t c0, int64_t k, double* mean,
                   double* var) {
  double shift[kMaxGroupChannels];
  LaneSums sums[kMaxGroupChannels];
  for (int64_t c = 0; c < k; ++c) shift[c] = x[plane(s, 0, c0 + c)];
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < k; ++c) {
      double s1[kLanes], s2[kLanes];
      std::copy_n(sums[c].first, kLanes, s1);
      std::copy_n(sums[c].second, kLanes, s2);
      add_shifted_plane(x + plane(s, n, c0 + c), s.spatial, shift[c], s1, s2);
      std::copy_n(s1, kLanes, sums[c].first);
      std::copy_n(s2, kLanes, sums[c].second);
    }
  const double count = static_cast<double>(s.batch * s.spatial);
  for (int64_t c = 0; c < k; ++c)
    moments_from_lanes(sums[c].first, sums[c].second, shift[c], count, mean[c], var[c]);
}

// The batch statistics of channel c in training mode from its mean and biased variance: stores
// save_mean / save_invstd, updates the running statistics (each may be null) with the unbiased
// variance, returns invstd in double.
template <class T>
double store_train_statistics(const NormShape& s, int64_t c, double mean, double var, T eps,
                              T momentum, T* running_mean, T* running_var, T* save_mean,
                              T* save_invstd) {
  const int64_t count = s.batch * s.spatial;
  const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
  save_mean[c] = static_cast<T>(mean);
  save_invstd[c] = static_cast<T>(invstd);
  if (running_mean)
    running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
  if (running_var) {
    double unbiased = var * static_cast<double>(count) / static_cast<double>(count - 1);
    running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * unbiased);
  }
  return invstd;
}

// The batch statistics of channel c (channel_moments, then store_train_statistics); returns
// mean and invstd in double.
template <class T>
void channel_train_statistics(const NormShape& s, const T* x, int64_t c, T eps, T momentum,
                              T* running_mean, T* running_var, T* save_mean, T* save_invstd,
                              double& mean, double& invstd) {
  double var;
  channel_moments(s, x, c, mean, var);
  invstd = store_train_statistics(s, c, mean, var, eps, momentum, running_mean, running_var,
                                  save_mean, save_invstd);
}

// y = (x - mean) * scale + shift over channel c. The mean is subtracted first rather than
// folded into shift, and it comes split as mean_hi + mean_lo (mean_hi = T(mean),
// mean_lo = T(mean - mean_hi)): when |mean| >> std, x - mean_hi is exact in float and the
// rounding of mean to float no longer swamps the deviations.
template <class T>
void channel_affine(const NormShape& s, const T* x, int64_t c, double mean, T scale, T shift,
                    T* y) {
  const T mean_hi = static_cast<T>(mean);
  const T mean_lo = static_cast<T>(mean - static_cast<double>(mean_hi));
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* xp = x + plane(s, n, c);
    T* yp = y + plane(s, n, c);
#pragma omp simd
    for (int64_t i = 0; i < s.spatial; ++i) yp[i] = ((xp[i] - mean_hi) - mean_lo) * scale + shift;
  }
}

// The normalisation of one channel as channel_affine computes it: batchnorm2d_act's
// forward applies it, its backward recomputes it (the same float operations, so the same
// bits) for the activation's derivative instead of reading the output back.
template <class T>
struct ChannelAffine {
  T mean_hi, mean_lo, scale, shift;
  T normalised(T x) const { return ((x - mean_hi) - mean_lo) * scale + shift; }
};

// sum dy and sum dy * (x - mean) over channel c, in double (lane partials as above).
template <class T>
void channel_grad_sums(const NormShape& s, const T* x, const T* dy, int64_t c, double mean,
                       double& sum_dy, double& sum_dy_xmu) {
  double a[kLanes] = {}, b[kLanes] = {};
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* xp = x + plane(s, n, c);
    const T* gp = dy + plane(s, n, c);
    int64_t i = 0;
    for (; i + kLanes <= s.spatial; i += kLanes) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) {
        const double g = gp[i + l];
        a[l] += g;
        b[l] += g * (static_cast<double>(xp[i + l]) - mean);
      }
    }
    for (int l = 0; i < s.spatial; ++i, ++l) {
      const double g = gp[i];
      a[l] += g;
      b[l] += g * (static_cast<double>(xp[i]) - mean);
    }
  }
  sum_dy = combine_lanes(a);
  sum_dy_xmu = combine_lanes(b);
}

}  // namespace piconas::ops::batchnorm2d_channel
