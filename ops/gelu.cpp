#include "ops/gelu.h"

#include <cmath>

#include "ops/elementwise.h"

namespace piconas::ops {

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
}  // namespace

template <class T>
void gelu_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * T(kInvSqrt2)));
  });
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x), phi the standard normal density.
template <class T>
void gelu_backward(int64_t n, const T* x, const T* /*y*/, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T v = x[i];
      T cdf = T(0.5) * (T(1) + std::erf(v * T(kInvSqrt2)));
      T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
      dx[i] += dy[i] * (cdf + v * pdf);
    }
  });
}

template void gelu_forward<float>(int64_t, const float*, float*);
template void gelu_forward<double>(int64_t, const double*, double*);
template void gelu_backward<float>(int64_t, const float*, const float*, const float*, float*);
template void gelu_backward<double>(int64_t, const double*, const double*, const double*, double*);

}  // namespace piconas::ops
