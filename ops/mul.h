// mul: y = a * b elementwise over n values (same shapes).
// Backward ACCUMULATES dy*b into da and dy*a into db (either may be null).
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void mul_forward(int64_t n, const T* a, const T* b, T* y);
template <class T>
void mul_backward(int64_t n, const T* a, const T* b, const T* dy, T* da, T* db);

}  // namespace piconas::ops
