#include "ops/max_pool2d.h"

#include <algorithm>

#include "core/parallel.h"

namespace piconas::ops {

// Taps are visited in row-major order and only a strictly larger value replaces the current
// winner, so ties go to the first maximum. The winner starts as the first in-image tap, so
// padding never wins (pool2d_shape guarantees every window holds at least one).
template <class T>
void max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* argmax) {
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  parallel_for(0, s.batch * s.channels, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    T* yp = y + p * out_plane;
    int32_t* ap = argmax + p * out_plane;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const int64_t h0 = oh * s.stride_h - s.pad_h;
      const int64_t h_lo = std::max<int64_t>(h0, 0), h_hi = std::min(h0 + s.kernel_h, s.in_h);
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const int64_t w0 = ow * s.stride_w - s.pad_w;
        const int64_t w_lo = std::max<int64_t>(w0, 0), w_hi = std::min(w0 + s.kernel_w, s.in_w);
        int64_t best = h_lo * s.in_w + w_lo;
        T best_value = xp[best];
        for (int64_t ih = h_lo; ih < h_hi; ++ih)
          for (int64_t iw = w_lo; iw < w_hi; ++iw) {
            const int64_t idx = ih * s.in_w + iw;
            if (xp[idx] > best_value) {
              best_value = xp[idx];
              best = idx;
            }
          }
        yp[oh * s.out_w + ow] = best_value;
        ap[oh * s.out_w + ow] = static_cast<int32_t>(best);
      }
    }
  });
}

template <class T>
void max_pool2d_backward(const PoolShape& s, const int32_t* argmax, const T* dy, T* dx) {
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  parallel_for(0, s.batch * s.channels, [&](int64_t p) {
    const T* gp = dy + p * out_plane;
    const int32_t* ap = argmax + p * out_plane;
    T* dp = dx + p * in_plane;
    for (int64_t o = 0; o < out_plane; ++o) dp[ap[o]] += gp[o];
  });
}

template void max_pool2d_forward<float>(const PoolShape&, const float*, float*, int32_t*);
template void max_pool2d_forward<double>(const PoolShape&, const double*, double*, int32_t*);
template void max_pool2d_backward<float>(const PoolShape&, const int32_t*, const float*, float*);
template void max_pool2d_backward<double>(const PoolShape&, const int32_t*, const double*,
                                          double*);

}  // namespace piconas::ops
