#include "ops/conv2d_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/gemm.h"
#include "core/parallel.h"

namespace piconas::ops {

namespace {

constexpr int64_t kPadding = -1;
// Bytes of column matrix per GEMM when a thread works on whole images: the im2col tile and the
// GEMM's packed panels then stay in the 1 MiB per-core L2. 256-512 KiB measured best for
// conv64_3x3_56 and conv32_3x3_24 in bench_conv2d; 64 KiB and whole images were slower.
constexpr int64_t kColTileBytes = 512 * 1024;

// The one index formula of im2col and col2im. Row r = (c * kernel_h + i) * kernel_w + j of the
// column matrix and column q = (oh - oh0) * out_w + ow hold
//   x[c, oh * stride_h - pad_h + i * dilation_h, ow * stride_w - pad_w + j * dilation_w]
// (c counted within the group), or zero where that tap falls in the padding.
// visit(r, q, count, x_offset) receives runs of `count` consecutive columns of one row:
// x_offset is the offset of the first tap within the group's channels (the next taps step by
// stride_w), or kPadding for a run of zeros.
template <class Visit>
void for_each_run(const ConvShape& s, int64_t c0, int64_t c1, int64_t oh0, int64_t oh1,
                  Visit&& visit) {
  const int64_t plane = s.in_h * s.in_w;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        const int64_t r = (c * s.kernel_h + i) * s.kernel_w + j;
        const int64_t shift_w = j * s.dilation_w - s.pad_w;
        // [ow_lo, ow_hi): the ow whose iw = ow * stride_w + shift_w lies in [0, in_w).
        int64_t ow_lo = shift_w >= 0 ? 0 : (-shift_w + s.stride_w - 1) / s.stride_w;
        int64_t ow_hi = s.in_w - shift_w <= 0 ? 0 : (s.in_w - 1 - shift_w) / s.stride_w + 1;
        ow_hi = std::min(ow_hi, s.out_w);
        ow_lo = std::min(ow_lo, ow_hi);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
          const int64_t q = (oh - oh0) * s.out_w;
          if (ih < 0 || ih >= s.in_h) {
            visit(r, q, s.out_w, kPadding);
            continue;
          }
          if (ow_lo > 0) visit(r, q, ow_lo, kPadding);
          if (ow_hi > ow_lo)
            visit(r, q + ow_lo, ow_hi - ow_lo, c * plane + ih * s.in_w + ow_lo * s.stride_w + shift_w);
          if (ow_hi < s.out_w) visit(r, q + ow_hi, s.out_w - ow_hi, kPadding);
        }
      }
}

// Column rows of one group for output rows [oh0, oh1); parallel over channels when not
// already inside a parallel region (each channel owns its rows of col and its plane of x).
template <class T>
void im2col_tile(const ConvShape& s, const T* x_group, T* col, int64_t oh0, int64_t oh1) {
  const int64_t ld = (oh1 - oh0) * s.out_w, sw = s.stride_w;
  parallel_chunks(0, s.in_channels / s.groups, [&](int64_t c0, int64_t c1) {
    for_each_run(s, c0, c1, oh0, oh1, [&](int64_t r, int64_t q, int64_t count, int64_t off) {
      T* dst = col + r * ld + q;
      const T* src = x_group + off;
      // Constant strides 1 and 2 let the compiler vectorise the gather.
      if (off == kPadding) std::fill_n(dst, count, T(0));
      else if (sw == 1) std::copy_n(src, count, dst);
      else if (sw == 2)
        for (int64_t t = 0; t < count; ++t) dst[t] = src[2 * t];
      else
        for (int64_t t = 0; t < count; ++t) dst[t] = src[t * sw];
    });
  });
}

template <class T>
void col2im_tile(const ConvShape& s, const T* col, T* x_group, int64_t oh0, int64_t oh1) {
  const int64_t ld = (oh1 - oh0) * s.out_w, sw = s.stride_w;
  parallel_chunks(0, s.in_channels / s.groups, [&](int64_t c0, int64_t c1) {
    for_each_run(s, c0, c1, oh0, oh1, [&](int64_t r, int64_t q, int64_t count, int64_t off) {
      if (off == kPadding) return;
      const T* src = col + r * ld + q;
      T* dst = x_group + off;
      if (sw == 1)
        for (int64_t t = 0; t < count; ++t) dst[t] += src[t];
      else
        for (int64_t t = 0; t < count; ++t) dst[t * sw] += src[t];
    });
  });
}

// How the batch is spread: `chunks` groups of whole images, one per thread, each running
// single-threaded GEMMs on column tiles of `tile_rows` output rows; or, with fewer images
// than threads, one chunk whose GEMMs, im2col and col2im are parallel on full images.
struct BatchPlan {
  int64_t chunks;
  int64_t tile_rows;
  int64_t first_image(int64_t chunk, int64_t batch) const { return batch * chunk / chunks; }
};

BatchPlan plan_batch(const ConvShape& s, int64_t col_rows, int64_t elem_size) {
  BatchPlan plan{1, s.out_h};
  if (s.batch >= num_threads() || in_parallel_region()) {
    plan.chunks = std::max<int64_t>(1, parallel_chunk_count(s.batch));
    int64_t rows = kColTileBytes / std::max<int64_t>(1, col_rows * s.out_w * elem_size);
    plan.tile_rows = std::clamp<int64_t>(rows, 1, s.out_h);
  }
  return plan;
}

template <class T>
std::unique_ptr<T[]> scratch(int64_t size) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(std::max<int64_t>(size, 1))]);
}

// y[o, q] += bias[o] for o < rows, q < cols, y with leading dimension ld.
template <class T>
void add_bias(const T* bias, int64_t rows, int64_t cols, T* y, int64_t ld) {
  for (int64_t o = 0; o < rows; ++o) {
    const T b = bias[o];
    T* row = y + o * ld;
    for (int64_t q = 0; q < cols; ++q) row[q] += b;
  }
}

// dbias[o] += sum_q dy[o, q] for one image.
template <class T>
void add_row_sums(const T* dy, int64_t rows, int64_t cols, T* dbias) {
  for (int64_t o = 0; o < rows; ++o) {
    T sum = 0;
    const T* row = dy + o * cols;
    for (int64_t q = 0; q < cols; ++q) sum += row[q];
    dbias[o] += sum;
  }
}

// out[i] += partials[0][i] + partials[1][i] + ..., always in chunk order.
template <class T>
void add_partials(const std::vector<T>& partials, int64_t chunks, int64_t size, T* out) {
  if (out == nullptr) return;
  for (int64_t i = 0; i < size; ++i) {
    T sum = partials[i];
    for (int64_t c = 1; c < chunks; ++c) sum += partials[c * size + i];
    out[i] += sum;
  }
}

}  // namespace

bool is_pointwise(const ConvShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
         s.pad_h == 0 && s.pad_w == 0;
}

template <class T>
void im2col(const ConvShape& s, int64_t group, const T* x_image, T* col) {
  PICONAS_CHECK(group >= 0 && group < s.groups, "im2col: group " << group << " of " << s.groups);
  const int64_t cg = s.in_channels / s.groups;
  im2col_tile(s, x_image + group * cg * s.in_h * s.in_w, col, 0, s.out_h);
}

template <class T>
void col2im(const ConvShape& s, int64_t group, const T* col, T* x_image) {
  PICONAS_CHECK(group >= 0 && group < s.groups, "col2im: group " << group << " of " << s.groups);
  const int64_t cg = s.in_channels / s.groups;
  col2im_tile(s, col, x_image + group * cg * s.in_h * s.in_w, 0, s.out_h);
}

template <class T>
void conv2d_forward_im2col(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t k = cg * s.kernel_h * s.kernel_w, n_out = s.out_h * s.out_w;
  const int64_t plane = s.in_h * s.in_w;
  const BatchPlan plan = plan_batch(s, k, sizeof(T));
  parallel_for(0, plan.chunks, [&](int64_t chunk) {
    auto col = scratch<T>(k * plan.tile_rows * s.out_w);
    for (int64_t n = plan.first_image(chunk, s.batch); n < plan.first_image(chunk + 1, s.batch); ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* x_g = x + (n * s.in_channels + g * cg) * plane;
        const T* w_g = w + g * og * k;
        T* y_g = y + (n * s.out_channels + g * og) * n_out;
        for (int64_t oh0 = 0; oh0 < s.out_h; oh0 += plan.tile_rows) {
          const int64_t oh1 = std::min(s.out_h, oh0 + plan.tile_rows);
          const int64_t cols = (oh1 - oh0) * s.out_w;
          im2col_tile(s, x_g, col.get(), oh0, oh1);
          gemm_parallel(Trans::No, Trans::No, og, cols, k, T(1), w_g, k, col.get(), cols, T(0),
                        y_g + oh0 * s.out_w, n_out);
          if (bias) add_bias(bias + g * og, og, cols, y_g + oh0 * s.out_w, n_out);
        }
      }
  });
}

template <class T>
void conv2d_backward_im2col(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* dbias) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t k = cg * s.kernel_h * s.kernel_w, n_out = s.out_h * s.out_w;
  const int64_t plane = s.in_h * s.in_w, dw_size = s.out_channels * k;
  const BatchPlan plan = plan_batch(s, k, sizeof(T));
  std::vector<T> dw_parts(dw ? plan.chunks * dw_size : 0, T(0));
  std::vector<T> db_parts(dbias ? plan.chunks * s.out_channels : 0, T(0));
  parallel_for(0, plan.chunks, [&](int64_t chunk) {
    T* dw_part = dw ? dw_parts.data() + chunk * dw_size : nullptr;
    T* db_part = dbias ? db_parts.data() + chunk * s.out_channels : nullptr;
    auto col = scratch<T>(dw || dx ? k * plan.tile_rows * s.out_w : 0);
    for (int64_t n = plan.first_image(chunk, s.batch); n < plan.first_image(chunk + 1, s.batch); ++n) {
      if (db_part) add_row_sums(dy + n * s.out_channels * n_out, s.out_channels, n_out, db_part);
      if (!dw && !dx) continue;
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* x_g = x + (n * s.in_channels + g * cg) * plane;
        const T* w_g = w + g * og * k;
        const T* dy_g = dy + (n * s.out_channels + g * og) * n_out;
        for (int64_t oh0 = 0; oh0 < s.out_h; oh0 += plan.tile_rows) {
          const int64_t oh1 = std::min(s.out_h, oh0 + plan.tile_rows);
          const int64_t cols = (oh1 - oh0) * s.out_w;
          const T* dy_tile = dy_g + oh0 * s.out_w;
          if (dw_part) {  // dw_g += dy_tile [og x cols] * col^T [cols x k]
            im2col_tile(s, x_g, col.get(), oh0, oh1);
            gemm_parallel(Trans::No, Trans::Yes, og, k, cols, T(1), dy_tile, n_out, col.get(), cols,
                          T(1), dw_part + g * og * k, k);
          }
          if (dx) {  // col = w_g^T [k x og] * dy_tile [og x cols], then scattered back
            gemm_parallel(Trans::Yes, Trans::No, k, cols, og, T(1), w_g, k, dy_tile, n_out, T(0),
                          col.get(), cols);
            col2im_tile(s, col.get(), dx + (n * s.in_channels + g * cg) * plane, oh0, oh1);
          }
        }
      }
    }
  });
  add_partials(dw_parts, plan.chunks, dw_size, dw);
  add_partials(db_parts, plan.chunks, s.out_channels, dbias);
}

// Pointwise: per image and group, y_g [og x hw] = w_g [og x cg] * x_g [cg x hw] straight on the
// NCHW planes, dw_g += dy_g * x_g^T and dx_g += w_g^T * dy_g; no column matrix at all.
template <class T>
void conv2d_forward_pointwise(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t hw = s.in_h * s.in_w;
  const BatchPlan plan = plan_batch(s, cg, sizeof(T));
  parallel_for(0, plan.chunks, [&](int64_t chunk) {
    for (int64_t n = plan.first_image(chunk, s.batch); n < plan.first_image(chunk + 1, s.batch); ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        T* y_g = y + (n * s.out_channels + g * og) * hw;
        gemm_parallel(Trans::No, Trans::No, og, hw, cg, T(1), w + g * og * cg, cg,
                      x + (n * s.in_channels + g * cg) * hw, hw, T(0), y_g, hw);
        if (bias) add_bias(bias + g * og, og, hw, y_g, hw);
      }
  });
}

template <class T>
void conv2d_backward_pointwise(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t hw = s.in_h * s.in_w, dw_size = s.out_channels * cg;
  const BatchPlan plan = plan_batch(s, cg, sizeof(T));
  std::vector<T> dw_parts(dw ? plan.chunks * dw_size : 0, T(0));
  std::vector<T> db_parts(dbias ? plan.chunks * s.out_channels : 0, T(0));
  parallel_for(0, plan.chunks, [&](int64_t chunk) {
    T* dw_part = dw ? dw_parts.data() + chunk * dw_size : nullptr;
    T* db_part = dbias ? db_parts.data() + chunk * s.out_channels : nullptr;
    for (int64_t n = plan.first_image(chunk, s.batch); n < plan.first_image(chunk + 1, s.batch); ++n) {
      if (db_part) add_row_sums(dy + n * s.out_channels * hw, s.out_channels, hw, db_part);
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* x_g = x + (n * s.in_channels + g * cg) * hw;
        const T* w_g = w + g * og * cg;
        const T* dy_g = dy + (n * s.out_channels + g * og) * hw;
        if (dw_part)
          gemm_parallel(Trans::No, Trans::Yes, og, cg, hw, T(1), dy_g, hw, x_g, hw, T(1),
                        dw_part + g * og * cg, cg);
        if (dx)
          gemm_parallel(Trans::Yes, Trans::No, cg, hw, og, T(1), w_g, cg, dy_g, hw, T(1),
                        dx + (n * s.in_channels + g * cg) * hw, hw);
      }
    }
  });
  add_partials(dw_parts, plan.chunks, dw_size, dw);
  add_partials(db_parts, plan.chunks, s.out_channels, dbias);
}

#define PICONAS_INSTANTIATE_CONV2D_GEMM(T)                                                       \
  template void im2col<T>(const ConvShape&, int64_t, const T*, T*);                              \
  template void col2im<T>(const ConvShape&, int64_t, const T*, T*);                              \
  template void conv2d_forward_im2col<T>(const ConvShape&, const T*, const T*, const T*, T*);    \
  template void conv2d_backward_im2col<T>(const ConvShape&, const T*, const T*, const T*, T*, T*, \
                                          T*);                                                   \
  template void conv2d_forward_pointwise<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_pointwise<T>(const ConvShape&, const T*, const T*, const T*, T*, \
                                             T*, T*);
PICONAS_INSTANTIATE_CONV2D_GEMM(float)
PICONAS_INSTANTIATE_CONV2D_GEMM(double)

}  // namespace piconas::ops
