#include "autograd/function_helpers.h"
#include "autograd/functions.h"
#include "ops/add.h"
#include "ops/channel_mul.h"
#include "ops/pixel_mul.h"
#include "ops/dropout.h"
#include "ops/gelu.h"
#include "ops/hardsigmoid.h"
#include "ops/hardswish.h"
#include "ops/mul.h"
#include "ops/relu.h"
#include "ops/relu6.h"
#include "ops/sigmoid.h"

namespace piconas::autograd {

using namespace detail;

namespace {
// The six activations share one wrapper: forward(n, x, y), backward(n, x, y, dy, dx).
template <template <class> class Kernels>
Variable activation(const Variable& x, const char* op) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    Kernels<T>::forward(x.value().numel(), x.value().data<T>(), y.data<T>());
  });
  auto xn = x.node();
  return make_result(std::move(y), op, {x}, [xn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      Kernels<T>::backward(self.value.numel(), xn->value.data<T>(), self.value.data<T>(),
                           self.grad.data<T>(), grad_buffer(*xn).data<T>());
    });
  });
}

#define PICONAS_ACTIVATION_KERNELS(name)                                            \
  template <class T>                                                                \
  struct name##_kernels {                                                           \
    static constexpr auto forward = ops::name##_forward<T>;                         \
    static constexpr auto backward = ops::name##_backward<T>;                       \
  };
PICONAS_ACTIVATION_KERNELS(relu)
PICONAS_ACTIVATION_KERNELS(relu6)
PICONAS_ACTIVATION_KERNELS(gelu)
PICONAS_ACTIVATION_KERNELS(hardswish)
PICONAS_ACTIVATION_KERNELS(sigmoid)
PICONAS_ACTIVATION_KERNELS(hardsigmoid)
#undef PICONAS_ACTIVATION_KERNELS

void check_same(const Variable& a, const Variable& b, const char* op) {
  PICONAS_CHECK(a.shape() == b.shape(), op << ": shapes differ, " << shape_str(a.shape()) << " vs "
                                           << shape_str(b.shape()));
  check_dtypes(a, b, op);
}
}  // namespace

Variable relu(const Variable& x) { return activation<relu_kernels>(x, "relu"); }
Variable relu6(const Variable& x) { return activation<relu6_kernels>(x, "relu6"); }
Variable gelu(const Variable& x) { return activation<gelu_kernels>(x, "gelu"); }
Variable hardswish(const Variable& x) { return activation<hardswish_kernels>(x, "hardswish"); }
Variable sigmoid(const Variable& x) { return activation<sigmoid_kernels>(x, "sigmoid"); }
Variable hardsigmoid(const Variable& x) {
  return activation<hardsigmoid_kernels>(x, "hardsigmoid");
}

Variable add(const Variable& a, const Variable& b) {
  check_same(a, b, "add");
  Tensor y = Tensor::empty(a.shape(), a.dtype());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::add_forward<T>(y.numel(), a.value().data<T>(), b.value().data<T>(), y.data<T>());
  });
  auto an = a.node(), bn = b.node();
  return make_result(std::move(y), "add", {a, b}, [an, bn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::add_backward<T>(self.value.numel(), self.grad.data<T>(), grad_or_null<T>(an),
                           grad_or_null<T>(bn));
    });
  });
}

Variable mul(const Variable& a, const Variable& b) {
  check_same(a, b, "mul");
  Tensor y = Tensor::empty(a.shape(), a.dtype());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::mul_forward<T>(y.numel(), a.value().data<T>(), b.value().data<T>(), y.data<T>());
  });
  auto an = a.node(), bn = b.node();
  return make_result(std::move(y), "mul", {a, b}, [an, bn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::mul_backward<T>(self.value.numel(), an->value.data<T>(), bn->value.data<T>(),
                           self.grad.data<T>(), grad_or_null<T>(an), grad_or_null<T>(bn));
    });
  });
}

Variable channel_mul(const Variable& x, const Variable& g) {
  PICONAS_CHECK(x.value().ndim() == 4 && (g.value().ndim() == 2 || g.value().ndim() == 4) &&
                    g.shape()[0] == x.shape()[0] && g.shape()[1] == x.shape()[1] &&
                    g.value().numel() == x.shape()[0] * x.shape()[1],
                "channel_mul: x " << shape_str(x.shape()) << " and gate " << shape_str(g.shape())
                                  << " (expected [N, C, H, W] and [N, C] or [N, C, 1, 1])");
  check_dtypes(x, g, "channel_mul");
  const int64_t planes = x.shape()[0] * x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::channel_mul_forward<T>(planes, plane, x.value().data<T>(), g.value().data<T>(),
                                y.data<T>());
  });
  auto xn = x.node(), gn = g.node();
  return make_result(std::move(y), "channel_mul", {x, g}, [xn, gn, planes, plane](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::channel_mul_backward<T>(planes, plane, xn->value.data<T>(), gn->value.data<T>(),
                                   self.grad.data<T>(), grad_or_null<T>(xn), grad_or_null<T>(gn));
    });
  });
}

Variable pixel_mul(const Variable& x, const Variable& g) {
  PICONAS_CHECK(x.value().ndim() == 4 && g.value().ndim() == 4 && g.shape()[0] == x.shape()[0] &&
                    g.shape()[1] == 1 && g.shape()[2] == x.shape()[2] &&
                    g.shape()[3] == x.shape()[3],
                "pixel_mul: x " << shape_str(x.shape()) << " and gate " << shape_str(g.shape())
                                << " (expected [N, C, H, W] and [N, 1, H, W])");
  check_dtypes(x, g, "pixel_mul");
  const ops::PixelMulShape s{x.shape()[0], x.shape()[1], x.shape()[2] * x.shape()[3]};
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::pixel_mul_forward<T>(s, x.value().data<T>(), g.value().data<T>(), y.data<T>());
  });
  auto xn = x.node(), gn = g.node();
  return make_result(std::move(y), "pixel_mul", {x, g}, [xn, gn, s](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::pixel_mul_backward<T>(s, xn->value.data<T>(), gn->value.data<T>(), self.grad.data<T>(),
                                 grad_or_null<T>(xn), grad_or_null<T>(gn));
    });
  });
}

Variable dropout(const Variable& x, double p, Rng& rng, bool training) {
  PICONAS_CHECK(p >= 0.0 && p < 1.0, "dropout: probability " << p << " must be in [0, 1)");
  if (!training || p == 0.0) return x;
  Tensor y = Tensor::empty(x.shape(), x.dtype()), mask = Tensor::empty(x.shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::dropout_forward<T>(y.numel(), x.value().data<T>(), T(p), rng, mask.data<T>(), y.data<T>());
  });
  auto xn = x.node();
  return make_result(std::move(y), "dropout", {x}, [xn, mask](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::dropout_backward<T>(self.value.numel(), mask.data<T>(), self.grad.data<T>(),
                               grad_buffer(*xn).data<T>());
    });
  });
}

Variable scale(const Variable& x, double factor) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* src = x.value().data<T>();
    T* dst = y.data<T>();
    for (int64_t i = 0; i < y.numel(); ++i) dst[i] = static_cast<T>(factor) * src[i];
  });
  auto xn = x.node();
  return make_result(std::move(y), "scale", {x}, [xn, factor](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* dy = self.grad.data<T>();
      T* dx = grad_buffer(*xn).data<T>();
      for (int64_t i = 0; i < self.value.numel(); ++i) dx[i] += static_cast<T>(factor) * dy[i];
    });
  });
}

Variable sum(const Variable& x) {
  Tensor y({1}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* src = x.value().data<T>();
    double total = 0.0;
    for (int64_t i = 0; i < x.value().numel(); ++i) total += src[i];
    y.data<T>()[0] = static_cast<T>(total);
  });
  auto xn = x.node();
  return make_result(std::move(y), "sum", {x}, [xn](Node& self) {
    dispatch_dtype(self.value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      T g = self.grad.data<T>()[0];
      T* dx = grad_buffer(*xn).data<T>();
      for (int64_t i = 0; i < xn->value.numel(); ++i) dx[i] += g;
    });
  });
}

Variable reshape(const Variable& x, const Shape& shape) {
  Tensor y = x.value().reshape(shape).clone();
  auto xn = x.node();
  return make_result(std::move(y), "reshape", {x}, [xn](Node& self) {
    accumulate_into(grad_buffer(*xn), self.grad.reshape(xn->value.shape()));
  });
}

}  // namespace piconas::autograd
