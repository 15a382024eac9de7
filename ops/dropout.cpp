#include "ops/dropout.h"

#include "core/error.h"
#include "ops/elementwise.h"

namespace piconas::ops {

// The mask is drawn serially in index order (one uniform() per element, kept when u >= p), so
// a seed fixes it regardless of the thread count; the multiplications then run in parallel.
// p = 0 draws nothing and leaves the Rng untouched.
template <class T>
void dropout_forward(int64_t n, const T* x, T p, Rng& rng, T* mask, T* y) {
  PICONAS_CHECK(p >= T(0) && p < T(1), "dropout: p = " << p << " must be in [0, 1)");
  if (p == T(0)) {
    elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        mask[i] = T(1);
        y[i] = x[i];
      }
    });
    return;
  }
  const T scale = T(1) / (T(1) - p);
  const double threshold = static_cast<double>(p);
  for (int64_t i = 0; i < n; ++i) mask[i] = rng.uniform() >= threshold ? scale : T(0);
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = x[i] * mask[i];
  });
}

template <class T>
void dropout_backward(int64_t n, const T* mask, const T* dy, T* dx) {
  elementwise_chunks(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] += dy[i] * mask[i];
  });
}

template void dropout_forward<float>(int64_t, const float*, float, Rng&, float*, float*);
template void dropout_forward<double>(int64_t, const double*, double, Rng&, double*, double*);
template void dropout_backward<float>(int64_t, const float*, const float*, float*);
template void dropout_backward<double>(int64_t, const double*, const double*, double*);

}  // namespace piconas::ops
