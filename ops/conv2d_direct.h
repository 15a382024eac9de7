// Internal to ops/conv2d: direct convolution for few input channels (the 3-channel RGB stem).
// Same conventions as ops/conv2d.h (NCHW, OIHW, forward overwrites y).
// With 1-4 input channels the im2col matrix has only in_channels * kh * kw rows, so the GEMM
// is mostly packing; here each output row is computed in registers instead: one vector of
// output columns for a block of 16 output channels (AVX-512), or three vectors for 4 channels
// (AVX2), or one vector for 8 channels (nets of <= 8 channels), each input vector loaded once (from
// a zero-padded, for stride 2 phase-split, copy of the image) and multiplied by the
// broadcast weights of every channel of the block. Each output sums bias, then the taps in
// (c, i, j) order, whatever the thread count. The backward pass is im2col + GEMM.
#pragma once

#include "ops/conv2d.h"

namespace piconas::ops {

// One group, 1-4 input channels, equal strides 1 or 2, no dilation, symmetric padding.
bool is_direct(const ConvShape& s);

template <class T>
void conv2d_forward_direct(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);

}  // namespace piconas::ops
