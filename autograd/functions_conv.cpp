#include "autograd/function_helpers.h"
#include "autograd/functions.h"
#include "ops/depthwise_conv2d.h"
#include "ops/linear.h"

namespace piconas::autograd {

using namespace detail;

namespace {
Variable conv_with_algo(const Variable& x, const Variable& weight, const Variable& bias,
                        const ops::Conv2dParams& params, ops::ConvAlgo algo, const char* op) {
  check_dtypes(x, weight, op);
  check_dtypes(x, bias, op);
  ops::ConvShape s = ops::conv2d_shape(x.shape(), weight.shape(), params);
  if (algo == ops::ConvAlgo::Depthwise)
    PICONAS_CHECK(ops::is_depthwise(s), op << ": input " << shape_str(x.shape()) << " and weight "
                                           << shape_str(weight.shape())
                                           << " are not a depthwise convolution");
  check_vector(bias, s.out_channels, "bias", op);
  Tensor y = Tensor::empty({s.batch, s.out_channels, s.out_h, s.out_w}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::conv2d_forward<T>(s, x.value().data<T>(), weight.value().data<T>(),
                           data_or_null<T>(optional_value(bias)), y.data<T>(), algo);
  });
  auto xn = x.node(), wn = weight.node(), bn = bias.node();
  const bool depthwise =
      algo == ops::ConvAlgo::Depthwise || (algo == ops::ConvAlgo::Auto &&
                                           ops::select_conv_algo(s) == ops::ConvAlgo::Depthwise);
  return make_result(std::move(y), op, {x, weight, bias},
                     [s, xn, wn, bn, algo, depthwise](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      if (depthwise) {
        // The depthwise backward writes all of dx: a fresh input gradient needs no zero fill.
        ops::GradWrite dx_write = ops::GradWrite::Accumulate;
        T* dx = grad_for_write<T>(xn, dx_write);
        ops::depthwise_conv2d_backward<T>(s, xn->value.data<T>(), wn->value.data<T>(),
                                          self.grad.data<T>(), dx, grad_or_null<T>(wn),
                                          grad_or_null<T>(bn), dx_write);
        return;
      }
      ops::conv2d_backward<T>(s, xn->value.data<T>(), wn->value.data<T>(), self.grad.data<T>(),
                              grad_or_null<T>(xn), grad_or_null<T>(wn), grad_or_null<T>(bn), algo);
    });
  });
}
}  // namespace

Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                const ops::Conv2dParams& params) {
  return conv_with_algo(x, weight, bias, params, ops::ConvAlgo::Auto, "conv2d");
}

Variable depthwise_conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                          const ops::Conv2dParams& params) {
  return conv_with_algo(x, weight, bias, params, ops::ConvAlgo::Depthwise, "depthwise_conv2d");
}

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  check_dtypes(x, weight, "linear");
  check_dtypes(x, bias, "linear");
  PICONAS_CHECK(x.value().ndim() == 2 && weight.value().ndim() == 2 && x.shape()[1] == weight.shape()[1],
                "linear: input " << shape_str(x.shape()) << " does not match weight "
                                 << shape_str(weight.shape()) << " ([out, in])");
  ops::LinearShape s{x.shape()[0], x.shape()[1], weight.shape()[0]};
  check_vector(bias, s.out_features, "bias", "linear");
  Tensor y = Tensor::empty({s.batch, s.out_features}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::linear_forward<T>(s, x.value().data<T>(), weight.value().data<T>(),
                           data_or_null<T>(optional_value(bias)), y.data<T>());
  });
  auto xn = x.node(), wn = weight.node(), bn = bias.node();
  return make_result(std::move(y), "linear", {x, weight, bias}, [s, xn, wn, bn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::linear_backward<T>(s, xn->value.data<T>(), wn->value.data<T>(), self.grad.data<T>(),
                              grad_or_null<T>(xn), grad_or_null<T>(wn), grad_or_null<T>(bn));
    });
  });
}

}  // namespace piconas::autograd
