// hardswish: y = x * relu6(x + 3) / 6; dy/dx = 0 below -3, 1 above 3, (2x + 3)/6 between.
// Elementwise over n values. Forward overwrites y (y may alias x); backward receives the
// forward's input x and output y and ACCUMULATES into dx.
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void hardswish_forward(int64_t n, const T* x, T* y);
template <class T>
void hardswish_backward(int64_t n, const T* x, const T* y, const T* dy, T* dx);

}  // namespace piconas::ops
