#include "ops/global_avg_pool.h"

#include "core/parallel.h"
#include "ops/elementwise.h"

namespace piconas::ops {

namespace {
// Planes go parallel only when the whole tensor is large enough to pay for the threads.
template <class Body>
void plane_chunks(int64_t planes, int64_t spatial, Body&& body) {
  if (planes * spatial > kElementwiseParallelMin)
    parallel_chunks(0, planes, body);
  else
    body(int64_t{0}, planes);
}
}  // namespace

template <class T>
void global_avg_pool_forward(int64_t planes, int64_t spatial, const T* x, T* y) {
  plane_chunks(planes, spatial, [=](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const T* xp = x + p * spatial;
      double acc = 0.0;
      for (int64_t i = 0; i < spatial; ++i) acc += xp[i];
      y[p] = static_cast<T>(acc / static_cast<double>(spatial));
    }
  });
}

template <class T>
void global_avg_pool_backward(int64_t planes, int64_t spatial, const T* dy, T* dx) {
  plane_chunks(planes, spatial, [=](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const T g = dy[p] / static_cast<T>(spatial);
      T* dp = dx + p * spatial;
      for (int64_t i = 0; i < spatial; ++i) dp[i] += g;
    }
  });
}

template void global_avg_pool_forward<float>(int64_t, int64_t, const float*, float*);
template void global_avg_pool_forward<double>(int64_t, int64_t, const double*, double*);
template void global_avg_pool_backward<float>(int64_t, int64_t, const float*, float*);
template void global_avg_pool_backward<double>(int64_t, int64_t, const double*, double*);

}  // namespace piconas::ops
