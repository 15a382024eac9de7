// max_pool2d over NCHW (see ops/pool2d.h). Forward writes y and, per output, the flat index
// (within its input plane) of the winning input, first maximum on ties; backward routes dy to
// those indices, ACCUMULATING into dx.
#pragma once

#include "ops/pool2d.h"

namespace piconas::ops {

template <class T>
void max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* argmax);
template <class T>
void max_pool2d_backward(const PoolShape& s, const int32_t* argmax, const T* dy, T* dx);

}  // namespace piconas::ops
