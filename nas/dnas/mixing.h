// Differentiable building blocks of the DNAS methods (SuperNet and PIT), as autograd functions.
//
//   mix_weights     theta = selection of a SuperNet from its architectural parameters alpha [n]:
//                   Softmax     theta = softmax(alpha / T)
//                   Gumbel      theta = softmax((alpha + g) / T), g_i = -log(-log(u_i)), u ~ U(0,1)
//                   HardGumbel  forward: one-hot of argmax of the Gumbel-softmax sample; backward:
//                               the gradient of the soft sample (straight-through estimator).
//                   Argmax      forward: one-hot of argmax alpha (deterministic; evaluation and
//                               export); backward: the gradient of softmax(alpha / T).
//   weighted_sum    y = sum_i theta_i * x_i over same-shaped branch outputs.
//   binarize_mask   PIT channel mask: forward b_c = [gamma_c >= 0.5] (the largest gamma is kept
//                   alive when none passes), backward db/dgamma = 1 (straight-through).
//   expand_mask     [C] -> [C * t], entry j * t + r = b_j (hidden channels of an expanded layer
//                   follow the input channel they come from).
//   channel_mask    y[n, c, ...] = x[n, c, ...] * b[c] for x [N, C] or [N, C, H, W].
//   icv             mean(theta) / (var(theta) + eps) (population variance): small when theta
//                   is polarised; added to the loss it pushes the choice towards one branch.
//   pick            element i of a vector, shape [1].
// All functions take float32 or float64 and accumulate gradients like every autograd function.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace piconas::nas::dnas {

enum class SelectionMode { Softmax, Gumbel, HardGumbel, Argmax };

// "softmax", "gumbel", "hard-gumbel", "argmax"; unknown names throw Error.
SelectionMode parse_selection_mode(const std::string& name);
const char* selection_mode_name(SelectionMode mode);

// rng is used (and required) for the Gumbel modes only.
autograd::Variable mix_weights(const autograd::Variable& alpha, SelectionMode mode,
                               double temperature, Rng* rng);

autograd::Variable weighted_sum(const autograd::Variable& theta,
                                const std::vector<autograd::Variable>& branches);

autograd::Variable binarize_mask(const autograd::Variable& gamma);
autograd::Variable expand_mask(const autograd::Variable& mask, int64_t factor);
autograd::Variable channel_mask(const autograd::Variable& x, const autograd::Variable& mask);

autograd::Variable icv(const autograd::Variable& theta, double eps = 1e-3);
autograd::Variable pick(const autograd::Variable& v, int64_t index);

// Softmax of alpha / T as plain numbers (reporting).
std::vector<double> softmax_values(const Tensor& alpha, double temperature);

}  // namespace piconas::nas::dnas
