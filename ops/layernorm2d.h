// layernorm2d: LayerNorm over the channel dimension of NCHW (ConvNeXt's "channels_first" LN):
// for every (n, h, w), normalise the C values with their mean and biased variance, then
// y = gamma[c] * xhat + beta[c]. save_mean / save_invstd have N * H * W entries.
// Forward overwrites y; backward ACCUMULATES into dx, dgamma, dbeta (each may be null).
#pragma once

#include "ops/batchnorm2d.h"  // NormShape

namespace piconas::ops {

template <class T>
void layernorm2d_forward(const NormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                         T* y, T* save_mean, T* save_invstd);
template <class T>
void layernorm2d_backward(const NormShape& s, const T* x, const T* gamma, const T* save_mean,
                          const T* save_invstd, const T* dy, T* dx, T* dgamma, T* dbeta);

}  // namespace piconas::ops
