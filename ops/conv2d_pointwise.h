// Internal to ops/conv2d: the register-blocked forward of a 1x1 convolution (ConvAlgo::Pointwise)
// on a range of columns of one image and group, with no GEMM packing:
//   y[o, q] = bias[o] + sum_c w[o, c] * x[c, q]   for o < out_channels, q < cols.
// x and y rows (channels) have leading dimension ld (the image's h * w), w is [out, in].
// A pass keeps a block of output channels times a few vectors of columns in registers (AVX2:
// 4 channels x 3 vectors, AVX-512: 8 x 3) and reads each input vector once for the whole block;
// the column panel stays in L1 while the blocks of channels sweep it. Each output is one
// multiply-add chain over c in order from zero, then + bias, the same for any blocking or thread
// count (Eigen's GEMM splits the chain in two on its column remainders: the last bits differ).
// PointwiseStore::Add adds that result to y instead (y[o, q] += ...): the dx of a 1x1
// convolution is this product with the transposed weights, accumulated into dx.
//
// Small planes (6x6, 3x3): per-image GEMMs there have 36 or 9 columns (Eigen repacks the
// weights for every image) or a reduction of 36 or 9 (dw). The *_batch functions gather the whole
// batch into one channel-major panel, panel[c][n * hw + q] = x[n][c][q], and run
//   forward  y  = w * x            the register-blocked kernel on the panel,
//   dx      dx += w^T * dy         the same kernel with the transposed weights, added into dx,
//   dw      dw += dy * x^T         one GEMM over the batch (reduction length batch * hw),
//   dbias   dbias += row sums of the dy panel,
// each parallel over fixed blocks of output rows. y and dx stay one multiply-add chain per
// element (the same bits in any batch, shard or thread count); dw and dbias are the same bits
// for any thread count. One group only (use_batch_pointwise).
#pragma once
#include <cstdint>
#include <vector>

#include "ops/conv2d.h"

namespace piconas::ops {

// The weights in the kernel's order: [block][c][o % block], zero past out_channels.
template <class T>
std::vector<T> pack_pointwise_weights(int64_t out_channels, int64_t in_channels, const T* w);

// The transposed weights [in][out] in the kernel's order (for dx).
template <class T>
std::vector<T> pack_pointwise_weights_transposed(int64_t out_channels, int64_t in_channels,
                                                 const T* w);

enum class PointwiseStore { Overwrite, Add };

template <class T>
void pointwise_forward_columns(int64_t out_channels, int64_t in_channels, int64_t cols,
                               const T* packed_w, const T* bias, const T* x, int64_t ld, T* y,
                               PointwiseStore store = PointwiseStore::Overwrite);

// Loop-for-loop oracle of pointwise_forward_columns (double sums, then added to y for Add).
template <class T>
void pointwise_forward_columns_naive(int64_t out_channels, int64_t in_channels, int64_t cols,
                                     const T* w, const T* bias, const T* x, int64_t ld, T* y,
                                     PointwiseStore store = PointwiseStore::Overwrite);

bool use_batch_pointwise(const ConvShape& s);

// Whether dx of a 1x1 convolution with in_channels dx rows on a plane of `plane` pixels runs
// the register-blocked kernel: <= 32 rows, >= 64 pixels, AVX-512 only (bench_conv2d
// BM_pw_mbv2_fwdbwd/16_96_48, batch 32, CPU time ref/new: AVX-512 1.05, AVX2 0.87).
bool use_blocked_pointwise_dx(int64_t in_channels, int64_t plane);

template <class T>
void pointwise_forward_batch(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void pointwise_backward_batch(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                              T* dw, T* dbias);

}  // namespace piconas::ops
