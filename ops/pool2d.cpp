#include "ops/pool2d.h"

namespace piconas::ops {

PoolShape pool2d_shape(const Shape& x, const Pool2dParams& p) {
  PICONAS_CHECK(x.size() == 4, "pool2d: input " << shape_str(x) << " must be NCHW");
  PICONAS_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1 &&
                    p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h &&
                    2 * p.pad_w <= p.kernel_w,
                "pool2d: invalid window kernel " << p.kernel_h << "x" << p.kernel_w << " stride "
                                                 << p.stride_h << "x" << p.stride_w << " pad "
                                                 << p.pad_h << "x" << p.pad_w
                                                 << " (pad must be <= kernel/2)");
  PICONAS_CHECK(x[2] + 2 * p.pad_h >= p.kernel_h && x[3] + 2 * p.pad_w >= p.kernel_w,
                "pool2d: window " << p.kernel_h << "x" << p.kernel_w << " does not fit input "
                                  << shape_str(x));
  PoolShape s{};
  s.batch = x[0];
  s.channels = x[1];
  s.in_h = x[2];
  s.in_w = x[3];
  s.kernel_h = p.kernel_h;
  s.kernel_w = p.kernel_w;
  s.stride_h = p.stride_h;
  s.stride_w = p.stride_w;
  s.pad_h = p.pad_h;
  s.pad_w = p.pad_w;
  s.count_include_pad = p.count_include_pad;
  s.out_h = (s.in_h + 2 * s.pad_h - s.kernel_h) / s.stride_h + 1;
  s.out_w = (s.in_w + 2 * s.pad_w - s.kernel_w) / s.stride_w + 1;
  return s;
}

}  // namespace piconas::ops
