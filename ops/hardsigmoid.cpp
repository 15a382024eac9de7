#include "ops/hardsigmoid.h"

#include "ops/elementwise.h"

namespace piconas::ops {

template <class T>
void hardsigmoid_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T r = x[i] + T(3);
      r = r > T(0) ? r : T(0);
      r = r < T(6) ? r : T(6);
      y[i] = r / T(6);
    }
  });
}

template <class T>
void hardsigmoid_backward(int64_t n, const T* x, const T* /*y*/, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      if (x[i] > T(-3) && x[i] < T(3)) dx[i] += dy[i] / T(6);
  });
}

template void hardsigmoid_forward<float>(int64_t, const float*, float*);
template void hardsigmoid_forward<double>(int64_t, const double*, double*);
template void hardsigmoid_backward<float>(int64_t, const float*, const float*, const float*,
                                          float*);
template void hardsigmoid_backward<double>(int64_t, const double*, const double*, const double*,
                                           double*);

}  // namespace piconas::ops
