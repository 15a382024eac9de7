#include "ops/pixel_mul.h"

#include "core/parallel.h"

namespace piconas::ops {

// Parallel over channel planes (forward, dx) and over images (dg: each image writes its own
// gate plane, summing its channels in a fixed order).
template <class T>
void pixel_mul_forward(const PixelMulShape& s, const T* x, const T* g, T* y) {
  const int64_t plane = s.plane, channels = s.channels;
  parallel_for(0, s.images * channels, [=](int64_t q) {
    const T* gate = g + (q / channels) * plane;
    const T* src = x + q * plane;
    T* dst = y + q * plane;
#pragma omp simd
    for (int64_t i = 0; i < plane; ++i) dst[i] = src[i] * gate[i];
  });
}

template <class T>
void pixel_mul_backward(const PixelMulShape& s, const T* x, const T* g, const T* dy, T* dx, T* dg) {
  const int64_t plane = s.plane, channels = s.channels;
  if (dx)
    parallel_for(0, s.images * channels, [=](int64_t q) {
      const T* gate = g + (q / channels) * plane;
      const T* grad = dy + q * plane;
      T* d = dx + q * plane;
#pragma omp simd
      for (int64_t i = 0; i < plane; ++i) d[i] += grad[i] * gate[i];
    });
  if (dg)
    parallel_for(0, s.images, [=](int64_t n) {
      T* d = dg + n * plane;
      for (int64_t c = 0; c < channels; ++c) {
        const T* grad = dy + (n * channels + c) * plane;
        const T* src = x + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) d[i] += grad[i] * src[i];
      }
    });
}

template <class T>
void pixel_mul_forward_naive(const PixelMulShape& s, const T* x, const T* g, T* y) {
  for (int64_t n = 0; n < s.images; ++n)
    for (int64_t c = 0; c < s.channels; ++c)
      for (int64_t i = 0; i < s.plane; ++i) {
        const int64_t k = (n * s.channels + c) * s.plane + i;
        y[k] = x[k] * g[n * s.plane + i];
      }
}

template void pixel_mul_forward<float>(const PixelMulShape&, const float*, const float*, float*);
template void pixel_mul_forward<double>(const PixelMulShape&, const double*, const double*,
                                        double*);
template void pixel_mul_backward<float>(const PixelMulShape&, const float*, const float*,
                                        const float*, float*, float*);
template void pixel_mul_backward<double>(const PixelMulShape&, const double*, const double*,
                                         const double*, double*, double*);
template void pixel_mul_forward_naive<float>(const PixelMulShape&, const float*, const float*,
                                             float*);
template void pixel_mul_forward_naive<double>(const PixelMulShape&, const double*, const double*,
                                              double*);

}  // namespace piconas::ops
