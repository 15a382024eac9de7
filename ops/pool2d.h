// PoolShape: the shape of a 2-D pooling window over NCHW, shared by avg_pool2d and max_pool2d.
// out = (in + 2*pad - kernel) / stride + 1 (floor). Padding taps never win a max and, for
// average pooling, are counted only when count_include_pad is set (NAS-Bench-201 excludes them).
#pragma once
#include <cstdint>

#include "core/error.h"

namespace piconas::ops {

struct Pool2dParams {
  int64_t kernel_h, kernel_w;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  bool count_include_pad = false;
};

struct PoolShape {
  int64_t batch, channels, in_h, in_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  bool count_include_pad;
  int64_t out_h, out_w;
};

// Validates x [N, C, H, W] against the window; throws Error naming the shape and window.
PoolShape pool2d_shape(const Shape& x, const Pool2dParams& params);

}  // namespace piconas::ops
