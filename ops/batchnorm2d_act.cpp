#include "ops/batchnorm2d_act.h"

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

// The activations exactly as ops/relu.cpp and ops/relu6.cpp compute them. apply(z) is the
// forward of the normalised value z; gate(y, dy) is the gradient that reaches z, read from the
// output y, and computed as the unfused relu*_backward leaves it in its zero-filled gradient
// buffer: 0 + (passes ? dy : 0) (the "+ 0" turns a -0 into +0, as that buffer does).
struct Identity {
  template <class T>
  static T apply(T z) {
    return z;
  }
  template <class T>
  static T gate(T /*y*/, T dy) {
    return dy;
  }
};

struct Relu {
  template <class T>
  static T apply(T z) {
    return z > T(0) ? z : T(0);
  }
  template <class T>
  static T gate(T y, T dy) {
    return T(0) + (y > T(0) ? dy : T(0));
  }
};

struct Relu6 {
  template <class T>
  static T apply(T z) {
    const T v = z > T(0) ? z : T(0);
    return v < T(6) ? v : T(6);
  }
  template <class T>
  static T gate(T y, T dy) {
    return T(0) + ((y > T(0)) & (y < T(6)) ? dy : T(0));
  }
};

// Sums over channel c of g = Act::gate(y, dy) and g * (x - mean), in double over kLanes lane
// partials combined in a fixed order (the loop of batchnorm2d_channel::channel_grad_sums with
// the gate in front).
template <class Act, class T>
void gated_grad_sums(const NormShape& s, const T* x, const T* y, const T* dy, int64_t c,
                     double mean, double& sum_dy, double& sum_dy_xmu) {
  double a[kLanes] = {}, b[kLanes] = {};
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* xp = x + plane(s, n, c);
    const T* yp = y + plane(s, n, c);
    const T* gp = dy + plane(s, n, c);
    int64_t i = 0;
    for (; i + kLanes <= s.spatial; i += kLanes) {
      // The gate first, into a lane buffer in T: with the select and the double sums in one
      // loop GCC left the loop scalar (perf: the sums then cost more than the fusion saved).
      T gated[kLanes];
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) gated[l] = Act::gate(yp[i + l], gp[i + l]);
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
    for (int l = 0; l < rest; ++l) gated[l] = Act::gate(yp[i + l], gp[i + l]);
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
                 T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd) {
  parallel_for(0, s.channels, [&](int64_t c) {
    double mean, invstd;
    channel_train_statistics(s, x, c, eps, momentum, running_mean, running_var, save_mean,
                             save_invstd, mean, invstd);
    // batchnorm2d_channel::channel_affine with the activation applied before the store.
    const double scale_d = gamma[c] * invstd;
    const T scale = static_cast<T>(scale_d), shift = beta[c];
    const T mean_hi = static_cast<T>(mean);
    const T mean_lo = static_cast<T>(mean - static_cast<double>(mean_hi));
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c);
      T* yp = y + plane(s, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.spatial; ++i)
        yp[i] = Act::apply(((xp[i] - mean_hi) - mean_lo) * scale + shift);
    }
  });
}

// dx as batchnorm2d_backward_train computes it, from the gated gradient (see there for the
// formula). Overwrite stores 0 + v, the value accumulating v into a zeroed buffer gives.
template <class Act, class T>
void backward_act(const NormShape& s, const T* x, const T* y, const T* gamma, const T* save_mean,
                  const T* save_invstd, const T* dy, T* dx, GradWrite dx_write, T* dgamma,
                  T* dbeta) {
  const double count = static_cast<double>(s.batch * s.spatial);
  parallel_for(0, s.channels, [&](int64_t c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy, sum_dy_xmu;
    gated_grad_sums<Act>(s, x, y, dy, c, mean, sum_dy, sum_dy_xmu);
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
      const T* yp = y + plane(s, n, c);
      const T* gp = dy + plane(s, n, c);
      T* dp = dx + plane(s, n, c);
      if (dx_write == GradWrite::Overwrite) {
#pragma omp simd
        for (int64_t i = 0; i < s.spatial; ++i)
          dp[i] = T(0) + (a * Act::gate(yp[i], gp[i]) + b * (xp[i] - mean_t) + d);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < s.spatial; ++i)
          dp[i] += a * Act::gate(yp[i], gp[i]) + b * (xp[i] - mean_t) + d;
      }
    }
  });
}

}  // namespace

template <class T>
void batchnorm2d_act_forward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T* running_mean, T* running_var,
                             T* y, T* save_mean, T* save_invstd) {
  PICONAS_CHECK(s.batch * s.spatial > 1,
                "batchnorm2d_act: training needs more than one value per channel, got batch "
                    << s.batch << " x spatial " << s.spatial);
  switch (act) {
    case NormActivation::Identity:
      return forward_act<Identity>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                                   save_mean, save_invstd);
    case NormActivation::ReLU:
      return forward_act<Relu>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                               save_mean, save_invstd);
    case NormActivation::ReLU6:
      return forward_act<Relu6>(s, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                                save_mean, save_invstd);
  }
  throw Error("batchnorm2d_act_forward: unknown activation");
}

template <class T>
void batchnorm2d_act_backward(const NormShape& s, NormActivation act, const T* x, const T* y,
                              const T* gamma, const T* save_mean, const T* save_invstd, const T* dy,
                              T* dx, GradWrite dx_write, T* dgamma, T* dbeta) {
  switch (act) {
    case NormActivation::Identity:
      return backward_act<Identity>(s, x, y, gamma, save_mean, save_invstd, dy, dx, dx_write,
                                    dgamma, dbeta);
    case NormActivation::ReLU:
      return backward_act<Relu>(s, x, y, gamma, save_mean, save_invstd, dy, dx, dx_write, dgamma,
                                dbeta);
    case NormActivation::ReLU6:
      return backward_act<Relu6>(s, x, y, gamma, save_mean, save_invstd, dy, dx, dx_write, dgamma,
                                 dbeta);
  }
  throw Error("batchnorm2d_act_backward: unknown activation");
}

#define PICONAS_INSTANTIATE_BATCHNORM2D_ACT(T)                                                     \
  template void batchnorm2d_act_forward<T>(const NormShape&, NormActivation, const T*, const T*,   \
                                           const T*, T, T, T*, T*, T*, T*, T*);                    \
  template void batchnorm2d_act_backward<T>(const NormShape&, NormActivation, const T*, const T*,  \
                                            const T*, const T*, const T*, const T*, T*, GradWrite, \
                                            T*, T*);
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(float)
PICONAS_INSTANTIATE_BATCHNORM2D_ACT(double)
#undef PICONAS_INSTANTIATE_BATCHNORM2D_ACT

}  // namespace piconas::ops
