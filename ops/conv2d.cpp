#include "ops/conv2d.h"

#include "ops/depthwise_conv2d.h"

namespace piconas::ops {

ConvShape conv2d_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  PICONAS_CHECK(x.size() == 4 && w.size() == 4,
                "conv2d: input " << shape_str(x) << " must be NCHW and weight " << shape_str(w)
                                 << " OIHW");
  PICONAS_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 &&
                    p.pad_h >= 0 && p.pad_w >= 0 && p.groups >= 1,
                "conv2d: invalid params stride " << p.stride_h << "x" << p.stride_w << " pad "
                                                 << p.pad_h << "x" << p.pad_w << " dilation "
                                                 << p.dilation_h << "x" << p.dilation_w
                                                 << " groups " << p.groups);
  ConvShape s{};
  s.batch = x[0];
  s.in_channels = x[1];
  s.in_h = x[2];
  s.in_w = x[3];
  s.out_channels = w[0];
  s.kernel_h = w[2];
  s.kernel_w = w[3];
  s.stride_h = p.stride_h;
  s.stride_w = p.stride_w;
  s.pad_h = p.pad_h;
  s.pad_w = p.pad_w;
  s.dilation_h = p.dilation_h;
  s.dilation_w = p.dilation_w;
  s.groups = p.groups;
  PICONAS_CHECK(s.in_channels % s.groups == 0 && s.out_channels % s.groups == 0 &&
                    w[1] * s.groups == s.in_channels,
                "conv2d: input " << shape_str(x) << " and weight " << shape_str(w)
                                 << " do not match groups=" << s.groups);
  PICONAS_CHECK(s.kernel_h >= 1 && s.kernel_w >= 1 && s.out_channels >= 1,
                "conv2d: empty weight " << shape_str(w));
  int64_t span_h = s.dilation_h * (s.kernel_h - 1) + 1, span_w = s.dilation_w * (s.kernel_w - 1) + 1;
  PICONAS_CHECK(s.in_h + 2 * s.pad_h >= span_h && s.in_w + 2 * s.pad_w >= span_w,
                "conv2d: kernel " << shape_str(w) << " with dilation " << s.dilation_h << "x"
                                  << s.dilation_w << " does not fit input " << shape_str(x)
                                  << " padded by " << s.pad_h << "x" << s.pad_w);
  s.out_h = (s.in_h + 2 * s.pad_h - span_h) / s.stride_h + 1;
  s.out_w = (s.in_w + 2 * s.pad_w - span_w) / s.stride_w + 1;
  return s;
}

ConvAlgo select_conv_algo(const ConvShape& s) {
  if (is_depthwise(s)) return ConvAlgo::Depthwise;
  if (s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 &&
      s.pad_w == 0)
    return ConvAlgo::Pointwise;
  return ConvAlgo::Im2colGemm;
}

const char* conv_algo_name(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::Auto: return "auto";
    case ConvAlgo::Naive: return "naive";
    case ConvAlgo::Im2colGemm: return "im2col_gemm";
    case ConvAlgo::Pointwise: return "pointwise";
    case ConvAlgo::Depthwise: return "depthwise";
  }
  return "unknown";
}

}  // namespace piconas::ops
