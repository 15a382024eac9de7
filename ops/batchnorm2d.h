// batchnorm2d over NCHW: per channel c, statistics over (n, h, w).
// Train: mean and biased variance of the batch normalise x; the running statistics are updated
//   as running = (1 - momentum) * running + momentum * batch, with the UNBIASED variance
//   (PyTorch convention); save_mean / save_invstd (size C) keep what backward needs.
// Eval: running statistics normalise x (an affine map; backward is the affine map's).
// gamma, beta may not be null. Forward overwrites y; backward ACCUMULATES into dx, dgamma, dbeta
// (each may be null). In train mode gradients flow through the batch statistics.
//
// Sharded (data-parallel, docs/distributed.md): each shard of a global batch (an MPI rank) holds
// some of its images; shard_sum(data, n) must replace data[0..n) by its sum over the shards, the
// same on every shard (Communicator::allreduce_sum). The statistics are those of the global
// batch (two passes: the mean from the summed sums of x, then the variance from the summed
// squared deviations), so every shard's y equals the whole batch's y within rounding. Backward
// computes dx with the global sums of dy and dy * (x - mean), but accumulates only this shard's
// part of dgamma and dbeta: summing the parameter gradients over the shards (as for every other
// parameter) gives the global ones. The upstream gradient dy must be that of the global loss.
#pragma once
#include <cstdint>
#include <functional>

namespace piconas::ops {

struct NormShape {
  int64_t batch, channels, spatial;  // spatial = H * W
};

template <class T>
void batchnorm2d_forward_train(const NormShape& s, const T* x, const T* gamma, const T* beta,
                               T eps, T momentum, T* running_mean, T* running_var, T* y,
                               T* save_mean, T* save_invstd);
template <class T>
void batchnorm2d_backward_train(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                                const T* save_invstd, const T* dy, T* dx, T* dgamma, T* dbeta);
using ShardSum = std::function<void(double* data, int64_t count)>;
template <class T>
void batchnorm2d_forward_train_sharded(const NormShape& s, const T* x, const T* gamma,
                                       const T* beta, T eps, T momentum, T* running_mean,
                                       T* running_var, T* y, T* save_mean, T* save_invstd,
                                       const ShardSum& shard_sum);
template <class T>
void batchnorm2d_backward_train_sharded(const NormShape& s, const T* x, const T* gamma,
                                        const T* save_mean, const T* save_invstd, const T* dy,
                                        T* dx, T* dgamma, T* dbeta, const ShardSum& shard_sum);
template <class T>
void batchnorm2d_forward_eval(const NormShape& s, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T eps, T* y);
template <class T>
void batchnorm2d_backward_eval(const NormShape& s, const T* x, const T* gamma,
                               const T* running_mean, const T* running_var, T eps, const T* dy,
                               T* dx, T* dgamma, T* dbeta);

}  // namespace piconas::ops
