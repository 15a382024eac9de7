#include "ops/relu.h"

#include "ops/elementwise.h"

namespace piconas::ops {

// Local pointer copies and branch-free selects let these loops vectorise (see relu6.cpp).
template <class T>
void relu_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [x, y](int64_t lo, int64_t hi) {
    const T* xs = x;
    T* ys = y;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) ys[i] = xs[i] > T(0) ? xs[i] : T(0);
  });
}

template <class T>
void relu_backward(int64_t n, const T* x, const T* /*y*/, const T* dy, T* dx) {
  elementwise_chunks(n, [x, dy, dx](int64_t lo, int64_t hi) {
    const T* xs = x;
    const T* g = dy;
    T* d = dx;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) d[i] += xs[i] > T(0) ? g[i] : T(0);
  });
}

template void relu_forward<float>(int64_t, const float*, float*);
template void relu_forward<double>(int64_t, const double*, double*);
template void relu_backward<float>(int64_t, const float*, const float*, const float*, float*);
template void relu_backward<double>(int64_t, const double*, const double*, const double*, double*);

}  // namespace piconas::ops
