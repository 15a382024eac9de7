#include "ops/hardswish.h"

#include "ops/elementwise.h"

namespace piconas::ops {

template <class T>
void hardswish_forward(int64_t n, const T* x, T* y) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T v = x[i];
      T r = v + T(3);
      r = r > T(0) ? r : T(0);
      r = r < T(6) ? r : T(6);
      y[i] = v * r * T(1.0 / 6.0);
    }
  });
}

// At the kinks we follow PyTorch: x = -3 and x = 3 take the middle branch (2x + 3) / 6.
template <class T>
void hardswish_backward(int64_t n, const T* x, const T* /*y*/, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T v = x[i];
      T d = v < T(-3) ? T(0) : (v > T(3) ? T(1) : (T(2) * v + T(3)) * T(1.0 / 6.0));
      dx[i] += dy[i] * d;
    }
  });
}

template void hardswish_forward<float>(int64_t, const float*, float*);
template void hardswish_forward<double>(int64_t, const double*, double*);
template void hardswish_backward<float>(int64_t, const float*, const float*, const float*, float*);
template void hardswish_backward<double>(int64_t, const double*, const double*, const double*,
                                         double*);

}  // namespace piconas::ops
