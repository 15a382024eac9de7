#include "ops/sigmoid.h"

#include <cmath>

#include "ops/elementwise.h"

namespace piconas::ops {

// exp is only ever taken of -|x|, so it cannot overflow: for x >= 0, 1 / (1 + e^-x);
// for x < 0, e^x / (1 + e^x).
template <class T>
void sigmoid_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T v = x[i];
      T e = std::exp(-std::abs(v));
      y[i] = v >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    }
  });
}

template <class T>
void sigmoid_backward(int64_t n, const T* /*x*/, const T* y, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] += dy[i] * y[i] * (T(1) - y[i]);
  });
}

template void sigmoid_forward<float>(int64_t, const float*, float*);
template void sigmoid_forward<double>(int64_t, const double*, double*);
template void sigmoid_backward<float>(int64_t, const float*, const float*, const float*, float*);
template void sigmoid_backward<double>(int64_t, const double*, const double*, const double*,
                                       double*);

}  // namespace piconas::ops
