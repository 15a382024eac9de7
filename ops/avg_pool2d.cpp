#include "ops/avg_pool2d.h"

#include <algorithm>

#include "core/parallel.h"

namespace piconas::ops {

namespace {

// The input rows/cols [lo, hi) under output position o, clipped to the image.
struct Span {
  int64_t lo, hi;
};

inline Span window(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t in) {
  int64_t start = o * stride - pad;
  return {std::max<int64_t>(start, 0), std::min(start + kernel, in)};
}

// The divisor of one window. With floor-mode output sizes and pad <= kernel / 2 (checked by
// pool2d_shape) a window never reaches past the padded border, so counting padding means the
// full kernel area.
inline int64_t divisor(const PoolShape& s, const Span& h, const Span& w) {
  if (s.count_include_pad) return s.kernel_h * s.kernel_w;
  return (h.hi - h.lo) * (w.hi - w.lo);
}

}  // namespace

template <class T>
void avg_pool2d_forward(const PoolShape& s, const T* x, T* y) {
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  parallel_for(0, s.batch * s.channels, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    T* yp = y + p * out_plane;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const Span h = window(oh, s.stride_h, s.pad_h, s.kernel_h, s.in_h);
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const Span w = window(ow, s.stride_w, s.pad_w, s.kernel_w, s.in_w);
        T acc = T(0);
        for (int64_t ih = h.lo; ih < h.hi; ++ih)
          for (int64_t iw = w.lo; iw < w.hi; ++iw) acc += xp[ih * s.in_w + iw];
        yp[oh * s.out_w + ow] = acc / static_cast<T>(divisor(s, h, w));
      }
    }
  });
}

template <class T>
void avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx) {
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  parallel_for(0, s.batch * s.channels, [&](int64_t p) {
    const T* gp = dy + p * out_plane;
    T* dp = dx + p * in_plane;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const Span h = window(oh, s.stride_h, s.pad_h, s.kernel_h, s.in_h);
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const Span w = window(ow, s.stride_w, s.pad_w, s.kernel_w, s.in_w);
        const T g = gp[oh * s.out_w + ow] / static_cast<T>(divisor(s, h, w));
        for (int64_t ih = h.lo; ih < h.hi; ++ih)
          for (int64_t iw = w.lo; iw < w.hi; ++iw) dp[ih * s.in_w + iw] += g;
      }
    }
  });
}

template void avg_pool2d_forward<float>(const PoolShape&, const float*, float*);
template void avg_pool2d_forward<double>(const PoolShape&, const double*, double*);
template void avg_pool2d_backward<float>(const PoolShape&, const float*, float*);
template void avg_pool2d_backward<double>(const PoolShape&, const double*, double*);

}  // namespace piconas::ops
