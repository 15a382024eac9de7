// Internal to ops/conv2d: the register-blocked forward of a 1x1 convolution (ConvAlgo::Pointwise)
// on a range of columns of one image and group, with no GEMM packing:
//   y[o, q] = bias[o] + sum_c w[o, c] * x[c, q]   for o < out_channels, q < cols.
// x and y rows (channels) have leading dimension ld (the image's h * w), w is [out, in].
// A pass keeps a block of output channels times a few vectors of columns in registers (AVX2:
// 4 channels x 3 vectors, AVX-512: 8 x 3) and reads each input vector once for the whole block;
// the column panel stays in L1 while the blocks of channels sweep it. Each output is one
// multiply-add chain over c in order from zero, then + bias, the same for any blocking or thread
// count (Eigen's GEMM splits the chain in two on its column remainders: the last bits differ).
#pragma once
#include <cstdint>
#include <vector>

namespace piconas::ops {

// The weights in the kernel's order: [block][c][o % block], zero past out_channels.
template <class T>
std::vector<T> pack_pointwise_weights(int64_t out_channels, int64_t in_channels, const T* w);

template <class T>
void pointwise_forward_columns(int64_t out_channels, int64_t in_channels, int64_t cols,
                               const T* packed_w, const T* bias, const T* x, int64_t ld, T* y);

// Loop-for-loop oracle of pointwise_forward_columns (double sums).
template <class T>
void pointwise_forward_columns_naive(int64_t out_channels, int64_t in_channels, int64_t cols,
                                     const T* w, const T* bias, const T* x, int64_t ld, T* y);

}  // namespace piconas::ops
