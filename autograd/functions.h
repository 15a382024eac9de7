// Differentiable functions on Variables: thin wrappers that validate shapes once, call the
// kernels of ops/, save what backward needs and record the backward closure.
// Every function works in float32 and float64 (inputs must share one dtype).
// One wrapper per entry of ops/op_list.def, plus the shape helpers sum, reshape and scale.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"
#include "ops/batchnorm2d.h"
#include "ops/batchnorm2d_act.h"
#include "ops/conv2d.h"
#include "ops/pool2d.h"

namespace piconas::autograd {

// x [N,C,H,W], weight [O, C/groups, KH, KW], bias [O] or undefined. Depthwise shapes go to the
// depthwise kernels through the conv algorithm selector.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                const ops::Conv2dParams& params);
// Forces the depthwise kernels (weight [C, 1, KH, KW]); errors on any other shape.
Variable depthwise_conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                          const ops::Conv2dParams& params);
// x [N, in], weight [out, in], bias [out] or undefined.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);

struct BatchNormState {
  Tensor running_mean, running_var;  // [C], updated in place in training mode
  double momentum = 0.1;
  double eps = 1e-5;
  // Set during data-parallel training: training-mode statistics of the global batch over the
  // shards (ops/batchnorm2d.h, sharded); empty: the batch is whole.
  ops::ShardSum shard_sum;
};
Variable batchnorm2d(const Variable& x, const Variable& gamma, const Variable& beta,
                     BatchNormState& state, bool training);
// act(batchnorm2d(x)) for act identity, ReLU or ReLU6. In training mode on a whole batch it
// runs as one fused op (ops/batchnorm2d_act.h: no stored pre-activation, two passes forward and
// backward, the input gradient written without a zero fill) giving the same bits as the
// composition; in eval mode and with sharded statistics it is the composition.
Variable batchnorm2d_act(const Variable& x, const Variable& gamma, const Variable& beta,
                         BatchNormState& state, bool training, ops::NormActivation act);
Variable layernorm2d(const Variable& x, const Variable& gamma, const Variable& beta, double eps = 1e-6);

Variable relu(const Variable& x);
Variable relu6(const Variable& x);
Variable gelu(const Variable& x);
Variable hardswish(const Variable& x);
Variable sigmoid(const Variable& x);
Variable hardsigmoid(const Variable& x);

Variable avg_pool2d(const Variable& x, const ops::Pool2dParams& params);
Variable max_pool2d(const Variable& x, const ops::Pool2dParams& params);
Variable global_avg_pool(const Variable& x);  // [N,C,H,W] -> [N,C]

Variable add(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
// x [N, C, H, W] times one gate per image and channel, g [N, C] or [N, C, 1, 1] (the
// squeeze-and-excitation scale); the gradient reaches both.
Variable channel_mul(const Variable& x, const Variable& g);
// x [N, C, H, W] times one gate per image and pixel, g [N, 1, H, W], broadcast over the channels
// (spatial attention); the gradient reaches both.
Variable pixel_mul(const Variable& x, const Variable& g);

// Mean cross-entropy of logits [N, K] against labels (size N); result has shape [1].
Variable softmax_cross_entropy(const Variable& logits, const std::vector<int32_t>& labels,
                               double label_smoothing = 0.0);
// Inverted dropout; identity when !training or p == 0.
Variable dropout(const Variable& x, double p, Rng& rng, bool training);

Variable sum(const Variable& x);                    // all elements -> shape [1]
Variable scale(const Variable& x, double factor);   // factor * x
Variable reshape(const Variable& x, const Shape& shape);

}  // namespace piconas::autograd
