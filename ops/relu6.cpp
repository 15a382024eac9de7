#include "ops/relu6.h"

#include "ops/elementwise.h"

namespace piconas::ops {

template <class T>
void relu6_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T v = x[i] > T(0) ? x[i] : T(0);
      y[i] = v < T(6) ? v : T(6);
    }
  });
}

template <class T>
void relu6_backward(int64_t n, const T* x, const T* /*y*/, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] += (x[i] > T(0) && x[i] < T(6)) ? dy[i] : T(0);
  });
}

template void relu6_forward<float>(int64_t, const float*, float*);
template void relu6_forward<double>(int64_t, const double*, double*);
template void relu6_backward<float>(int64_t, const float*, const float*, const float*, float*);
template void relu6_backward<double>(int64_t, const double*, const double*, const double*, double*);

}  // namespace piconas::ops
