#include "ops/mul.h"

#include "ops/elementwise.h"

namespace piconas::ops {

template <class T>
void mul_forward(int64_t n, const T* a, const T* b, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = a[i] * b[i];
  });
}

template <class T>
void mul_backward(int64_t n, const T* a, const T* b, const T* dy, T* da, T* db) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    if (da)
      for (int64_t i = lo; i < hi; ++i) da[i] += dy[i] * b[i];
    if (db)
      for (int64_t i = lo; i < hi; ++i) db[i] += dy[i] * a[i];
  });
}

template void mul_forward<float>(int64_t, const float*, const float*, float*);
template void mul_forward<double>(int64_t, const double*, const double*, double*);
template void mul_backward<float>(int64_t, const float*, const float*, const float*, float*,
                                  float*);
template void mul_backward<double>(int64_t, const double*, const double*, const double*, double*,
                                   double*);

}  // namespace piconas::ops
