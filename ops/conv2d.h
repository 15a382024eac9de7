// conv2d: dense / grouped / dilated 2-D convolution, NCHW input, OIHW weight [out, in/groups, kh, kw].
//   y[n, o, oh, ow] = bias[o] + sum_{c in group(o), i, j} w[o, c, i, j] * x[n, c, oh*s - p + i*d, ow*s - p + j*d]
// out_h = (in_h + pad_h + pad_h_end - dilation_h*(kernel_h-1) - 1) / stride_h + 1 (likewise w):
// pad_h/pad_w zero rows/columns come before the image (top/left), pad_h_end/pad_w_end after it
// (bottom/right; -1 in Conv2dParams: the same as before, symmetric). Asymmetric padding is the
// "same" padding of an even kernel (nas/arch/lowering.h); Naive and Im2colGemm run it.
// Forward overwrites y; backward ACCUMULATES (+=) into dx, dw, dbias, any of which may be null.
// Algorithms (one visible selector, select_conv_algo; tests force each one):
//   Naive        loop-for-loop oracle,
//   Im2colGemm   im2col per image and group, then one GEMM (col2im for dx),
//   Pointwise    1x1, stride 1, no pad: GEMM straight on the NCHW image (a register-blocked
//                forward for <= 32 output channels and dx for <= 32 input channels; planes
//                below 64 pixels as one panel of the whole batch, ops/conv2d_pointwise.h),
//   Depthwise    groups == in == out channels: the direct kernels of ops/depthwise_conv2d,
//   Winograd     3x3 stride 1, one group: F(4x4, 3x3) forward, dx and dw
//                (ops/conv2d_winograd.h; rounding differs from the direct sum, see there),
//   Direct       1-4 input channels (the RGB stem), stride 1 or 2: register-blocked direct
//                forward (ops/conv2d_direct.h), im2col + GEMM backward.
// An algorithm forced on a shape it cannot handle throws Error.
#pragma once
#include <cstdint>

#include "core/error.h"

namespace piconas::ops {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // top, left
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t pad_h_end = -1, pad_w_end = -1;  // bottom, right; -1: pad_h, pad_w
};

struct ConvShape {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;
  int64_t out_h, out_w;
  int64_t pad_h_end, pad_w_end;  // resolved: bottom, right
};
inline bool symmetric_padding(const ConvShape& s) {
  return s.pad_h_end == s.pad_h && s.pad_w_end == s.pad_w;
}

// Validates x [N, C, H, W] against w [O, C/groups, KH, KW] and params; throws Error naming both shapes.
ConvShape conv2d_shape(const Shape& x, const Shape& w, const Conv2dParams& params);

enum class ConvAlgo { Auto, Naive, Im2colGemm, Pointwise, Depthwise, Winograd, Direct };
ConvAlgo select_conv_algo(const ConvShape& s);
const char* conv_algo_name(ConvAlgo algo);

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y,
                    ConvAlgo algo = ConvAlgo::Auto);
template <class T>
void conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                     T* dbias, ConvAlgo algo = ConvAlgo::Auto);

// im2col / col2im for one image and one group, an adjoint pair sharing one index formula.
// col has (in_channels/groups * kernel_h * kernel_w) rows and (out_h * out_w) columns.
// im2col overwrites col (zeros for padding taps); col2im ACCUMULATES into x_image.
template <class T>
void im2col(const ConvShape& s, int64_t group, const T* x_image, T* col);
template <class T>
void col2im(const ConvShape& s, int64_t group, const T* col, T* x_image);

}  // namespace piconas::ops
