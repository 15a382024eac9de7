#include "ops/batchnorm2d_act.h"

#include <bit>
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "core/parallel.h"
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

// The normalisation of one channel as batchnorm2d_channel::channel_affine computes it: the
// forward applies it, the backward recomputes it (the same float operations, so the same
// bits) for the activation's derivative instead of reading the output back.
template <class T>
struct ChannelAffine {
  T mean_hi, mean_lo, scale, shift;
  T normalised(T x) const { return ((x - mean_hi) - mean_lo) * scale + shift; }
};

// save_affine holds mean_lo, scale, shift per channel; mean_hi is save_mean.
template <class T>
ChannelAffine<T> saved_affine(const T* save_mean, const T* save_affine, int64_t c) {
  return {save_mean[c], save_affine[3 * c], save_affine[3 * c + 1], save_affine[3 * c + 2]};
}

// Sums over channel c of g = Act::gate(z, dy) and g * (x - mean), in double over kLanes lane
// partials combined in a fixed order (the loop of batchnorm2d_channel::channel_grad_sums with
// the gate in front).
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

template <class Act, class T>
void forward_act(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps, T momentum,
                 T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                 T* save_affine) {
  parallel_for(0, s.channels, [&](int64_t c) {
    double mean, invstd;
    channel_train_statistics(s, x, c, eps, momentum, running_mean, running_var, save_mean,
                             save_invstd, mean, invstd);
    // batchnorm2d_channel::channel_affine with the activation applied before the store.
    const double scale_d = gamma[c] * invstd;
    const T scale = static_cast<T>(scale_d), shift = beta[c];
    const T mean_hi = static_cast<T>(mean);
    const T mean_lo = static_cast<T>(mean - static_cast<double>(mean_hi));
    const ChannelAffine<T> affine{mean_hi, mean_lo, scale, shift};
    save_affine[3 * c] = mean_lo;
    save_affine[3 * c + 1] = scale;
    save_affine[3 * c + 2] = shift;
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c);
      T* yp = y + plane(s, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.spatial; ++i) yp[i] = Act::apply(affine.normalised(xp[i]));
    }
  });
}

// dx as batchnorm2d_backward_train computes it, from the gated gradient (see there for the
// formula). Overwrite stores 0 + v, the value accumulating v into a zeroed buffer gives.
template <class Act, class T>
void backward_act(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                  const T* save_invstd, const T* save_affine, const T* dy, T* dx,
                  GradWrite dx_write, T* dgamma, T* dbeta) {
  const double count = static_cast<double>(s.batch * s.spatial);
  parallel_for(0, s.channels, [&](int64_t c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy, sum_dy_xmu;
    const ChannelAffine<T> affine = saved_affine(save_mean, save_affine, c);
    gated_grad_sums<Act>(s, x, affine, dy, c, mean, sum_dy, sum_dy_xmu);
    const double sum_dy_xhat = sum_dy_xmu * invstd;
    if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
    if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
    if (!dx) return;
    const double k = gamma[c] * invstd;
    const double proj = sum_dy_xhat * invstd / count;
    const T a = static_cast<T>(k), b = static_cast<T>(-k * proj);
    const T d = static_cast<T>(-k * sum_dy / count), mean_t = save_mean[c];
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c);
      const T* gp = dy + plane(s, n, c);
      T* dp = dx + plane(s, n, c);
      if (dx_write == GradWrite::Overwrite) {
#pragma omp simd
        for (int64_t i = 0; i < s.spatial; ++i)
          dp[i] =
              T(0) + (a * Act::gate(affine.normalised(xp[i]), gp[i]) + b * (xp[i] - mean_t) + d);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < s.spatial; ++i)
          dp[i] += a * Act::gate(affine.normalised(xp[i]), gp[i]) + b * (xp[i] - mean_t) + d;
      }
    }
  });
}

}  // namespace

template <class T>
void batchnorm2d_act_forward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T* running_mean, T* running_var,
                             T* y, T* save_mean, T* save_invstd, T* save_affine) {
  PICONAS_CHECK(s.batch * s.spatial > 1,
                "batchnorm2d_act: training needs more than one value per channel, got batch "
                    << s.batch << " x spatial " << s.spatial);
  switch (act) {
    case NormActivation::Identity:
      return forward_act<Identity>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                                   save_mean, save_invstd, save_affine);
    case NormActivation::ReLU:
      return forward_act<Relu>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                               save_mean, save_invstd, save_affine);
    case NormActivation::ReLU6:
      return forward_act<Relu6>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                                save_mean, save_invstd, save_affine);
  }
  throw Error("batchnorm2d_act_forward: unknown activation");
}

template <class T>
void batchnorm2d_act_backward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                              const T* save_mean, const T* save_invstd, const T* save_affine,
                              const T* dy, T* dx, GradWrite dx_write, T* dgamma, T* dbeta) {
  switch (act) {
    case NormActivation::Identity:
      return backward_act<Identity>(s, x, gamma, save_mean, save_invstd, save_affine, dy, dx,
                                    dx_write, dgamma, dbeta);
    case NormActivation::ReLU:
      return backward_act<Relu>(s, x, gamma, save_mean, save_invstd, save_affine, dy, dx, dx_write,
                                dgamma, dbeta);
    case NormActivation::ReLU6:
      return backward_act<Relu6>(s, x, gamma, save_mean, save_invstd, save_affine, dy, dx, dx_write,
                                 dgamma, dbeta);
  }
  throw Error("batchnorm2d_act_backward: unknown activation");
}

#define PICONAS_INSTANTIATE_BATCHNORM2D_ACT(T)                                                     \
  template void batchnorm2d_act_forward<T>(const NormShape&, NormActivation, const T*, const T*,   \
                                           const T*, T, T, T*, T*, T*, T*, T*, T*);                \
  template void batchnorm2d_act_backward<T>(const NormShape&, NormActivation, const T*, const T*,  \
                                            const T*, const T*, const T*, const T*, T*, GradWrite, \
                                            T*, T*);
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(float)
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(double)
#undef PICONAS_INSTANTIATE_BATCHNORM2D_ACT

}  // namespace piconas::ops
