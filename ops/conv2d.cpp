#include "ops/conv2d.h"

#include "ops/conv2d_direct.h"
#include "ops/conv2d_gemm.h"
#include "ops/conv2d_winograd.h"
#include "ops/depthwise_conv2d.h"

namespace piconas::ops {

ConvShape conv2d_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  PICONAS_CHECK(x.size() == 4 && w.size() == 4,
                "conv2d: input " << shape_str(x) << " must be NCHW and weight " << shape_str(w)
                                 << " OIHW");
  PICONAS_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 &&
                    p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h_end >= -1 && p.pad_w_end >= -1 &&
                    p.groups >= 1,
                "conv2d: invalid params stride " << p.stride_h << "x" << p.stride_w << " pad "
                                                 << p.pad_h << "x" << p.pad_w << " end "
                                                 << p.pad_h_end << "x" << p.pad_w_end << " dilation "
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
  s.pad_h_end = p.pad_h_end < 0 ? p.pad_h : p.pad_h_end;
  s.pad_w_end = p.pad_w_end < 0 ? p.pad_w : p.pad_w_end;
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
  const int64_t padded_h = s.in_h + s.pad_h + s.pad_h_end, padded_w = s.in_w + s.pad_w + s.pad_w_end;
  PICONAS_CHECK(padded_h >= span_h && padded_w >= span_w,
                "conv2d: kernel " << shape_str(w) << " with dilation " << s.dilation_h << "x"
                                  << s.dilation_w << " does not fit input " << shape_str(x)
                                  << " padded to " << padded_h << "x" << padded_w);
  s.out_h = (padded_h - span_h) / s.stride_h + 1;
  s.out_w = (padded_w - span_w) / s.stride_w + 1;
  return s;
}

// Below this many input or output channels, or output pixels over the batch, the Winograd
// transforms cost more than the GEMMs save or a single tile block leaves a thread idle
// (bench_conv2d: conv32_3x3_24 batch 1, 576 pixels, is faster with im2col; batch 32 and
// conv64_3x3_56 batch 1, 3136 pixels, are 1.8-1.9x faster with Winograd).
constexpr int64_t kWinogradMinChannels = 8;
constexpr int64_t kWinogradMinPixels = 2048;

ConvAlgo select_conv_algo(const ConvShape& s) {
  if (is_depthwise(s)) return ConvAlgo::Depthwise;
  if (is_pointwise(s)) return ConvAlgo::Pointwise;
  // Measured on the RGB stem (bench_conv2d stem_3x3s2_96); 4-channel inputs stay with im2col.
  if (is_direct(s) && s.in_channels <= 3 && s.kernel_h * s.kernel_w > 1) return ConvAlgo::Direct;
  if (is_winograd(s) && s.in_channels >= kWinogradMinChannels &&
      s.out_channels >= kWinogradMinChannels &&
      s.batch * s.out_h * s.out_w >= kWinogradMinPixels)
    return ConvAlgo::Winograd;
  return ConvAlgo::Im2colGemm;
}

const char* conv_algo_name(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::Auto: return "auto";
    case ConvAlgo::Naive: return "naive";
    case ConvAlgo::Im2colGemm: return "im2col_gemm";
    case ConvAlgo::Pointwise: return "pointwise";
    case ConvAlgo::Depthwise: return "depthwise";
    case ConvAlgo::Winograd: return "winograd";
    case ConvAlgo::Direct: return "direct";
  }
  return "unknown";
}

namespace {

// Loop-for-loop oracle: y[n, o, oh, ow] exactly as the formula in conv2d.h.
template <class T>
void conv2d_forward_naive(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t o = 0; o < s.out_channels; ++o)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          double sum = bias ? double(bias[o]) : 0.0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < s.kernel_h; ++i)
              for (int64_t j = 0; j < s.kernel_w; ++j) {
                const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
                if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
                const int64_t xc = (o / og) * cg + c;
                sum += double(w[((o * cg + c) * s.kernel_h + i) * s.kernel_w + j]) *
                       double(x[((n * s.in_channels + xc) * s.in_h + ih) * s.in_w + iw]);
              }
          y[((n * s.out_channels + o) * s.out_h + oh) * s.out_w + ow] = static_cast<T>(sum);
        }
}

// The same loops, each output gradient pushed back to the taps that produced it.
template <class T>
void conv2d_backward_naive(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                           T* dbias) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t o = 0; o < s.out_channels; ++o)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          const T g = dy[((n * s.out_channels + o) * s.out_h + oh) * s.out_w + ow];
          if (dbias) dbias[o] += g;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < s.kernel_h; ++i)
              for (int64_t j = 0; j < s.kernel_w; ++j) {
                const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
                const int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
                if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
                const int64_t xi = ((n * s.in_channels + (o / og) * cg + c) * s.in_h + ih) * s.in_w + iw;
                const int64_t wi = ((o * cg + c) * s.kernel_h + i) * s.kernel_w + j;
                if (dx) dx[xi] += w[wi] * g;
                if (dw) dw[wi] += x[xi] * g;
              }
        }
}

// Auto resolved through select_conv_algo; an algorithm that cannot run this shape throws.
ConvAlgo resolve_algo(const ConvShape& s, ConvAlgo algo) {
  if (algo == ConvAlgo::Auto) return select_conv_algo(s);
  PICONAS_CHECK(algo != ConvAlgo::Pointwise || is_pointwise(s),
                "conv2d: algorithm pointwise needs a 1x1 kernel, stride 1 and pad 0, got kernel "
                    << s.kernel_h << "x" << s.kernel_w << " stride " << s.stride_h << "x"
                    << s.stride_w << " pad " << s.pad_h << "x" << s.pad_w);
  PICONAS_CHECK(algo != ConvAlgo::Depthwise || is_depthwise(s),
                "conv2d: algorithm depthwise needs groups == in == out channels, got in "
                    << s.in_channels << " out " << s.out_channels << " groups " << s.groups);
  PICONAS_CHECK(algo != ConvAlgo::Winograd || is_winograd(s),
                "conv2d: algorithm winograd needs a 3x3 kernel, stride 1, no dilation, one group "
                "and pad <= 2, got kernel "
                    << s.kernel_h << "x" << s.kernel_w << " stride " << s.stride_h << "x"
                    << s.stride_w << " groups " << s.groups << " pad " << s.pad_h << "x"
                    << s.pad_w);
  PICONAS_CHECK(algo != ConvAlgo::Direct || is_direct(s),
                "conv2d: algorithm direct needs one group, at most 4 input channels, equal "
                "strides 1 or 2, no dilation and symmetric padding, got in_channels "
                    << s.in_channels << " groups " << s.groups << " stride " << s.stride_h << "x"
                    << s.stride_w << " dilation " << s.dilation_h << "x" << s.dilation_w);
  return algo;
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y,
                    ConvAlgo algo) {
  switch (resolve_algo(s, algo)) {
    case ConvAlgo::Naive: return conv2d_forward_naive(s, x, w, bias, y);
    case ConvAlgo::Im2colGemm: return conv2d_forward_im2col(s, x, w, bias, y);
    case ConvAlgo::Pointwise: return conv2d_forward_pointwise(s, x, w, bias, y);
    case ConvAlgo::Depthwise: return depthwise_conv2d_forward(s, x, w, bias, y);
    case ConvAlgo::Winograd: return conv2d_forward_winograd(s, x, w, bias, y);
    case ConvAlgo::Direct: return conv2d_forward_direct(s, x, w, bias, y);
    case ConvAlgo::Auto: break;
  }
  throw Error("conv2d_forward: unresolved algorithm");
}

template <class T>
void conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                     T* dbias, ConvAlgo algo) {
  switch (resolve_algo(s, algo)) {
    case ConvAlgo::Naive: return conv2d_backward_naive(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Im2colGemm: return conv2d_backward_im2col(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Pointwise: return conv2d_backward_pointwise(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Depthwise: return depthwise_conv2d_backward(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Winograd: return conv2d_backward_winograd(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Direct: return conv2d_backward_im2col(s, x, w, dy, dx, dw, dbias);
    case ConvAlgo::Auto: break;
  }
  throw Error("conv2d_backward: unresolved algorithm");
}

#define PICONAS_INSTANTIATE_CONV2D(T)                                                        \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*, ConvAlgo); \
  template void conv2d_backward<T>(const ConvShape&, const T*, const T*, const T*, T*, T*, T*,   \
                                   ConvAlgo);
PICONAS_INSTANTIATE_CONV2D(float)
PICONAS_INSTANTIATE_CONV2D(double)

}  // namespace piconas::ops
