#include "ops/mul.h"

#include "ops/elementwise.h"

namespace piconas::ops {

// Captured pointers are read into locals so the loops vectorise (see add.cpp).

template <class T>
void mul_forward(int64_t n, const T* a, const T* b, T* y) {
  elementwise_chunks(n, [a, b, y](int64_t lo, int64_t hi) {
    const T *pa = a, *pb = b;
    T* py = y;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) py[i] = pa[i] * pb[i];
  });
}

template <class T>
void mul_backward(int64_t n, const T* a, const T* b, const T* dy, T* da, T* db) {
  elementwise_chunks(n, [a, b, dy, da, db](int64_t lo, int64_t hi) {
    const T *pa = a, *pb = b, *g = dy;
    if (T* d = da) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) d[i] += g[i] * pb[i];
    }
    if (T* d = db) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) d[i] += g[i] * pa[i];
    }
  });
}

template void mul_forward<float>(int64_t, const float*, const float*, float*);
template void mul_forward<double>(int64_t, const double*, const double*, double*);
template void mul_backward<float>(int64_t, const float*, const float*, const float*, float*,
                                  float*);
template void mul_backward<double>(int64_t, const double*, const double*, const double*, double*,
                                   double*);

}  // namespace piconas::ops
