// gelu (exact): y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
// Elementwise over n values. Forward overwrites y (y may alias x); backward receives the
// forward's input x and output y and ACCUMULATES into dx.
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void gelu_forward(int64_t n, const T* x, T* y);
template <class T>
void gelu_backward(int64_t n, const T* x, const T* y, const T* dy, T* dx);

}  // namespace piconas::ops
