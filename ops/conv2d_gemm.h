// Internal to ops/conv2d: the GEMM-based algorithms behind conv2d_forward / conv2d_backward.
// Same conventions as ops/conv2d.h (NCHW, OIHW, forward overwrites, backward accumulates,
// null gradients skipped). Callers (the dispatcher in conv2d.cpp) have already checked that
// the algorithm fits the shape: the pointwise kernels require 1x1, stride 1, pad 0.
// Parallelism: one parallel region per call. The batch * out_h output rows are cut into one
// contiguous chunk per thread (whole images at batch >= threads, row ranges of one image at
// batch 1); each chunk runs single-threaded GEMMs on column tiles in its own scratch. dw and
// dbias are reduced through per-chunk partials summed in chunk order (reproducible for a
// given thread count). dx of an image cut between chunks is computed afterwards by a split
// over input channels, since col2im of neighbouring row ranges overlaps.
#pragma once

#include "ops/conv2d.h"

namespace piconas::ops {

bool is_pointwise(const ConvShape& s);

template <class T>
void conv2d_forward_im2col(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv2d_backward_im2col(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* dbias);

template <class T>
void conv2d_forward_pointwise(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv2d_backward_pointwise(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias);

}  // namespace piconas::ops
