// TEMPORARY stand-in (branch conv only) so that conv2d links before the real depthwise op is
// merged: plain, obviously-correct loops, no optimisation. Replace with the real
// ops/depthwise_conv2d.cpp when merging.
#include "ops/depthwise_conv2d.h"

namespace piconas::ops {

bool is_depthwise(const ConvShape& s) {
  return s.groups == s.in_channels && s.out_channels == s.in_channels;
}

template <class T>
void depthwise_conv2d_forward_naive(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.in_channels; ++c)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          double sum = bias ? double(bias[c]) : 0.0;
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
              const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
              if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
              sum += double(w[(c * s.kernel_h + i) * s.kernel_w + j]) *
                     double(x[((n * s.in_channels + c) * s.in_h + ih) * s.in_w + iw]);
            }
          y[((n * s.in_channels + c) * s.out_h + oh) * s.out_w + ow] = static_cast<T>(sum);
        }
}

template <class T>
void depthwise_conv2d_backward_naive(const ConvShape& s, const T* x, const T* w, const T* dy,
                                     T* dx, T* dw, T* dbias) {
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.in_channels; ++c)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          const T g = dy[((n * s.in_channels + c) * s.out_h + oh) * s.out_w + ow];
          if (dbias) dbias[c] += g;
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
              const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
              if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
              const int64_t xi = ((n * s.in_channels + c) * s.in_h + ih) * s.in_w + iw;
              const int64_t wi = (c * s.kernel_h + i) * s.kernel_w + j;
              if (dx) dx[xi] += w[wi] * g;
              if (dw) dw[wi] += x[xi] * g;
            }
        }
}

template <class T>
void depthwise_conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  depthwise_conv2d_forward_naive(s, x, w, bias, y);
}

template <class T>
void depthwise_conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias) {
  depthwise_conv2d_backward_naive(s, x, w, dy, dx, dw, dbias);
}

#define PICONAS_INSTANTIATE_DEPTHWISE(T)                                                          \
  template void depthwise_conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*);  \
  template void depthwise_conv2d_backward<T>(const ConvShape&, const T*, const T*, const T*, T*,  \
                                             T*, T*);                                             \
  template void depthwise_conv2d_forward_naive<T>(const ConvShape&, const T*, const T*, const T*, \
                                                  T*);                                            \
  template void depthwise_conv2d_backward_naive<T>(const ConvShape&, const T*, const T*,          \
                                                   const T*, T*, T*, T*);
PICONAS_INSTANTIATE_DEPTHWISE(float)
PICONAS_INSTANTIATE_DEPTHWISE(double)

}  // namespace piconas::ops
