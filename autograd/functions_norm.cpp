#include "autograd/function_helpers.h"
#include "autograd/functions.h"
#include "ops/batchnorm2d.h"
#include "ops/layernorm2d.h"

namespace piconas::autograd {

using namespace detail;

namespace {
ops::NormShape norm_shape(const Variable& x, const Variable& gamma, const Variable& beta,
                          const char* op) {
  PICONAS_CHECK(x.value().ndim() == 4, op << ": input " << shape_str(x.shape()) << " must be NCHW");
  PICONAS_CHECK(gamma.defined() && beta.defined(), op << ": gamma and beta are required");
  check_dtypes(x, gamma, op);
  check_dtypes(x, beta, op);
  int64_t channels = x.shape()[1];
  check_vector(gamma, channels, "gamma", op);
  check_vector(beta, channels, "beta", op);
  return {x.shape()[0], channels, x.shape()[2] * x.shape()[3]};
}

void check_running_statistics(const ops::NormShape& s, const Variable& x,
                              const BatchNormState& state, bool training, const char* op) {
  PICONAS_CHECK(state.running_mean.shape() == Shape{s.channels} &&
                    state.running_var.shape() == Shape{s.channels} &&
                    state.running_mean.dtype() == x.dtype() && state.running_var.dtype() == x.dtype(),
                op << ": running statistics " << shape_str(state.running_mean.shape()) << "/"
                   << shape_str(state.running_var.shape()) << " do not match input "
                   << shape_str(x.shape()));
  if (training && !state.shard_sum)  // sharded: checked on the global count
    PICONAS_CHECK(s.batch * s.spatial > 1, op << ": training needs more than one value per "
                                                 "channel, got input "
                                              << shape_str(x.shape()));
}
}  // namespace

Variable batchnorm2d(const Variable& x, const Variable& gamma, const Variable& beta,
                     BatchNormState& state, bool training) {
  ops::NormShape s = norm_shape(x, gamma, beta, "batchnorm2d");
  check_running_statistics(s, x, state, training, "batchnorm2d");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  auto xn = x.node(), gn = gamma.node(), bn = beta.node();
  if (training) {
    Tensor save_mean({s.channels}, x.dtype()), save_invstd({s.channels}, x.dtype());
    const ops::ShardSum shard_sum = state.shard_sum;
    dispatch_dtype(x.dtype(), [&](auto zero) {
      using T = decltype(zero);
      if (shard_sum)
        ops::batchnorm2d_forward_train_sharded<T>(
            s, x.value().data<T>(), gamma.value().data<T>(), beta.value().data<T>(), T(state.eps),
            T(state.momentum), state.running_mean.data<T>(), state.running_var.data<T>(),
            y.data<T>(), save_mean.data<T>(), save_invstd.data<T>(), shard_sum);
      else
        ops::batchnorm2d_forward_train<T>(s, x.value().data<T>(), gamma.value().data<T>(),
                                          beta.value().data<T>(), T(state.eps), T(state.momentum),
                                          state.running_mean.data<T>(), state.running_var.data<T>(),
                                          y.data<T>(), save_mean.data<T>(), save_invstd.data<T>());
    });
    return make_result(std::move(y), "batchnorm2d", {x, gamma, beta},
                       [s, xn, gn, bn, save_mean, save_invstd, shard_sum](Node& self) {
                         dispatch_dtype(self.value.dtype(), [&](auto zero) {
                           using T = decltype(zero);
                           if (shard_sum)
                             ops::batchnorm2d_backward_train_sharded<T>(
                                 s, xn->value.data<T>(), gn->value.data<T>(), save_mean.data<T>(),
                                 save_invstd.data<T>(), self.grad.data<T>(), grad_or_null<T>(xn),
                                 grad_or_null<T>(gn), grad_or_null<T>(bn), shard_sum);
                           else
                             ops::batchnorm2d_backward_train<T>(
                                 s, xn->value.data<T>(), gn->value.data<T>(), save_mean.data<T>(),
                                 save_invstd.data<T>(), self.grad.data<T>(), grad_or_null<T>(xn),
                                 grad_or_null<T>(gn), grad_or_null<T>(bn));
                         });
                       });
  }
  Tensor mean = state.running_mean.clone(), var = state.running_var.clone();
  double eps = state.eps;
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::batchnorm2d_forward_eval<T>(s, x.value().data<T>(), gamma.value().data<T>(),
                                     beta.value().data<T>(), mean.data<T>(), var.data<T>(), T(eps),
                                     y.data<T>());
  });
  return make_result(std::move(y), "batchnorm2d", {x, gamma, beta},
                     [s, xn, gn, bn, mean, var, eps](Node& self) {
                       dispatch_dtype(self.value.dtype(), [&](auto zero) {
                         using T = decltype(zero);
                         ops::batchnorm2d_backward_eval<T>(
                             s, xn->value.data<T>(), gn->value.data<T>(), mean.data<T>(),
                             var.data<T>(), T(eps), self.grad.data<T>(), grad_or_null<T>(xn),
                             grad_or_null<T>(gn), grad_or_null<T>(bn));
                       });
                     });
}

Variable batchnorm2d_act(const Variable& x, const Variable& gamma, const Variable& beta,
                         BatchNormState& state, bool training, ops::NormActivation act) {
  if (!training || state.shard_sum) {
    const Variable y = batchnorm2d(x, gamma, beta, state, training);
    switch (act) {
      case ops::NormActivation::Identity: return y;
      case ops::NormActivation::ReLU: return relu(y);
      case ops::NormActivation::ReLU6: return relu6(y);
    }
    throw Error("batchnorm2d_act: unknown activation");
  }
  ops::NormShape s = norm_shape(x, gamma, beta, "batchnorm2d_act");
  check_running_statistics(s, x, state, training, "batchnorm2d_act");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor save_mean({s.channels}, x.dtype()), save_invstd({s.channels}, x.dtype());
  Tensor save_affine({3 * s.channels}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::batchnorm2d_act_forward<T>(s, act, x.value().data<T>(), gamma.value().data<T>(),
                                    beta.value().data<T>(), T(state.eps), T(state.momentum),
                                    state.running_mean.data<T>(), state.running_var.data<T>(),
                                    y.data<T>(), save_mean.data<T>(), save_invstd.data<T>(),
                                    save_affine.data<T>());
  });
  auto xn = x.node(), gn = gamma.node(), bn = beta.node();
  return make_result(std::move(y), "batchnorm2d_act", {x, gamma, beta},
                     [s, act, xn, gn, bn, save_mean, save_invstd, save_affine](Node& self) {
                       dispatch_dtype(self.value.dtype(), [&](auto zero) {
                         using T = decltype(zero);
                         ops::GradWrite dx_write = ops::GradWrite::Accumulate;
                         T* dx = grad_for_write<T>(xn, dx_write);
                         ops::batchnorm2d_act_backward<T>(
                             s, act, xn->value.data<T>(), gn->value.data<T>(),
                             save_mean.data<T>(), save_invstd.data<T>(), save_affine.data<T>(),
                             self.grad.data<T>(), dx, dx_write, grad_or_null<T>(gn),
                             grad_or_null<T>(bn));
                       });
                     });
}

Variable layernorm2d(const Variable& x, const Variable& gamma, const Variable& beta, double eps) {
  ops::NormShape s = norm_shape(x, gamma, beta, "layernorm2d");
  int64_t positions = s.batch * s.spatial;
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor save_mean({positions}, x.dtype()), save_invstd({positions}, x.dtype());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::layernorm2d_forward<T>(s, x.value().data<T>(), gamma.value().data<T>(),
                                beta.value().data<T>(), T(eps), y.data<T>(), save_mean.data<T>(),
                                save_invstd.data<T>());
  });
  auto xn = x.node(), gn = gamma.node(), bn = beta.node();
  return make_result(std::move(y), "layernorm2d", {x, gamma, beta},
                     [s, xn, gn, bn, save_mean, save_invstd](Node& self) {
                       dispatch_dtype(self.value.dtype(), [&](auto zero) {
                         using T = decltype(zero);
                         ops::layernorm2d_backward<T>(s, xn->value.data<T>(), gn->value.data<T>(),
                                                      save_mean.data<T>(), save_invstd.data<T>(),
                                                      self.grad.data<T>(), grad_or_null<T>(xn),
                                                      grad_or_null<T>(gn), grad_or_null<T>(bn));
                       });
                     });
}

}  // namespace piconas::autograd
