#include "autograd/function_helpers.h"
#include "autograd/functions.h"
#include "ops/avg_pool2d.h"
#include "ops/global_avg_pool.h"
#include "ops/max_pool2d.h"
#include "ops/softmax_cross_entropy.h"

namespace piconas::autograd {

using namespace detail;

Variable avg_pool2d(const Variable& x, const ops::Pool2dParams& params) {
  ops::PoolShape s = ops::pool2d_shape(x.shape(), params);
  Tensor y = Tensor::empty({s.batch, s.channels, s.out_h, s.out_w}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::avg_pool2d_forward<T>(s, x.value().data<T>(), y.data<T>());
  });
  auto xn = x.node();
  return make_result(std::move(y), "avg_pool2d", {x}, [s, xn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::avg_pool2d_backward<T>(s, self.grad.data<T>(), grad_buffer(*xn).data<T>());
    });
  });
}

Variable max_pool2d(const Variable& x, const ops::Pool2dParams& params) {
  ops::PoolShape s = ops::pool2d_shape(x.shape(), params);
  Tensor y = Tensor::empty({s.batch, s.channels, s.out_h, s.out_w}, x.dtype());
  auto argmax = std::make_shared<std::vector<int32_t>>(y.numel());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::max_pool2d_forward<T>(s, x.value().data<T>(), y.data<T>(), argmax->data());
  });
  auto xn = x.node();
  return make_result(std::move(y), "max_pool2d", {x}, [s, xn, argmax](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::max_pool2d_backward<T>(s, argmax->data(), self.grad.data<T>(), grad_buffer(*xn).data<T>());
    });
  });
}

Variable global_avg_pool(const Variable& x) {
  PICONAS_CHECK(x.value().ndim() == 4, "global_avg_pool: input " << shape_str(x.shape())
                                                                 << " must be NCHW");
  int64_t planes = x.shape()[0] * x.shape()[1], spatial = x.shape()[2] * x.shape()[3];
  PICONAS_CHECK(spatial > 0, "global_avg_pool: empty planes in " << shape_str(x.shape()));
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[1]}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::global_avg_pool_forward<T>(planes, spatial, x.value().data<T>(), y.data<T>());
  });
  auto xn = x.node();
  return make_result(std::move(y), "global_avg_pool", {x}, [planes, spatial, xn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::global_avg_pool_backward<T>(planes, spatial, self.grad.data<T>(), grad_buffer(*xn).data<T>());
    });
  });
}

Variable softmax_cross_entropy(const Variable& logits, const std::vector<int32_t>& labels,
                               double label_smoothing) {
  PICONAS_CHECK(logits.value().ndim() == 2, "softmax_cross_entropy: logits "
                                                << shape_str(logits.shape()) << " must be [N, K]");
  int64_t batch = logits.shape()[0], classes = logits.shape()[1];
  PICONAS_CHECK(static_cast<int64_t>(labels.size()) == batch,
                "softmax_cross_entropy: " << labels.size() << " labels for logits "
                                          << shape_str(logits.shape()));
  PICONAS_CHECK(label_smoothing >= 0.0 && label_smoothing < 1.0,
                "softmax_cross_entropy: label smoothing " << label_smoothing << " must be in [0, 1)");
  Tensor loss({1}, logits.dtype()), probs = Tensor::empty(logits.shape(), logits.dtype());
  dispatch_dtype(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    loss.data<T>()[0] = ops::softmax_cross_entropy_forward<T>(
        batch, classes, logits.value().data<T>(), labels.data(), T(label_smoothing), probs.data<T>());
  });
  auto ln = logits.node();
  auto saved_labels = std::make_shared<std::vector<int32_t>>(labels);
  return make_result(std::move(loss), "softmax_cross_entropy", {logits},
                     [ln, probs, saved_labels, batch, classes, label_smoothing](Node& self) {
                       dispatch_dtype(self.value.dtype(), [&](auto zero) {
                         using T = decltype(zero);
                         ops::softmax_cross_entropy_backward<T>(
                             batch, classes, probs.data<T>(), saved_labels->data(),
                             T(label_smoothing), self.grad.data<T>()[0], grad_buffer(*ln).data<T>());
                       });
                     });
}

}  // namespace piconas::autograd
