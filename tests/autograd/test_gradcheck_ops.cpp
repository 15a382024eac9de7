// Finite-difference gradient check of every op in ops/op_list.def through its autograd
// wrapper, in float64, on awkward shapes. gradcheck_cases() switches over OpKind without a
// default, and this suite compiles with -Werror=switch: an op added to the list without a
// case here does not build.
#include <doctest/doctest.h>

#include "autograd/functions.h"
#include "gradcheck.h"
#include "ops/op_list.h"

using namespace piconas;
using namespace piconas::autograd;
using piconas::testing::check_gradients;
using piconas::testing::random_variable;

namespace {

struct GradCase {
  std::string label;
  std::vector<Variable> inputs;
  piconas::testing::VariableFn fn;
};

ops::Conv2dParams conv_params(int64_t stride, int64_t pad, int64_t dilation, int64_t groups) {
  ops::Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  return p;
}

std::vector<GradCase> gradcheck_cases(ops::OpKind kind, Rng& rng) {
  using ops::OpKind;
  std::vector<GradCase> cases;
  auto unary = [&](std::string label, Shape shape, double scale, auto f) {
    cases.push_back({label, {random_variable(shape, rng, scale)},
                     [f](const std::vector<Variable>& v) { return f(v[0]); }});
  };
  switch (kind) {
    case OpKind::Conv2d:
      for (auto [label, xs, ws, p, bias] :
           std::vector<std::tuple<std::string, Shape, Shape, ops::Conv2dParams, bool>>{
               {"3x3 s1 p1 bias", {2, 3, 5, 4}, {4, 3, 3, 3}, conv_params(1, 1, 1, 1), true},
               {"3x3 s2 p1", {1, 2, 7, 6}, {3, 2, 3, 3}, conv_params(2, 1, 1, 1), false},
               {"1x1 pointwise", {3, 5, 3, 3}, {2, 5, 1, 1}, conv_params(1, 0, 1, 1), true},
               {"dilation 2", {1, 2, 7, 7}, {2, 2, 3, 3}, conv_params(1, 2, 2, 1), false},
               {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, conv_params(1, 1, 1, 2), true},
               {"size 1", {1, 1, 1, 1}, {2, 1, 1, 1}, conv_params(1, 0, 1, 1), false},
               {"depthwise via conv2d", {2, 3, 6, 5}, {3, 1, 3, 3}, conv_params(1, 1, 1, 3), true}}) {
        Variable b = bias ? random_variable({ws[0]}, rng) : Variable();
        ops::Conv2dParams params = p;
        cases.push_back({label, {random_variable(xs, rng), random_variable(ws, rng), b},
                         [params](const std::vector<Variable>& v) { return conv2d(v[0], v[1], v[2], params); }});
      }
      break;
    case OpKind::DepthwiseConv2d:
      for (auto [label, xs, k, stride, bias] : std::vector<std::tuple<std::string, Shape, int64_t, int64_t, bool>>{
               {"3x3 s1", {2, 3, 6, 5}, 3, 1, true},
               {"5x5 s2", {1, 2, 9, 8}, 5, 2, false},
               {"7x7 s1 odd", {1, 1, 7, 9}, 7, 1, true},
               {"3x3 s2 size 1", {1, 2, 1, 1}, 3, 2, false}}) {
        int64_t channels = xs[1];
        ops::Conv2dParams params = conv_params(stride, k / 2, 1, channels);
        Variable b = bias ? random_variable({channels}, rng) : Variable();
        cases.push_back({label, {random_variable(xs, rng), random_variable({channels, 1, k, k}, rng), b},
                         [params](const std::vector<Variable>& v) { return depthwise_conv2d(v[0], v[1], v[2], params); }});
      }
      // x feeds two convolutions: the first backward writes its fresh gradient (Overwrite),
      // the second adds to it (Accumulate); stride 2 on 6x6 with 16 channels takes the channel
      // kernels, 3x3 stride 1 on 9x8 the plane kernels.
      for (auto [label, xs, stride] : std::vector<std::tuple<std::string, Shape, int64_t>>{
               {"x shared, plane kernels", {1, 2, 9, 8}, 1}, {"x shared, channel kernels", {1, 16, 6, 6}, 2}}) {
        int64_t channels = xs[1];
        ops::Conv2dParams params = conv_params(stride, 1, 1, channels);
        cases.push_back({label, {random_variable(xs, rng), random_variable({channels, 1, 3, 3}, rng),
                                 random_variable({channels, 1, 3, 3}, rng)},
                         [params](const std::vector<Variable>& v) {
                           return add(depthwise_conv2d(v[0], v[1], Variable(), params),
                                      depthwise_conv2d(v[0], v[2], Variable(), params));
                         }});
      }
      break;
    case OpKind::Linear:
      cases.push_back({"bias", {random_variable({3, 5}, rng), random_variable({4, 5}, rng), random_variable({4}, rng)},
                       [](const std::vector<Variable>& v) { return linear(v[0], v[1], v[2]); }});
      cases.push_back({"no bias, size 1", {random_variable({1, 1}, rng), random_variable({1, 1}, rng)},
                       [](const std::vector<Variable>& v) { return linear(v[0], v[1], Variable()); }});
      break;
    case OpKind::BatchNorm2d:
      for (bool training : {true, false}) {
        auto state = std::make_shared<BatchNormState>();
        state->running_mean = Tensor::from_values({3}, {0.1, -0.2, 0.3}, DType::F64);
        state->running_var = Tensor::from_values({3}, {1.5, 0.5, 2.0}, DType::F64);
        cases.push_back({training ? "train" : "eval",
                         {random_variable({2, 3, 3, 2}, rng), random_variable({3}, rng), random_variable({3}, rng)},
                         [state, training](const std::vector<Variable>& v) {
                           return batchnorm2d(v[0], v[1], v[2], *state, training);
                         }});
      }
      break;
    case OpKind::BatchNorm2dAct:
      // Scale 2.5 on gamma and beta puts the normalised values on both sides of 0 and 6.
      for (bool training : {true, false})
        for (ops::NormActivation act : {ops::NormActivation::Identity, ops::NormActivation::ReLU,
                                        ops::NormActivation::ReLU6}) {
          auto state = std::make_shared<BatchNormState>();
          state->running_mean = Tensor::from_values({3}, {0.1, -0.2, 0.3}, DType::F64);
          state->running_var = Tensor::from_values({3}, {1.5, 0.5, 2.0}, DType::F64);
          cases.push_back({std::string(training ? "train " : "eval ") + ops::norm_activation_name(act),
                           {random_variable({2, 3, 3, 2}, rng), random_variable({3}, rng, 2.5),
                            random_variable({3}, rng, 2.5)},
                           [state, training, act](const std::vector<Variable>& v) {
                             return batchnorm2d_act(v[0], v[1], v[2], *state, training, act);
                           }});
        }
      break;
    case OpKind::LayerNorm2d:
      cases.push_back({"odd", {random_variable({2, 5, 3, 1}, rng), random_variable({5}, rng), random_variable({5}, rng)},
                       [](const std::vector<Variable>& v) { return layernorm2d(v[0], v[1], v[2]); }});
      break;
    case OpKind::Relu: unary("odd", {2, 3, 3, 5}, 1.0, [](const Variable& x) { return relu(x); }); break;
    case OpKind::Relu6: unary("odd", {2, 3, 3, 5}, 4.0, [](const Variable& x) { return relu6(x); }); break;
    case OpKind::Gelu: unary("odd", {2, 3, 3, 5}, 2.0, [](const Variable& x) { return gelu(x); }); break;
    case OpKind::Hardswish: unary("odd", {2, 3, 3, 5}, 3.0, [](const Variable& x) { return hardswish(x); }); break;
    case OpKind::Sigmoid: unary("odd", {2, 3, 3, 5}, 3.0, [](const Variable& x) { return sigmoid(x); }); break;
    case OpKind::Hardsigmoid:
      unary("odd", {2, 3, 3, 5}, 4.0, [](const Variable& x) { return hardsigmoid(x); });
      break;
    case OpKind::AvgPool2d:
      for (bool include_pad : {false, true}) {
        ops::Pool2dParams p{3, 3, 2, 2, 1, 1, include_pad};
        unary(include_pad ? "3x3 s2 pad counted" : "3x3 s2 pad excluded", {2, 2, 7, 6}, 1.0,
              [p](const Variable& x) { return avg_pool2d(x, p); });
      }
      break;
    case OpKind::MaxPool2d: {
      ops::Pool2dParams p{3, 3, 2, 2, 1, 1, false};
      unary("3x3 s2 p1", {2, 2, 7, 6}, 1.0, [p](const Variable& x) { return max_pool2d(x, p); });
      break;
    }
    case OpKind::GlobalAvgPool:
      unary("odd", {3, 2, 3, 5}, 1.0, [](const Variable& x) { return global_avg_pool(x); });
      break;
    case OpKind::Add:
      cases.push_back({"same shape", {random_variable({2, 3, 2, 2}, rng), random_variable({2, 3, 2, 2}, rng)},
                       [](const std::vector<Variable>& v) { return add(v[0], v[1]); }});
      break;
    case OpKind::Mul:
      cases.push_back({"same shape", {random_variable({2, 3, 2, 2}, rng), random_variable({2, 3, 2, 2}, rng)},
                       [](const std::vector<Variable>& v) { return mul(v[0], v[1]); }});
      break;
    case OpKind::ChannelMul:
      cases.push_back({"gate [N, C]", {random_variable({2, 3, 3, 5}, rng), random_variable({2, 3}, rng)},
                       [](const std::vector<Variable>& v) { return channel_mul(v[0], v[1]); }});
      cases.push_back({"gate [N, C, 1, 1], 1x1 planes",
                       {random_variable({3, 2, 1, 1}, rng), random_variable({3, 2, 1, 1}, rng)},
                       [](const std::vector<Variable>& v) { return channel_mul(v[0], v[1]); }});
      break;
    case OpKind::PixelMul:
      cases.push_back({"gate [N, 1, H, W]", {random_variable({2, 3, 3, 5}, rng), random_variable({2, 1, 3, 5}, rng)},
                       [](const std::vector<Variable>& v) { return pixel_mul(v[0], v[1]); }});
      cases.push_back({"one channel, 1x1 planes",
                       {random_variable({3, 1, 1, 1}, rng), random_variable({3, 1, 1, 1}, rng)},
                       [](const std::vector<Variable>& v) { return pixel_mul(v[0], v[1]); }});
      break;
    case OpKind::SoftmaxCrossEntropy:
      for (double smoothing : {0.0, 0.1})
        cases.push_back({smoothing > 0 ? "label smoothing" : "plain", {random_variable({4, 5}, rng, 3.0)},
                         [smoothing](const std::vector<Variable>& v) {
                           return softmax_cross_entropy(v[0], {0, 4, 2, 2}, smoothing);
                         }});
      break;
    case OpKind::Dropout:
      unary("p=0.3", {2, 3, 4, 5}, 1.0, [](const Variable& x) {
        Rng mask_rng(5);  // the same mask on every evaluation
        return dropout(x, 0.3, mask_rng, true);
      });
      break;
  }
  return cases;
}

}  // namespace

TEST_CASE("every op of the op list passes a float64 finite-difference gradient check") {
  Rng rng(2024);
  for (int k = 0; k < ops::kOpCount; ++k) {
    auto kind = static_cast<ops::OpKind>(k);
    auto cases = gradcheck_cases(kind, rng);
    REQUIRE_MESSAGE(!cases.empty(), "no gradient-check case for op ", ops::op_name(kind));
    for (const GradCase& c : cases) {
      auto result = check_gradients(c.fn, c.inputs);
      INFO(ops::op_name(kind), " [", c.label, "] worst at ", result.worst_where);
      CHECK(result.worst_error < 1e-6);
    }
  }
}
