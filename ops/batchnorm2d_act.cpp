#include "ops/batchnorm2d_act.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/batchnorm2d_act_blocks.h"
#include "ops/batchnorm2d_channel.h"

namespace piconas::ops {

const char* norm_activation_name(NormActivation act) {
  switch (act) {
    case NormActivation::Identity:
      return "identity";
    case NormActivation::ReLU:
      return "relu";
    case NormActivation::ReLU6:
      return "relu6";
  }
  return "unknown";
}

namespace {

using namespace batchnorm2d_channel;
using namespace batchnorm2d_act_blocks;

// keep ? v : +0 on the bits, so scalar code (plane tails, 3x3 planes) has no branch to
// mispredict; the same value as the select.
template <class T>
T keep_if(bool keep, T v) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const Bits mask = Bits(0) - static_cast<Bits>(keep);
  return std::bit_cast<T>(std::bit_cast<Bits>(v) & mask);
}

// The activations exactly as ops/relu.cpp and ops/relu6.cpp compute them. apply(z) is the
// forward of the normalised value z; gate(z, dy) is the gradient that reaches z, computed as the
// unfused relu*_backward leaves it in its zero-filled gradient buffer: 0 + (passes ? dy : 0)
// (the "+ 0" turns a -0 into +0, as that buffer does).
struct Identity {
  template <class T>
  static T apply(T z) {
    return z;
  }
  template <class T>
  static T gate(T /*z*/, T dy) {
    return dy;
  }
};

struct Relu {
  template <class T>
  static T apply(T z) {
    return z > T(0) ? z : T(0);
  }
  template <class T>
  static T gate(T z, T dy) {
    return T(0) + keep_if(z > T(0), dy);
  }
};

struct Relu6 {
  template <class T>
  static T apply(T z) {
    const T v = z > T(0) ? z : T(0);
    return v < T(6) ? v : T(6);
  }
  template <class T>
  static T gate(T z, T dy) {
    return T(0) + keep_if((z > T(0)) & (z < T(6)), dy);
  }
};

// channel_affine's constants from the batch statistics; stores mean_lo, scale, shift in
// save_affine (3 per channel; mean_hi is save_mean).
template <class T>
ChannelAffine<T> train_affine(const T* gamma, const T* beta, int64_t c, double mean, double invstd,
                              T* save_affine) {
  const double scale_d = gamma[c] * invstd;
  const T mean_hi = static_cast<T>(mean);
  const T mean_lo = static_cast<T>(mean - static_cast<double>(mean_hi));
  const ChannelAffine<T> affine{mean_hi, mean_lo, static_cast<T>(scale_d), beta[c]};
  save_affine[3 * c] = affine.mean_lo;
  save_affine[3 * c + 1] = affine.scale;
  save_affine[3 * c + 2] = affine.shift;
  return affine;
}

template <class T>
ChannelAffine<T> saved_affine(const T* save_mean, const T* save_affine, int64_t c) {
  return {save_mean[c], save_affine[3 * c], save_affine[3 * c + 1], save_affine[3 * c + 2]};
}

// dx = a * g + b * (x - mean) + d for one channel, as batchnorm2d_backward_train folds it:
// with xhat = (x - mean) * invstd and M = N*H*W values, dbeta = sum g, dgamma = sum g * xhat,
// dx = gamma * invstd / M * (M * g - sum g - xhat * sum(g * xhat)). Accumulates the channel's
// dbeta / dgamma (each may be null) on the way.
template <class T>
struct DxCoefficients {
  T a, b, d, mean;
};

template <class T>
DxCoefficients<T> finish_channel(const NormShape& s, const T* gamma, const T* save_mean,
                                 const T* save_invstd, int64_t c, double sum_dy, double sum_dy_xmu,
                                 T* dgamma, T* dbeta) {
  const double count = static_cast<double>(s.batch * s.spatial);
  const double invstd = save_invstd[c];
  const double sum_dy_xhat = sum_dy_xmu * invstd;
  if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
  if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
  const double k = gamma[c] * invstd;
  const double proj = sum_dy_xhat * invstd / count;
  return {static_cast<T>(k), static_cast<T>(-k * proj), static_cast<T>(-k * sum_dy / count),
          save_mean[c]};
}

// The dx of one value; Overwrite stores 0 + v, the value accumulating v into a zeroed buffer
// gives.
template <class T>
T dx_value(T a, T gated, T b, T x, T mean, T d) {
  return a * gated + b * (x - mean) + d;
}

// ---- ByChannel: each channel's planes with their own sums (large planes), walked a channel
// group at a time image by image (batchnorm2d_channel::channel_groups).

// Adds g = Act::gate(z, dy) and g * (x - mean) of one plane into the lane sums a, b, in
// double (the loop of batchnorm2d_channel::channel_grad_sums with the gate in front).
template <class Act, class T>
PICONAS_BN_INLINE void add_gated_plane(const T* xp, const T* gp, int64_t spatial, const ChannelAffine<T>& affine,
                     double mean, double (&a)[kLanes], double (&b)[kLanes]) {
  int64_t i = 0;
  for (; i + kLanes <= spatial; i += kLanes) {
    // The gate first, into a lane buffer in T: with the select and the double sums in one
    // loop GCC left the loop scalar (perf: the sums then cost more than the fusion saved).
    T gated[kLanes];
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) gated[l] = Act::gate(affine.normalised(xp[i + l]), gp[i + l]);
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) {
      const double g = gated[l];
      a[l] += g;
      b[l] += g * (static_cast<double>(xp[i + l]) - mean);
    }
  }
  const int rest = static_cast<int>(spatial - i);  // the tail, as above
  if (rest > 0) {
    T gated[kLanes];
#pragma omp simd
    for (int l = 0; l < rest; ++l) gated[l] = Act::gate(affine.normalised(xp[i + l]), gp[i + l]);
    for (int l = 0; l < rest; ++l) {
      const double g = gated[l];
      a[l] += g;
      b[l] += g * (static_cast<double>(xp[i + l]) - mean);
    }
  }
}

// Sums over channel c of g = Act::gate(z, dy) and g * (x - mean), in double over kLanes lane
// partials combined in a fixed order (the loop of batchnorm2d_channel::channel_grad_sums with
// the gate in front; add_gated_plane's loop with the lanes in locals across the planes).
template <class Act, class T>
void gated_grad_sums(const NormShape& s, const T* x, const ChannelAffine<T>& affine, const T* dy,
                     int64_t c, double mean, double& sum_dy, double& sum_dy_xmu) {
  double a[kLanes] = {}, b[kLanes] = {};
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* xp = x + plane(s, n, c);
    const T* gp = dy + plane(s, n, c);
    int64_t i = 0;
    for (; i + kLanes <= s.spatial; i += kLanes) {
      // The gate first, into a lane buffer in T: with the select and the double sums in one
      // loop GCC left the loop scalar (perf: the sums then cost more than the fusion saved).
      T gated[kLanes];
#pragma omp simd
      for (int l = 0; l < kLanes; ++l)
        gated[l] = Act::gate(affine.normalised(xp[i + l]), gp[i + l]);
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) {
        const double g = gated[l];
        a[l] += g;
        b[l] += g * (static_cast<double>(xp[i + l]) - mean);
      }
    }
    const int rest = static_cast<int>(s.spatial - i);  // the tail, as above
    if (rest == 0) continue;
    T gated[kLanes];
#pragma omp simd
    for (int l = 0; l < rest; ++l) gated[l] = Act::gate(affine.normalised(xp[i + l]), gp[i + l]);
    for (int l = 0; l < rest; ++l) {
      const double g = gated[l];
      a[l] += g;
      b[l] += g * (static_cast<double>(xp[i + l]) - mean);
    }
  }
  sum_dy = combine_lanes(a);
  sum_dy_xmu = combine_lanes(b);
}

// The gated sums of the k channels from c0 walked image by image, each channel's lanes copied
// into locals for its plane (as batchnorm2d_channel::group_moments).
template <class Act, class T>
void group_gated_sums(const NormShape& s, const T* x, const T* dy, const T* save_mean,
                      const ChannelAffine<T>* affine, int64_t c0, int64_t k, double* sum_dy,
                      double* sum_dy_xmu) {
  LaneSums sums[kMaxGroupChannels];
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < k; ++c) {
      double a[kLanes], b[kLanes];
      std::copy_n(sums[c].first, kLanes, a);
      std::copy_n(sums[c].second, kLanes, b);
      add_gated_plane<Act>(x + plane(s, n, c0 + c), dy + plane(s, n, c0 + c), s.spatial,
                           affine[c], save_mean[c0 + c], a, b);
      std::copy_n(a, kLanes, sums[c].first);
      std::copy_n(b, kLanes, sums[c].second);
    }
  for (int64_t c = 0; c < k; ++c) {
    sum_dy[c] = combine_lanes(sums[c].first);
    sum_dy_xmu[c] = combine_lanes(sums[c].second);
  }
}

// One channel at a time over its N planes (one channel per group: planes under 1 KB), the
// lanes in registers across the planes.
// One plane of y: batchnorm2d_channel::channel_affine with the activation applied before the
// store.
template <class Act, class T>
PICONAS_BN_INLINE void write_y_plane(int64_t spatial, const T* xp, T* yp,
                                     const ChannelAffine<T> affine) {
#pragma omp simd
  for (int64_t i = 0; i < spatial; ++i) yp[i] = Act::apply(affine.normalised(xp[i]));
}

// One plane of dx, written fresh or added to what is there.
template <class Act, class T>
PICONAS_BN_INLINE void write_dx_plane(int64_t spatial, const T* xp, const T* gp, T* dp,
                                      const ChannelAffine<T> affine, const DxCoefficients<T> k,
                                      GradWrite dx_write) {
  if (dx_write == GradWrite::Overwrite) {
#pragma omp simd
    for (int64_t i = 0; i < spatial; ++i)
      dp[i] = T(0) + dx_value(k.a, Act::gate(affine.normalised(xp[i]), gp[i]), k.b, xp[i], k.mean,
                              k.d);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < spatial; ++i)
      dp[i] += dx_value(k.a, Act::gate(affine.normalised(xp[i]), gp[i]), k.b, xp[i], k.mean, k.d);
  }
}

template <class Act, class T>
void forward_channel_at_a_time(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                        T momentum, T* running_mean, T* running_var, T* y, T* save_mean,
                        T* save_invstd, T* save_affine) {
  parallel_for(0, s.channels, [&](int64_t c) {
    double mean, invstd;
    channel_train_statistics(s, x, c, eps, momentum, running_mean, running_var, save_mean,
                             save_invstd, mean, invstd);
    const ChannelAffine<T> affine = train_affine(gamma, beta, c, mean, invstd, save_affine);
    for (int64_t n = 0; n < s.batch; ++n)
      write_y_plane<Act>(s.spatial, x + plane(s, n, c), y + plane(s, n, c), affine);
  });
}

template <class Act, class T>
void backward_channel_at_a_time(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                         const T* save_invstd, const T* save_affine, const T* dy, T* dx,
                         GradWrite dx_write, T* dgamma, T* dbeta) {
  parallel_for(0, s.channels, [&](int64_t c) {
    double sum_dy, sum_dy_xmu;
    const ChannelAffine<T> affine = saved_affine(save_mean, save_affine, c);
    gated_grad_sums<Act>(s, x, affine, dy, c, save_mean[c], sum_dy, sum_dy_xmu);
    const DxCoefficients<T> k =
        finish_channel(s, gamma, save_mean, save_invstd, c, sum_dy, sum_dy_xmu, dgamma, dbeta);
    if (!dx) return;
    for (int64_t n = 0; n < s.batch; ++n)
      write_dx_plane<Act>(s.spatial, x + plane(s, n, c), dy + plane(s, n, c), dx + plane(s, n, c),
                          affine, k, dx_write);
  });
}

template <class T>
ChannelGroups by_channel_groups(const NormShape& s) {
  return channel_groups(s, sizeof(T), in_parallel_region() ? 1 : num_threads());
}

template <class Act, class T>
void forward_by_channel(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                        T momentum, T* running_mean, T* running_var, T* y, T* save_mean,
                        T* save_invstd, T* save_affine) {
  const ChannelGroups groups = by_channel_groups<T>(s);
  if (groups.size == 1)
    return forward_channel_at_a_time<Act>(s, x, gamma, beta, eps, momentum, running_mean,
                                          running_var, y, save_mean, save_invstd, save_affine);
  parallel_for(0, groups.count, [&](int64_t group) {
    const int64_t c0 = group * groups.size, k = std::min(groups.size, s.channels - c0);
    double mean[kMaxGroupChannels], var[kMaxGroupChannels];
    group_moments(s, x, c0, k, mean, var);
    ChannelAffine<T> affine[kMaxGroupChannels];
    for (int64_t c = 0; c < k; ++c) {
      const double invstd = store_train_statistics(s, c0 + c, mean[c], var[c], eps, momentum,
                                                   running_mean, running_var, save_mean,
                                                   save_invstd);
      affine[c] = train_affine(gamma, beta, c0 + c, mean[c], invstd, save_affine);
    }
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t c = 0; c < k; ++c)
        write_y_plane<Act>(s.spatial, x + plane(s, n, c0 + c), y + plane(s, n, c0 + c), affine[c]);
  });
}

template <class Act, class T>
void backward_by_channel(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                         const T* save_invstd, const T* save_affine, const T* dy, T* dx,
                         GradWrite dx_write, T* dgamma, T* dbeta) {
  const ChannelGroups groups = by_channel_groups<T>(s);
  if (groups.size == 1)
    return backward_channel_at_a_time<Act>(s, x, gamma, save_mean, save_invstd, save_affine, dy,
                                           dx, dx_write, dgamma, dbeta);
  parallel_for(0, groups.count, [&](int64_t group) {
    const int64_t c0 = group * groups.size, k = std::min(groups.size, s.channels - c0);
    ChannelAffine<T> affine[kMaxGroupChannels];
    for (int64_t c = 0; c < k; ++c) affine[c] = saved_affine(save_mean, save_affine, c0 + c);
    double sum_dy[kMaxGroupChannels], sum_dy_xmu[kMaxGroupChannels];
    group_gated_sums<Act>(s, x, dy, save_mean, affine, c0, k, sum_dy, sum_dy_xmu);
    DxCoefficients<T> co[kMaxGroupChannels];
    for (int64_t c = 0; c < k; ++c)
      co[c] = finish_channel(s, gamma, save_mean, save_invstd, c0 + c, sum_dy[c], sum_dy_xmu[c],
                             dgamma, dbeta);
    if (!dx) return;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t c = 0; c < k; ++c)
        write_dx_plane<Act>(s.spatial, x + plane(s, n, c0 + c), dy + plane(s, n, c0 + c),
                            dx + plane(s, n, c0 + c), affine[c], co[c], dx_write);
  });
}

// ---- ChannelBlocks: small planes (ops/batchnorm2d_act_blocks.h); the flat passes here.
static_assert(kChannelBlocksMaxSpatial <= kLanes, "channel blocks need one lane per value");

template <class Act, class T>
void forward_blocks(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                    T momentum, T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                    T* save_affine) {
  const int64_t K = block_channels(s), S = s.spatial;
  parallel_for(0, (s.channels + K - 1) / K, [&](int64_t block) {
    const int64_t c0 = block * K, k = std::min(K, s.channels - c0), len = k * S;
    double mean[kBlockValues], var[kBlockValues];
    block_moments(s, x, c0, k, mean, var);
    BlockAffine<T> af;
    for (int64_t c = 0; c < k; ++c) {
      const double invstd =
          store_train_statistics(s, c0 + c, mean[c], var[c], eps, momentum, running_mean,
                                 running_var, save_mean, save_invstd);
      af.set(c * S, S, train_affine(gamma, beta, c0 + c, mean[c], invstd, save_affine));
    }
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c0);
      T* yp = y + plane(s, n, c0);
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) yp[j] = Act::apply(af.normalised(j, xp[j]));
    }
  });
}

template <class Act, class T>
void backward_blocks(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                     const T* save_invstd, const T* save_affine, const T* dy, T* dx,
                     GradWrite dx_write, T* dgamma, T* dbeta) {
  const int64_t K = block_channels(s), S = s.spatial;
  parallel_for(0, (s.channels + K - 1) / K, [&](int64_t block) {
    const int64_t c0 = block * K, k = std::min(K, s.channels - c0), len = k * S;
    BlockAffine<T> af;
    for (int64_t c = 0; c < k; ++c) af.set(c * S, S, saved_affine(save_mean, save_affine, c0 + c));
    double sum_dy[kBlockValues], sum_dy_xmu[kBlockValues];
    block_grad_sums<Act>(s, x, dy, save_mean, af, c0, k, sum_dy, sum_dy_xmu);
    alignas(64) T ka[kBlockValues], kb[kBlockValues], kd[kBlockValues], km[kBlockValues];
    for (int64_t c = 0; c < k; ++c) {
      const DxCoefficients<T> co = finish_channel(s, gamma, save_mean, save_invstd, c0 + c,
                                                  sum_dy[c], sum_dy_xmu[c], dgamma, dbeta);
      std::fill_n(ka + c * S, S, co.a);
      std::fill_n(kb + c * S, S, co.b);
      std::fill_n(kd + c * S, S, co.d);
      std::fill_n(km + c * S, S, co.mean);
    }
    if (!dx) return;
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c0);
      const T* gp = dy + plane(s, n, c0);
      T* dp = dx + plane(s, n, c0);
      if (dx_write == GradWrite::Overwrite) {
#pragma omp simd
        for (int64_t j = 0; j < len; ++j)
          dp[j] = T(0) + dx_value(ka[j], Act::gate(af.normalised(j, xp[j]), gp[j]), kb[j], xp[j],
                                  km[j], kd[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < len; ++j)
          dp[j] += dx_value(ka[j], Act::gate(af.normalised(j, xp[j]), gp[j]), kb[j], xp[j], km[j],
                            kd[j]);
      }
    }
  });
}

// Calls f(Act{}) for the activation.
template <class F>
void dispatch_activation(NormActivation act, F&& f) {
  switch (act) {
    case NormActivation::Identity:
      return f(Identity{});
    case NormActivation::ReLU:
      return f(Relu{});
    case NormActivation::ReLU6:
      return f(Relu6{});
  }
  throw Error("batchnorm2d_act: unknown activation " + std::to_string(static_cast<int>(act)));
}

NormKernel resolve(const NormShape& s, NormKernel kernel) {
  if (kernel == NormKernel::Auto) return norm_kernel_for(s);
  PICONAS_CHECK(kernel != NormKernel::ChannelBlocks || s.spatial <= kChannelBlocksMaxSpatial,
                "batchnorm2d_act: channel blocks take planes of at most "
                    << kChannelBlocksMaxSpatial << " values, got spatial " << s.spatial);
  return kernel;
}

}  // namespace

const char* norm_kernel_name(NormKernel kernel) {
  switch (kernel) {
    case NormKernel::Auto:
      return "auto";
    case NormKernel::ByChannel:
      return "by_channel";
    case NormKernel::ChannelBlocks:
      return "channel_blocks";
  }
  return "unknown";
}

NormKernel norm_kernel_for(const NormShape& s) {
  return s.spatial <= kChannelBlocksMaxSpatial ? NormKernel::ChannelBlocks : NormKernel::ByChannel;
}

template <class T>
void batchnorm2d_act_forward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T* running_mean, T* running_var,
                             T* y, T* save_mean, T* save_invstd, T* save_affine,
                             NormKernel kernel) {
  PICONAS_CHECK(s.batch * s.spatial > 1,
                "batchnorm2d_act: training needs more than one value per channel, got batch "
                    << s.batch << " x spatial " << s.spatial);
  const bool blocks = resolve(s, kernel) == NormKernel::ChannelBlocks;
  dispatch_activation(act, [&](auto activation) {
    using Act = decltype(activation);
    if (blocks)
      forward_blocks<Act>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y, save_mean,
                          save_invstd, save_affine);
    else
      forward_by_channel<Act>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                              save_mean, save_invstd, save_affine);
  });
}

template <class T>
void batchnorm2d_act_backward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                              const T* save_mean, const T* save_invstd, const T* save_affine,
                              const T* dy, T* dx, GradWrite dx_write, T* dgamma, T* dbeta,
                              NormKernel kernel) {
  const bool blocks = resolve(s, kernel) == NormKernel::ChannelBlocks;
  dispatch_activation(act, [&](auto activation) {
    using Act = decltype(activation);
    if (blocks)
      backward_blocks<Act>(s, x, gamma, save_mean, save_invstd, save_affine, dy, dx, dx_write,
                           dgamma, dbeta);
    else
      backward_by_channel<Act>(s, x, gamma, save_mean, save_invstd, save_affine, dy, dx, dx_write,
                               dgamma, dbeta);
  });
}

#define PICONAS_INSTANTIATE_BATCHNORM2D_ACT(T)                                                     \
  template void batchnorm2d_act_forward<T>(const NormShape&, NormActivation, const T*, const T*,   \
                                           const T*, T, T, T*, T*, T*, T*, T*, T*, NormKernel);    \
  template void batchnorm2d_act_backward<T>(const NormShape&, NormActivation, const T*, const T*,  \
                                            const T*, const T*, const T*, const T*, T*, GradWrite, \
                                            T*, T*, NormKernel);
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(float)
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(double)
#undef PICONAS_INSTANTIATE_BATCHNORM2D_ACT

}  // namespace piconas::ops
