#include "ops/add.h"

#include <initializer_list>

#include "ops/elementwise.h"

namespace piconas::ops {

// The loops read the captured pointers into locals so the compiler need not reload them after
// every store (it cannot prove the stores miss the closure), and so they vectorise.

template <class T>
void add_forward(int64_t n, const T* a, const T* b, T* y) {
  elementwise_chunks(n, [a, b, y](int64_t lo, int64_t hi) {
    const T *pa = a, *pb = b;
    T* py = y;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) py[i] = pa[i] + pb[i];
  });
}

template <class T>
void add_backward(int64_t n, const T* dy, T* da, T* db) {
  elementwise_chunks(n, [dy, da, db](int64_t lo, int64_t hi) {
    const T* g = dy;
    for (T* d : {da, db}) {
      if (!d) continue;
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) d[i] += g[i];
    }
  });
}

template void add_forward<float>(int64_t, const float*, const float*, float*);
template void add_forward<double>(int64_t, const double*, const double*, double*);
template void add_backward<float>(int64_t, const float*, float*, float*);
template void add_backward<double>(int64_t, const double*, double*, double*);

}  // namespace piconas::ops
