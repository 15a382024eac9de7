#include "ops/batchnorm2d.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/batchnorm2d_channel.h"

namespace piconas::ops {

using namespace batchnorm2d_channel;

template <class T>
void batchnorm2d_forward_train(const NormShape& s, const T* x, const T* gamma, const T* beta,
                               T eps, T momentum, T* running_mean, T* running_var, T* y,
                               T* save_mean, T* save_invstd) {
  const int64_t count = s.batch * s.spatial;
  PICONAS_CHECK(count > 1, "batchnorm2d: training needs more than one value per channel, got "
                               "batch " << s.batch << " x spatial " << s.spatial);
  parallel_for(0, s.channels, [&](int64_t c) {
    double mean, invstd;
    channel_train_statistics(s, x, c, eps, momentum, running_mean, running_var, save_mean,
                             save_invstd, mean, invstd);
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

template <class T>
void batchnorm2d_forward_train_sharded(const NormShape& s, const T* x, const T* gamma,
                                       const T* beta, T eps, T momentum, T* running_mean,
                                       T* running_var, T* y, T* save_mean, T* save_invstd,
                                       const ShardSum& shard_sum) {
  const int64_t channels = s.channels;
  // Pass 1: sums of x per channel and the value count, summed over the shards.
  std::vector<double> sums(static_cast<size_t>(channels) + 1, 0.0);
  parallel_for(0, channels, [&](int64_t c) {
    double total = 0.0;
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* p = x + plane(s, n, c);
      for (int64_t i = 0; i < s.spatial; ++i) total += static_cast<double>(p[i]);
    }
    sums[static_cast<size_t>(c)] = total;
  });
  sums.back() = static_cast<double>(s.batch * s.spatial);
  shard_sum(sums.data(), channels + 1);
  const double count = sums.back();
  PICONAS_CHECK(count > 1, "batchnorm2d: training needs more than one value per channel over the "
                           "shards, got " << count);
  // Pass 2: squared deviations from the global mean, summed over the shards.
  std::vector<double> squares(static_cast<size_t>(channels), 0.0);
  parallel_for(0, channels, [&](int64_t c) {
    const double mean = sums[static_cast<size_t>(c)] / count;
    double total = 0.0;
    for (int64_t n = 0; n < s.batch; ++n) {
      const T* p = x + plane(s, n, c);
      for (int64_t i = 0; i < s.spatial; ++i) {
        const double d = static_cast<double>(p[i]) - mean;
        total += d * d;
      }
    }
    squares[static_cast<size_t>(c)] = total;
  });
  shard_sum(squares.data(), channels);
  parallel_for(0, channels, [&](int64_t c) {
    const double mean = sums[static_cast<size_t>(c)] / count;
    const double var = squares[static_cast<size_t>(c)] / count;
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    if (running_mean)
      running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
    if (running_var)
      running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] +
                                      momentum * var * count / (count - 1));
    channel_affine(s, x, c, mean, static_cast<T>(gamma[c] * invstd), beta[c], y);
  });
}

template <class T>
void batchnorm2d_backward_train_sharded(const NormShape& s, const T* x, const T* gamma,
                                        const T* save_mean, const T* save_invstd, const T* dy,
                                        T* dx, T* dgamma, T* dbeta, const ShardSum& shard_sum) {
  const int64_t channels = s.channels;
  // Per channel: this shard's sum dy and sum dy * (x - mean); then the count.
  std::vector<double> local(2 * static_cast<size_t>(channels) + 1, 0.0);
  parallel_for(0, channels, [&](int64_t c) {
    channel_grad_sums(s, x, dy, c, static_cast<double>(save_mean[c]), local[2 * c],
                      local[2 * c + 1]);
  });
  local.back() = static_cast<double>(s.batch * s.spatial);
  std::vector<double> global = local;
  shard_sum(global.data(), 2 * channels + 1);
  const double count = global.back();
  parallel_for(0, channels, [&](int64_t c) {
    const double invstd = save_invstd[c];
    if (dbeta) dbeta[c] += static_cast<T>(local[2 * c]);
    if (dgamma) dgamma[c] += static_cast<T>(local[2 * c + 1] * invstd);
    if (!dx) return;
    const double sum_dy = global[2 * c], sum_dy_xhat = global[2 * c + 1] * invstd;
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

#define PICONAS_INSTANTIATE_BATCHNORM2D(T)                                                     \
  template void batchnorm2d_forward_train<T>(const NormShape&, const T*, const T*, const T*, T, \
                                             T, T*, T*, T*, T*, T*);                           \
  template void batchnorm2d_backward_train<T>(const NormShape&, const T*, const T*, const T*,  \
                                              const T*, const T*, T*, T*, T*);                 \
  template void batchnorm2d_forward_train_sharded<T>(const NormShape&, const T*, const T*,    \
                                                     const T*, T, T, T*, T*, T*, T*, T*,        \
                                                     const ShardSum&);                          \
  template void batchnorm2d_backward_train_sharded<T>(const NormShape&, const T*, const T*,   \
                                                      const T*, const T*, const T*, T*, T*, T*, \
                                                      const ShardSum&);                         \
  template void batchnorm2d_forward_eval<T>(const NormShape&, const T*, const T*, const T*,    \
                                            const T*, const T*, T, T*);                        \
  template void batchnorm2d_backward_eval<T>(const NormShape&, const T*, const T*, const T*,   \
                                             const T*, T, const T*, T*, T*, T*);
PICONAS_INSTANTIATE_BATCHNORM2D(float)
PICONAS_INSTANTIATE_BATCHNORM2D(double)
#undef PICONAS_INSTANTIATE_BATCHNORM2D

}  // namespace piconas::ops
