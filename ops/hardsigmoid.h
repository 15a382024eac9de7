// hardsigmoid: y = relu6(x + 3) / 6; dy/dx = 1/6 for -3 < x < 3, 0 elsewhere (at the kinks 0,
// as PyTorch). MobileNetV3's gate of the squeeze-and-excitation block. Elementwise over n
// values. Forward overwrites y (y may alias x); backward receives the forward's input x and
// output y and ACCUMULATES into dx.
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void hardsigmoid_forward(int64_t n, const T* x, T* y);
template <class T>
void hardsigmoid_backward(int64_t n, const T* x, const T* y, const T* dy, T* dx);

}  // namespace piconas::ops
