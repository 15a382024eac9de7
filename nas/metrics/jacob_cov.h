// Jacobian covariance (Mellor et al., NASWOT v1): how differently the network responds to the
// samples of a batch.
// J = d(sum over batch and classes of the outputs)/d(input), in train mode (samples interact
// through BatchNorm batch statistics); row n = flattened input gradient of sample n.
// C = Pearson correlation matrix of the rows (N x N, float64), v = its eigenvalues (Jacobi,
// linalg.h), score = -sum_i [ln(v_i + 1e-5) + 1 / (v_i + 1e-5)], always <= -N.
// A constant row (zero variance) makes the correlation undefined: the score is NaN.
#pragma once
#include "autograd/module.h"

namespace piconas::nas::metrics {

// rows [N, ...] float32 or float64; each sample's trailing dimensions are flattened.
double jacob_cov_from_rows(const Tensor& rows);

// Train-mode forward and one backward of net on images [N, C, H, W]; parameter gradients are
// not computed (and left untouched). Leaves the net in train mode.
double jacob_cov(autograd::Module& net, const Tensor& images);

}  // namespace piconas::nas::metrics
