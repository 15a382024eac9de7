// dropout (inverted): each value is kept with probability 1 - p and scaled by 1 / (1 - p).
// Forward draws the mask from the explicit Rng (in index order, so a seed fixes the mask) and
// writes it (0 or 1/(1-p)) for backward; p = 0 is the identity; p must be in [0, 1).
// Backward ACCUMULATES dy * mask into dx.
#pragma once
#include <cstdint>

#include "core/rng.h"

namespace piconas::ops {

template <class T>
void dropout_forward(int64_t n, const T* x, T p, Rng& rng, T* mask, T* y);
template <class T>
void dropout_backward(int64_t n, const T* mask, const T* dy, T* dx);

}  // namespace piconas::ops
