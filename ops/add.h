// add: y = a + b elementwise over n values (same shapes; residual connections).
// Backward ACCUMULATES dy into da and db (either may be null).
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void add_forward(int64_t n, const T* a, const T* b, T* y);
template <class T>
void add_backward(int64_t n, const T* dy, T* da, T* db);

}  // namespace piconas::ops
