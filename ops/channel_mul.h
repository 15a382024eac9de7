// channel_mul: y[p, i] = x[p, i] * g[p] for p in [0, planes), i in [0, plane): each channel plane
// of x (NCHW, planes = N * C, plane = H * W) scaled by its own gate value (g is [N, C]). The
// channel scale of MobileNetV3's squeeze-and-excitation block.
// Backward ACCUMULATES dy * g into dx and sum_i dy * x into dg (either may be null).
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void channel_mul_forward(int64_t planes, int64_t plane, const T* x, const T* g, T* y);
template <class T>
void channel_mul_backward(int64_t planes, int64_t plane, const T* x, const T* g, const T* dy, T* dx,
                          T* dg);

// The loop-for-loop twin (the test oracle).
template <class T>
void channel_mul_forward_naive(int64_t planes, int64_t plane, const T* x, const T* g, T* y);

}  // namespace piconas::ops
