#include "ops/channel_mul.h"

#include "core/parallel.h"

namespace piconas::ops {

// Parallel over planes: each plane writes its own slice of y and dx and its own dg entry.
template <class T>
void channel_mul_forward(int64_t planes, int64_t plane, const T* x, const T* g, T* y) {
  parallel_for(0, planes, [=](int64_t p) {
    const T gate = g[p];
    const T* src = x + p * plane;
    T* dst = y + p * plane;
#pragma omp simd
    for (int64_t i = 0; i < plane; ++i) dst[i] = src[i] * gate;
  });
}

template <class T>
void channel_mul_backward(int64_t planes, int64_t plane, const T* x, const T* g, const T* dy, T* dx,
                          T* dg) {
  parallel_for(0, planes, [=](int64_t p) {
    const T* grad = dy + p * plane;
    if (dx) {
      const T gate = g[p];
      T* d = dx + p * plane;
#pragma omp simd
      for (int64_t i = 0; i < plane; ++i) d[i] += grad[i] * gate;
    }
    if (dg) {
      const T* src = x + p * plane;
      T total = T(0);
      for (int64_t i = 0; i < plane; ++i) total += grad[i] * src[i];
      dg[p] += total;
    }
  });
}

template <class T>
void channel_mul_forward_naive(int64_t planes, int64_t plane, const T* x, const T* g, T* y) {
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < plane; ++i) y[p * plane + i] = x[p * plane + i] * g[p];
}

template void channel_mul_forward<float>(int64_t, int64_t, const float*, const float*, float*);
template void channel_mul_forward<double>(int64_t, int64_t, const double*, const double*, double*);
template void channel_mul_backward<float>(int64_t, int64_t, const float*, const float*,
                                          const float*, float*, float*);
template void channel_mul_backward<double>(int64_t, int64_t, const double*, const double*,
                                           const double*, double*, double*);
template void channel_mul_forward_naive<float>(int64_t, int64_t, const float*, const float*,
                                               float*);
template void channel_mul_forward_naive<double>(int64_t, int64_t, const double*, const double*,
                                                double*);

}  // namespace piconas::ops
