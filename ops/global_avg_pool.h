// global_avg_pool: [N, C, H, W] -> [N, C], the mean over each plane of `spatial` = H*W values.
// Forward overwrites y; backward ACCUMULATES dy / spatial into every dx of the plane.
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
void global_avg_pool_forward(int64_t planes, int64_t spatial, const T* x, T* y);
template <class T>
void global_avg_pool_backward(int64_t planes, int64_t spatial, const T* dy, T* dx);

}  // namespace piconas::ops
