// avg_pool2d over NCHW (see ops/pool2d.h for the shape and padding convention).
// Forward overwrites y; backward ACCUMULATES into dx.
#pragma once

#include "ops/pool2d.h"

namespace piconas::ops {

template <class T>
void avg_pool2d_forward(const PoolShape& s, const T* x, T* y);
template <class T>
void avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx);

}  // namespace piconas::ops
