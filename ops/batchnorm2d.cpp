#include "ops/batchnorm2d.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace piconas::ops {

namespace {

// Offset of plane (n, c) in NCHW.
inline int64_t plane(const NormShape& s, int64_t n, int64_t c) {
  return (n * s.channels + c) * s.spatial;
}

// The per-plane loops below accumulate in double over SIMD lanes (`omp simd reduction`): the
// lane partials are combined in a fixed order, so results do not depend on the thread count,
// and they run at vector speed instead of one dependent scalar add per element.

// Mean and biased variance of channel c in one pass over shifted data: with a shift K taken
// from the channel itself, sums of (x - K) and (x - K)^2 in double keep the variance accurate
// even when |mean| >> std (the unshifted E[x^2] - E[x]^2 would cancel); for float inputs
// x - K is exact in double.
template <class T>
void channel_moments(const NormShape& s, const T* x, int64_t c, double& mean, double& var) {
  const double shift = x[plane(s, 0, c)];
  double s1 = 0.0, s2 = 0.0;
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* p = x + plane(s, n, c);
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t i = 0; i < s.spatial; ++i) {
      const double d = static_cast<double>(p[i]) - shift;
      s1 += d;
      s2 += d * d;
    }
  }
  const double count = static_cast<double>(s.batch * s.spatial);
  const double mean_shifted = s1 / count;
  mean = shift + mean_shifted;
  var = std::max(0.0, s2 / count - mean_shifted * mean_shifted);
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

// sum dy and sum dy * (x - mean) over channel c, in double.
template <class T>
void channel_grad_sums(const NormShape& s, const T* x, const T* dy, int64_t c, double mean,
                       double& sum_dy, double& sum_dy_xmu) {
  double a = 0.0, b = 0.0;
  for (int64_t n = 0; n < s.batch; ++n) {
    const T* xp = x + plane(s, n, c);
    const T* gp = dy + plane(s, n, c);
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < s.spatial; ++i) {
      const double g = gp[i];
      a += g;
      b += g * (static_cast<double>(xp[i]) - mean);
    }
  }
  sum_dy = a;
  sum_dy_xmu = b;
}

}  // namespace

template <class T>
void batchnorm2d_forward_train(const NormShape& s, const T* x, const T* gamma, const T* beta,
                               T eps, T momentum, T* running_mean, T* running_var, T* y,
                               T* save_mean, T* save_invstd) {
  const int64_t count = s.batch * s.spatial;
  PICONAS_CHECK(count > 1, "batchnorm2d: training needs more than one value per channel, got "
                               "batch " << s.batch << " x spatial " << s.spatial);
  parallel_for(0, s.channels, [&](int64_t c) {
    double mean, var;
    channel_moments(s, x, c, mean, var);
    double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    if (running_mean)
      running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
    if (running_var) {
      double unbiased = var * static_cast<double>(count) / static_cast<double>(count - 1);
      running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
    double scale = gamma[c] * invstd;
    channel_affine(s, x, c, mean, static_cast<T>(scale), beta[c], y);
  });
}

// With xhat = (x - mean) * invstd and M = N*H*W values per channel:
//   dbeta = sum dy,  dgamma = sum dy * xhat,
//   dx = gamma * invstd / M * (M * dy - sum dy - xhat * sum(dy * xhat)).
template <class T>
void batchnorm2d_backward_train(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                                const T* save_invstd, const T* dy, T* dx, T* dgamma, T* dbeta) {
  const double count = static_cast<double>(s.batch * s.spatial);
  parallel_for(0, s.channels, [&](int64_t c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy, sum_dy_xmu;
    channel_grad_sums(s, x, dy, c, mean, sum_dy, sum_dy_xmu);
    const double sum_dy_xhat = sum_dy_xmu * invstd;
    if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
    if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
    if (!dx) return;
    // dx = k * dy - k * proj * (x - mean) - k * mean(dy), per-channel constants folded once.
    const double k = gamma[c] * invstd;
    const double proj = sum_dy_xhat * invstd / count;
    const T a = static_cast<T>(k), b = static_cast<T>(-k * proj);
    const T d = static_cast<T>(-k * sum_dy / count), mean_t = save_mean[c];
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* xp = x + plane(s, n, c);
      const T* gp = dy + plane(s, n, c);
      T* dp = dx + plane(s, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.spatial; ++i) dp[i] += a * gp[i] + b * (xp[i] - mean_t) + d;
    }
  });
}

template <class T>
void batchnorm2d_forward_eval(const NormShape& s, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T eps, T* y) {
  parallel_for(0, s.channels, [&](int64_t c) {
    double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    double scale = gamma[c] * invstd;
    channel_affine(s, x, c, static_cast<double>(running_mean[c]), static_cast<T>(scale), beta[c], y);
  });
}

template <class T>
void batchnorm2d_backward_eval(const NormShape& s, const T* x, const T* gamma,
                               const T* running_mean, const T* running_var, T eps, const T* dy,
                               T* dx, T* dgamma, T* dbeta) {
  parallel_for(0, s.channels, [&](int64_t c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    if (dgamma || dbeta) {
      double sum_dy, sum_dy_xmu;
      channel_grad_sums(s, x, dy, c, static_cast<double>(running_mean[c]), sum_dy, sum_dy_xmu);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
      if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xmu * invstd);
    }
    if (!dx) return;
    const T k = static_cast<T>(gamma[c] * invstd);
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* gp = dy + plane(s, n, c);
      T* dp = dx + plane(s, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.spatial; ++i) dp[i] += k * gp[i];
    }
  });
}

#define PICONAS_INSTANTIATE_BATCHNORM2D(T)                                                     \
  template void batchnorm2d_forward_train<T>(const NormShape&, const T*, const T*, const T*, T, \
                                             T, T*, T*, T*, T*, T*);                           \
  template void batchnorm2d_backward_train<T>(const NormShape&, const T*, const T*, const T*,  \
                                              const T*, const T*, T*, T*, T*);                 \
  template void batchnorm2d_forward_eval<T>(const NormShape&, const T*, const T*, const T*,    \
                                            const T*, const T*, T, T*);                        \
  template void batchnorm2d_backward_eval<T>(const NormShape&, const T*, const T*, const T*,   \
                                             const T*, T, const T*, T*, T*, T*);
PICONAS_INSTANTIATE_BATCHNORM2D(float)
PICONAS_INSTANTIATE_BATCHNORM2D(double)
#undef PICONAS_INSTANTIATE_BATCHNORM2D

}  // namespace piconas::ops
