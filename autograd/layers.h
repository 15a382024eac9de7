// The standard layers as Modules. Weights are OIHW / [out, in] and start at zero until
// initialize(rng) draws them: Kaiming-normal (fan_out, ReLU gain) for conv and linear weights,
// zero biases, BatchNorm/LayerNorm gamma = 1 and beta = 0 (the metrics' convention).
#pragma once
#include <memory>

#include "autograd/functions.h"
#include "autograd/module.h"

namespace piconas::autograd {

struct Conv2dOptions {
  int64_t in_channels, out_channels, kernel;  // kernel: its height (and width unless kernel_w)
  int64_t stride = 1;                         // its height (and width unless stride_w)
  // -1: "same", per axis dilation * (kernel - 1) / 2 zeros before the image and the rest of
  // dilation * (kernel - 1) after it (more after for an even kernel, as TensorFlow and
  // PyTorch do), so the output is ceil(in / stride); >= 0: that many on every side.
  int64_t padding = -1;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = false;
  int64_t kernel_w = 0, stride_w = 0;  // a non-square kernel or stride; 0: kernel, stride
  // With padding >= 0, zeros per side where these are >= 0 (left, bottom, right; -1: padding):
  // a non-square or asymmetric padding (an imported ONNX conv).
  int64_t padding_w = -1, padding_h_end = -1, padding_w_end = -1;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& options);
  Variable forward(const Variable& x) override;
  const char* kind() const override { return "conv2d"; }
  const Conv2dOptions& options() const { return options_; }
  ops::Conv2dParams params() const;
  Variable weight, bias;  // bias undefined when options.bias is false

 protected:
  void reset_parameters(Rng& rng) override;

 private:
  Conv2dOptions options_;
};

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Variable forward(const Variable& x) override;  // x [N, in] (or [N, C, 1, 1], flattened)
  const char* kind() const override { return "linear"; }
  Variable weight, bias;

 protected:
  void reset_parameters(Rng& rng) override;
};

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Variable forward(const Variable& x) override;
  const char* kind() const override { return "batchnorm2d"; }
  Variable gamma, beta;
  BatchNormState state;
  // Applied to the normalised output (autograd batchnorm2d_act: fused in training mode). The
  // builder sets it together with the Activation after it (Activation::applied_by_batchnorm).
  ops::NormActivation activation = ops::NormActivation::Identity;

 protected:
  void reset_parameters(Rng& rng) override;
};

class LayerNorm2d : public Module {
 public:
  explicit LayerNorm2d(int64_t channels, double eps = 1e-6);
  Variable forward(const Variable& x) override;
  const char* kind() const override { return "layernorm2d"; }
  Variable gamma, beta;
  double eps;
  // true: forward is the identity (the synflow pass mutes every normalization layer).
  bool muted = false;

 protected:
  void reset_parameters(Rng& rng) override;
};

enum class ActivationKind { ReLU, ReLU6, GELU, Hardswish, Sigmoid, Hardsigmoid };
const char* activation_name(ActivationKind kind);

class Activation : public Module {
 public:
  explicit Activation(ActivationKind kind) : activation_(kind) {}
  Variable forward(const Variable& x) override;
  const char* kind() const override { return activation_name(activation_); }
  ActivationKind activation() const { return activation_; }
  // true: the BatchNorm2d before this module already applies the activation (its
  // BatchNorm2d::activation), so forward passes its input through; the forward hook still sees
  // the activated values here.
  bool applied_by_batchnorm = false;

 private:
  ActivationKind activation_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const ops::Pool2dParams& params) : params_(params) {}
  Variable forward(const Variable& x) override { return avg_pool2d(x, params_); }
  const char* kind() const override { return "avg_pool2d"; }

 private:
  ops::Pool2dParams params_;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const ops::Pool2dParams& params) : params_(params) {}
  Variable forward(const Variable& x) override { return max_pool2d(x, params_); }
  const char* kind() const override { return "max_pool2d"; }

 private:
  ops::Pool2dParams params_;
};

// [N, C, H, W] -> [N, C]
class GlobalAvgPool : public Module {
 public:
  Variable forward(const Variable& x) override { return global_avg_pool(x); }
  const char* kind() const override { return "global_avg_pool"; }
};

// Inverted dropout with its own generator, seeded explicitly; identity in eval mode.
class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {}
  Variable forward(const Variable& x) override { return dropout(x, p_, rng_, training()); }
  const char* kind() const override { return "dropout"; }

 private:
  double p_;
  Rng rng_;
};

class Sequential : public Module {
 public:
  Sequential() = default;
  // Appends a layer named by its position ("0", "1", ...); returns it for chaining setup.
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    return register_module(std::to_string(children().size()), std::move(module));
  }
  Variable forward(const Variable& x) override;
  const char* kind() const override { return "sequential"; }
};

// y = x + body(x); the body must keep the shape.
class Residual : public Module {
 public:
  explicit Residual(std::shared_ptr<Module> body) : body_(register_module("body", std::move(body))) {}
  Variable forward(const Variable& x) override;
  const char* kind() const override { return "residual"; }

 private:
  std::shared_ptr<Module> body_;
};

}  // namespace piconas::autograd
