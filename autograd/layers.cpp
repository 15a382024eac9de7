#include "autograd/layers.h"

namespace piconas::autograd {

Conv2d::Conv2d(const Conv2dOptions& o) : options_(o) {
  if (options_.kernel_w == 0) options_.kernel_w = o.kernel;
  if (options_.stride_w == 0) options_.stride_w = o.stride;
  PICONAS_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel > 0 && options_.kernel_w > 0 &&
                    options_.stride_w > 0 && o.groups > 0 && o.in_channels % o.groups == 0 &&
                    o.out_channels % o.groups == 0,
                "Conv2d: invalid options in=" << o.in_channels << " out=" << o.out_channels
                                              << " kernel=" << o.kernel << "x" << options_.kernel_w
                                              << " stride_w=" << options_.stride_w
                                              << " groups=" << o.groups);
  weight = register_parameter(
      "weight", Tensor({o.out_channels, o.in_channels / o.groups, o.kernel, options_.kernel_w}));
  if (o.bias) bias = register_parameter("bias", Tensor({o.out_channels}));
}

ops::Conv2dParams Conv2d::params() const {
  ops::Conv2dParams p;
  p.stride_h = options_.stride;
  p.stride_w = options_.stride_w;
  if (options_.padding >= 0) {
    p.pad_h = options_.padding;
    p.pad_w = options_.padding_w >= 0 ? options_.padding_w : options_.padding;
    p.pad_h_end = options_.padding_h_end >= 0 ? options_.padding_h_end : p.pad_h;
    p.pad_w_end = options_.padding_w_end >= 0 ? options_.padding_w_end : p.pad_w;
  } else {  // "same"
    const int64_t total_h = options_.dilation * (options_.kernel - 1);
    const int64_t total_w = options_.dilation * (options_.kernel_w - 1);
    p.pad_h = total_h / 2;
    p.pad_w = total_w / 2;
    p.pad_h_end = total_h - p.pad_h;
    p.pad_w_end = total_w - p.pad_w;
  }
  p.dilation_h = p.dilation_w = options_.dilation;
  p.groups = options_.groups;
  return p;
}

Variable Conv2d::forward(const Variable& x) { return conv2d(x, weight, bias, params()); }

void Conv2d::reset_parameters(Rng& rng) {
  kaiming_normal(weight.value(), rng, FanMode::FanOut);
  if (bias.defined()) bias.value().fill(0.0);
}

Linear::Linear(int64_t in_features, int64_t out_features, bool has_bias) {
  PICONAS_CHECK(in_features > 0 && out_features > 0,
                "Linear: invalid sizes in=" << in_features << " out=" << out_features);
  weight = register_parameter("weight", Tensor({out_features, in_features}));
  if (has_bias) bias = register_parameter("bias", Tensor({out_features}));
}

Variable Linear::forward(const Variable& x) {
  if (x.value().ndim() == 4 && x.shape()[2] == 1 && x.shape()[3] == 1)
    return linear(reshape(x, {x.shape()[0], x.shape()[1]}), weight, bias);
  return linear(x, weight, bias);
}

void Linear::reset_parameters(Rng& rng) {
  kaiming_normal(weight.value(), rng, FanMode::FanOut);
  if (bias.defined()) bias.value().fill(0.0);
}

BatchNorm2d::BatchNorm2d(int64_t channels, double momentum, double eps) {
  PICONAS_CHECK(channels > 0, "BatchNorm2d: invalid channel count " << channels);
  gamma = register_parameter("weight", Tensor::full({channels}, 1.0));
  beta = register_parameter("bias", Tensor({channels}));
  state.running_mean = Tensor({channels});
  state.running_var = Tensor::full({channels}, 1.0);
  state.momentum = momentum;
  state.eps = eps;
  register_buffer("running_mean", &state.running_mean);
  register_buffer("running_var", &state.running_var);
}

Variable BatchNorm2d::forward(const Variable& x) {
  return batchnorm2d_act(x, gamma, beta, state, training(), activation);
}

void BatchNorm2d::reset_parameters(Rng&) {
  gamma.value().fill(1.0);
  beta.value().fill(0.0);
  state.running_mean.fill(0.0);
  state.running_var.fill(1.0);
}

LayerNorm2d::LayerNorm2d(int64_t channels, double eps_) : eps(eps_) {
  PICONAS_CHECK(channels > 0, "LayerNorm2d: invalid channel count " << channels);
  gamma = register_parameter("weight", Tensor::full({channels}, 1.0));
  beta = register_parameter("bias", Tensor({channels}));
}

Variable LayerNorm2d::forward(const Variable& x) {
  return muted ? x : layernorm2d(x, gamma, beta, eps);
}

void LayerNorm2d::reset_parameters(Rng&) {
  gamma.value().fill(1.0);
  beta.value().fill(0.0);
}

const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::ReLU: return "relu";
    case ActivationKind::ReLU6: return "relu6";
    case ActivationKind::GELU: return "gelu";
    case ActivationKind::Hardswish: return "hardswish";
    case ActivationKind::Sigmoid: return "sigmoid";
    case ActivationKind::Hardsigmoid: return "hardsigmoid";
  }
  return "unknown";
}

Variable Activation::forward(const Variable& x) {
  if (applied_by_batchnorm) return x;
  switch (activation_) {
    case ActivationKind::ReLU: return relu(x);
    case ActivationKind::ReLU6: return relu6(x);
    case ActivationKind::GELU: return gelu(x);
    case ActivationKind::Hardswish: return hardswish(x);
    case ActivationKind::Sigmoid: return sigmoid(x);
    case ActivationKind::Hardsigmoid: return hardsigmoid(x);
  }
  throw Error("Activation: unknown kind");
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (auto& [name, child] : children()) y = (*child)(y);
  return y;
}

Variable Residual::forward(const Variable& x) { return add(x, (*body_)(x)); }

}  // namespace piconas::autograd
