// depthwise_conv2d: one kxk filter per channel (groups == in_channels == out_channels),
// weight [C, 1, KH, KW], NCHW. Hand-written direct kernels (specialised for k = 3/5/7 and
// stride 1/2, generic otherwise), vectorised by the compiler, parallel over (n, c) planes.
// Takes the ConvShape of ops/conv2d.h (conv2d_shape with groups == channels).
// Forward overwrites y; backward ACCUMULATES into dx, dw, dbias (each may be null), or with
// dx_write Overwrite writes dx (the same bits as accumulating into zeros: a fresh gradient
// needs no zero fill and no read).
// dw is reduced over the batch with per-thread partials combined in a fixed order, so the
// result is reproducible for a given thread count.
#pragma once

#include "ops/conv2d.h"
#include "ops/grad_write.h"

namespace piconas::ops {

bool is_depthwise(const ConvShape& s);
// Whether the forward / backward of s take the small-plane kernels vectorised across channels
// (planes of a few dozen elements, channels a multiple of the vector register's lanes of T;
// ops/depthwise_channels.h): same y and dx, dw rounded differently.
template <class T>
bool depthwise_forward_by_channels(const ConvShape& s);
template <class T>
bool depthwise_backward_by_channels(const ConvShape& s);

template <class T>
void depthwise_conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void depthwise_conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias, GradWrite dx_write = GradWrite::Accumulate);

template <class T>
void depthwise_conv2d_forward_naive(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void depthwise_conv2d_backward_naive(const ConvShape& s, const T* x, const T* w, const T* dy,
                                     T* dx, T* dw, T* dbias);

}  // namespace piconas::ops
