// Internal to ops/conv2d: Winograd F(4x4, 3x3) for dense 3x3 stride-1 convolutions.
// Same conventions as ops/conv2d.h (NCHW, OIHW, forward overwrites, backward accumulates,
// null gradients skipped).
//   forward: the output is cut into 4x4 tiles; each 6x6 input patch d is transformed to
//     B^T d B, each 3x3 filter g to G g G^T, the 36 products are 36 GEMMs (tiles x
//     in_channels times in_channels x out_channels, register-blocked kernels in
//     ops/winograd_tiles.h), and A^T m A gives the tile.
//     Channels are the vector lanes of every transform: a strip of image rows is copied
//     channels-last, the transformed tiles are stored [element][tile][channel], and the output
//     tiles go back to NCHW a strip of 4 rows at a time.
//   dx: the same kernel, as the convolution of dy with the filters flipped and transposed
//     (in <-> out channels) and padding 2 - pad.
//   dw: the transpose of the forward: the 4x4 dy tiles go to A dy A^T, 36 GEMMs per block
//     (out_channels x tiles times tiles x in_channels) sum their products with B^T d B over
//     the tiles, and G^T . G takes the sums back to the 3x3 taps; dbias is a plain sum.
// Rounding differs from the direct sum (the transforms multiply by up to 8 and divide by 24):
// tests/ops/test_conv2d.cpp bounds the error by 1e-4 of the sum of |w| * |x| per output in
// float (dx and dw likewise, of |w| * |dy| and |x| * |dy|), and compares float64 results
// with the naive twin to 1e-12.
// Tiles are processed in blocks of whole tile rows sized by the shape alone (for the cache,
// an even number of near-equal blocks where there are 2 tile rows), so the result does not
// depend on the thread count (dw: per-thread partial sums added in thread order, the same
// for a given thread count); each thread owns whole blocks and its own scratch, kept from
// call to call (grown to the largest shape seen, like the transformed filters of the calling
// thread). Small outputs make GEMMs of a few tiles: the selector leaves them to im2col + GEMM.
#pragma once

#include "ops/conv2d.h"

namespace piconas::ops {

// 3x3, stride 1, no dilation, one group, pad <= 2 in both directions.
bool is_winograd(const ConvShape& s);

template <class T>
void conv2d_forward_winograd(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv2d_backward_winograd(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                              T* dbias);

}  // namespace piconas::ops
