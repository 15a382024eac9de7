// pixel_mul: y[n, c, p] = x[n, c, p] * g[n, p] for n in [0, images), c in [0, channels), p in
// [0, plane): every channel of x (NCHW, plane = H * W) times the gate value of its pixel (g is
// [N, 1, H, W], broadcast over the channels). The scale of spatial attention
// (x * sigmoid(conv(x)) with a one-channel conv; PyTorch's broadcasting multiply).
// Backward ACCUMULATES dy * g into dx and sum_c dy * x into dg (either may be null).
#pragma once
#include <cstdint>

namespace piconas::ops {

struct PixelMulShape {
  int64_t images = 0, channels = 0, plane = 0;
};

template <class T>
void pixel_mul_forward(const PixelMulShape& s, const T* x, const T* g, T* y);
template <class T>
void pixel_mul_backward(const PixelMulShape& s, const T* x, const T* g, const T* dy, T* dx, T* dg);

// The loop-for-loop twin (the test oracle).
template <class T>
void pixel_mul_forward_naive(const PixelMulShape& s, const T* x, const T* g, T* y);

}  // namespace piconas::ops
