#include "ops/conv2d_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "core/gemm.h"
#include "core/parallel.h"
#include "ops/conv2d_pointwise.h"
#include "ops/elementwise.h"

namespace piconas::ops {

namespace {

constexpr int64_t kPadding = -1;
// Bytes of column matrix per GEMM: the im2col tile and the GEMM's packed panels then stay in
// the 1 MiB per-core L2. 256-512 KiB measured best for
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

// Column rows of channels [c0, c1) of one group for output rows [oh0, oh1); col starts at
// channel c0's first row and has (oh1 - oh0) * out_w columns.
template <class T>
void im2col_rows(const ConvShape& s, const T* x_group, T* col, int64_t c0, int64_t c1,
                 int64_t oh0, int64_t oh1) {
  const int64_t ld = (oh1 - oh0) * s.out_w, sw = s.stride_w;
  const int64_t row0 = c0 * s.kernel_h * s.kernel_w;
  for_each_run(s, c0, c1, oh0, oh1, [&](int64_t r, int64_t q, int64_t count, int64_t off) {
    T* dst = col + (r - row0) * ld + q;
    const T* src = x_group + off;
    // Constant strides 1 and 2 let the compiler vectorise the gather.
    if (off == kPadding) std::fill_n(dst, count, T(0));
    else if (sw == 1) std::copy_n(src, count, dst);
    else if (sw == 2)
      for (int64_t t = 0; t < count; ++t) dst[t] = src[2 * t];
    else
      for (int64_t t = 0; t < count; ++t) dst[t] = src[t * sw];
  });
}

template <class T>
void col2im_rows(const ConvShape& s, const T* col, T* x_group, int64_t c0, int64_t c1,
                 int64_t oh0, int64_t oh1) {
  const int64_t ld = (oh1 - oh0) * s.out_w, sw = s.stride_w;
  const int64_t row0 = c0 * s.kernel_h * s.kernel_w;
  for_each_run(s, c0, c1, oh0, oh1, [&](int64_t r, int64_t q, int64_t count, int64_t off) {
    if (off == kPadding) return;
    const T* src = col + (r - row0) * ld + q;
    T* dst = x_group + off;
    if (sw == 1)
      for (int64_t t = 0; t < count; ++t) dst[t] += src[t];
    else
      for (int64_t t = 0; t < count; ++t) dst[t * sw] += src[t];
  });
}

// The work of a call is the batch * out_h "image rows", cut into contiguous chunks whose
// number is fixed by the size (core/parallel.h fixed_part_count), not by the thread count: the
// GEMM shapes and the weight-gradient partial sums, hence every rounding, are the same for any
// thread count. One parallel region per call. A batch of at least as many images as chunks is
// cut between whole images only: every image then runs the same GEMMs, so its output and dx
// are the same bits in any batch (a data-parallel rank's shard computes each image as the whole
// batch does). A smaller batch is cut by rows, inside images (a batch of 1 still uses every
// part). Each chunk runs single-threaded GEMMs on its own scratch; its rows are visited as
// segments (image n, output rows [oh0, oh1)).
struct RowSplit {
  int64_t rows, chunks;
  int64_t unit;  // the rows a chunk boundary never cuts: out_h (whole images) or 1
  int64_t begin(int64_t chunk) const { return rows / unit * chunk / chunks * unit; }
};

RowSplit split_rows(const ConvShape& s) {
  const int64_t rows = s.batch * s.out_h, chunks = fixed_part_count(rows);
  return {rows, chunks, s.batch >= chunks ? s.out_h : 1};
}

template <class Segment>
void for_each_segment(const ConvShape& s, int64_t lo, int64_t hi, Segment&& segment) {
  for (int64_t r = lo; r < hi;) {
    const int64_t n = r / s.out_h, oh0 = r % s.out_h;
    const int64_t oh1 = std::min(s.out_h, oh0 + (hi - r));
    segment(n, oh0, oh1);
    r += oh1 - oh0;
  }
}

// Output rows per GEMM so that a column tile of col_rows rows fits kColTileBytes.
int64_t tile_rows(const ConvShape& s, int64_t col_rows, int64_t elem_size) {
  const int64_t rows = kColTileBytes / std::max<int64_t>(1, col_rows * s.out_w * elem_size);
  return std::clamp<int64_t>(rows, 1, s.out_h);
}

template <class T>
std::unique_ptr<T[]> scratch(int64_t size) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(std::max<int64_t>(size, 1))]);
}

// Prepares the output tile y [rows x cols] (leading dimension ld) of a GEMM and returns its
// beta: with a bias the tile is filled with bias[o] and the GEMM accumulates onto it (beta 1),
// which saves both the zero fill of a beta-0 GEMM and a separate bias pass.
template <class T>
T start_output(const T* bias, int64_t rows, int64_t cols, T* y, int64_t ld) {
  if (bias == nullptr) return T(0);
  for (int64_t o = 0; o < rows; ++o) std::fill_n(y + o * ld, cols, bias[o]);
  return T(1);
}

// dbias[o] += sum_q dy[o, q] for o < rows, q < cols, dy with leading dimension ld.
template <class T>
void add_row_sums(const T* dy, int64_t rows, int64_t cols, int64_t ld, T* dbias) {
  for (int64_t o = 0; o < rows; ++o) {
    T sum = 0;
    const T* row = dy + o * ld;
    for (int64_t q = 0; q < cols; ++q) sum += row[q];
    dbias[o] += sum;
  }
}

// One `size`-element partial sum per chunk, in a block of the tensor allocator (large blocks are
// cached, so repeated calls do not fault in fresh pages); each chunk zeroes its own.
template <class T>
class Partials {
 public:
  Partials(int64_t chunks, int64_t size) : size_(size) {
    if (chunks * size > 0)
      data_ = static_cast<T*>(allocate_block(static_cast<size_t>(chunks * size) * sizeof(T),
                                             &capacity_));
  }
  ~Partials() { free_block(data_, capacity_); }
  Partials(const Partials&) = delete;
  Partials& operator=(const Partials&) = delete;

  // Chunk c's partial, zeroed; null when there are none.
  T* start(int64_t c) {
    if (data_ == nullptr) return nullptr;
    std::fill_n(data_ + c * size_, size_, T(0));
    return data_ + c * size_;
  }

  // out[i] += partial[0][i] + partial[1][i] + ..., always in chunk order (elements in parallel).
  void add_to(int64_t chunks, T* out) const {
    if (out == nullptr || data_ == nullptr) return;
    const T* data = data_;
    const int64_t size = size_;
    elementwise_chunks(size, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T sum = data[i];
        for (int64_t c = 1; c < chunks; ++c) sum += data[c * size + i];
        out[i] += sum;
      }
    });
  }

 private:
  int64_t size_;
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

// dx of image n through a split over input channels: the rows of the column matrix that
// belong to channels [c0, c1) scatter only into those channels of dx, so the chunks never
// write the same element. Used for images whose rows were cut between chunks. The channel
// ranges are fixed by the size (the GEMM shapes do not depend on the thread count).
template <class T>
void backward_dx_by_channels(const ConvShape& s, int64_t n, const T* w, const T* dy, T* dx) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t taps = s.kernel_h * s.kernel_w, k = cg * taps, n_out = s.out_h * s.out_w;
  const int64_t plane = s.in_h * s.in_w;
  const int64_t parts = fixed_part_count(s.in_channels);
  parallel_for(0, parts, [&](int64_t part) {
    const int64_t c_lo = s.in_channels * part / parts, c_hi = s.in_channels * (part + 1) / parts;
    const int64_t tile = tile_rows(s, (c_hi - c_lo) * taps, sizeof(T));
    auto col = scratch<T>((c_hi - c_lo) * taps * tile * s.out_w);
    for (int64_t g = c_lo / cg; g * cg < c_hi; ++g) {
      const int64_t c0 = std::max(c_lo, g * cg) - g * cg, c1 = std::min(c_hi, (g + 1) * cg) - g * cg;
      const T* dy_g = dy + (n * s.out_channels + g * og) * n_out;
      T* dx_g = dx + (n * s.in_channels + g * cg) * plane;
      for (int64_t oh0 = 0; oh0 < s.out_h; oh0 += tile) {
        const int64_t oh1 = std::min(s.out_h, oh0 + tile), cols = (oh1 - oh0) * s.out_w;
        gemm(Trans::Yes, Trans::No, (c1 - c0) * taps, cols, og, T(1), w + g * og * k + c0 * taps,
             k, dy_g + oh0 * s.out_w, n_out, T(0), col.get(), cols);
        col2im_rows(s, col.get(), dx_g, c0, c1, oh0, oh1);
      }
    }
  });
}

}  // namespace

bool is_pointwise(const ConvShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
         s.pad_h == 0 && s.pad_w == 0 && symmetric_padding(s);
}

// x_image is the whole image [in_channels, in_h, in_w]; group picks its channels.
template <class T>
void im2col(const ConvShape& s, int64_t group, const T* x_image, T* col) {
  PICONAS_CHECK(group >= 0 && group < s.groups, "im2col: group " << group << " of " << s.groups);
  const int64_t cg = s.in_channels / s.groups, rows_per_channel = s.kernel_h * s.kernel_w;
  const T* x_group = x_image + group * cg * s.in_h * s.in_w;
  parallel_chunks(0, cg, [&](int64_t c0, int64_t c1) {
    im2col_rows(s, x_group, col + c0 * rows_per_channel * s.out_h * s.out_w, c0, c1, 0, s.out_h);
  });
}

template <class T>
void col2im(const ConvShape& s, int64_t group, const T* col, T* x_image) {
  PICONAS_CHECK(group >= 0 && group < s.groups, "col2im: group " << group << " of " << s.groups);
  const int64_t cg = s.in_channels / s.groups, rows_per_channel = s.kernel_h * s.kernel_w;
  T* x_group = x_image + group * cg * s.in_h * s.in_w;
  parallel_chunks(0, cg, [&](int64_t c0, int64_t c1) {
    col2im_rows(s, col + c0 * rows_per_channel * s.out_h * s.out_w, x_group, c0, c1, 0, s.out_h);
  });
}

template <class T>
void conv2d_forward_im2col(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t k = cg * s.kernel_h * s.kernel_w, n_out = s.out_h * s.out_w;
  const int64_t plane = s.in_h * s.in_w, tile = tile_rows(s, k, sizeof(T));
  const RowSplit split = split_rows(s);
  parallel_for(0, split.chunks, [&](int64_t chunk) {
    auto col = scratch<T>(k * tile * s.out_w);
    for_each_segment(s, split.begin(chunk), split.begin(chunk + 1), [&](int64_t n, int64_t a, int64_t b) {
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* x_g = x + (n * s.in_channels + g * cg) * plane;
        T* y_g = y + (n * s.out_channels + g * og) * n_out;
        for (int64_t oh0 = a; oh0 < b; oh0 += tile) {
          const int64_t oh1 = std::min(b, oh0 + tile), cols = (oh1 - oh0) * s.out_w;
          T* y_tile = y_g + oh0 * s.out_w;
          im2col_rows(s, x_g, col.get(), 0, cg, oh0, oh1);
          const T beta = start_output(bias ? bias + g * og : nullptr, og, cols, y_tile, n_out);
          gemm(Trans::No, Trans::No, og, cols, k, T(1), w + g * og * k, k, col.get(), cols, beta,
               y_tile, n_out);
        }
      }
    });
  });
}

template <class T>
void conv2d_backward_im2col(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* dbias) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t k = cg * s.kernel_h * s.kernel_w, n_out = s.out_h * s.out_w;
  const int64_t plane = s.in_h * s.in_w, dw_size = s.out_channels * k;
  const int64_t tile = tile_rows(s, k, sizeof(T));
  const RowSplit split = split_rows(s);
  Partials<T> dw_parts(dw ? split.chunks : 0, dw_size);
  Partials<T> db_parts(dbias ? split.chunks : 0, s.out_channels);
  parallel_for(0, split.chunks, [&](int64_t chunk) {
    T* dw_part = dw_parts.start(chunk);
    T* db_part = db_parts.start(chunk);
    auto col = scratch<T>(dw || dx ? k * tile * s.out_w : 0);
    for_each_segment(s, split.begin(chunk), split.begin(chunk + 1), [&](int64_t n, int64_t a, int64_t b) {
      const T* dy_n = dy + n * s.out_channels * n_out;
      if (db_part) add_row_sums(dy_n + a * s.out_w, s.out_channels, (b - a) * s.out_w, n_out, db_part);
      // An image cut between chunks gets its dx from backward_dx_by_channels instead: the
      // col2im of neighbouring row ranges overlap.
      const bool whole_image = a == 0 && b == s.out_h;
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* w_g = w + g * og * k;
        const T* dy_g = dy_n + g * og * n_out;
        for (int64_t oh0 = a; oh0 < b; oh0 += tile) {
          const int64_t oh1 = std::min(b, oh0 + tile), cols = (oh1 - oh0) * s.out_w;
          if (dw_part) {  // dw_g += dy_tile [og x cols] * col^T [cols x k]
            im2col_rows(s, x + (n * s.in_channels + g * cg) * plane, col.get(), 0, cg, oh0, oh1);
            gemm(Trans::No, Trans::Yes, og, k, cols, T(1), dy_g + oh0 * s.out_w, n_out, col.get(),
                 cols, T(1), dw_part + g * og * k, k);
          }
          if (dx && whole_image) {  // col = w_g^T [k x og] * dy_tile [og x cols], scattered back
            gemm(Trans::Yes, Trans::No, k, cols, og, T(1), w_g, k, dy_g + oh0 * s.out_w, n_out, T(0),
                 col.get(), cols);
            col2im_rows(s, col.get(), dx + (n * s.in_channels + g * cg) * plane, 0, cg, oh0, oh1);
          }
        }
      }
    });
  });
  if (dx)
    for (int64_t n = 0; n < s.batch; ++n) {
      bool cut = false;
      for (int64_t c = 1; c < split.chunks; ++c) {
        const int64_t r = split.begin(c);
        cut = cut || (r / s.out_h == n && r % s.out_h != 0);
      }
      if (cut) backward_dx_by_channels(s, n, w, dy, dx);
    }
  dw_parts.add_to(split.chunks, dw);
  db_parts.add_to(split.chunks, dbias);
}

// Pointwise: per image segment and group, y_g [og x cols] = w_g [og x cg] * x_g [cg x cols]
// straight on the NCHW planes (leading dimension h*w), dw_g += dy_g * x_g^T and
// dx_g += w_g^T * dy_g; no column matrix, and row segments of one image never overlap.
// The register-blocked pointwise forward (ops/conv2d_pointwise.h) for few output channels on
// planes of at least 64 pixels, Eigen's GEMM otherwise. bench_conv2d, batch 32, 1 thread, CPU
// time, blocked / GEMM: AVX2 0.72-0.81 on pw144_32_24 and 0.83-0.88 on 192->32 @12 and
// 32->192 @12, but 1.7 on pw16_96_48, 1.6 on 960->160 @3 and 1.1 on 384->64 @6 (Eigen's
// AVX2 kernel of 24 x 4 outputs has no remainder there); AVX-512 0.67-0.73 with <= 32 channels.
// The same kernel computes dx (cg outputs from og inputs) with AVX-512. Planes below
// 64 pixels (groups 1) run as one panel of the whole batch (ops/conv2d_pointwise.h).
constexpr int64_t kBlockedPointwiseMaxChannels = 32;
constexpr int64_t kBlockedPointwiseMinPixels = 64;

bool use_blocked_pointwise(int64_t out_channels, int64_t plane) {
  return out_channels <= kBlockedPointwiseMaxChannels && plane >= kBlockedPointwiseMinPixels;
}

template <class T>
void conv2d_forward_pointwise(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  if (use_batch_pointwise(s)) return pointwise_forward_batch(s, x, w, bias, y);
  const int64_t hw = s.in_h * s.in_w;
  const RowSplit split = split_rows(s);
  const bool blocked = use_blocked_pointwise(og, hw);
  std::vector<std::vector<T>> packed_w;
  for (int64_t g = 0; blocked && g < s.groups; ++g)
    packed_w.push_back(pack_pointwise_weights(og, cg, w + g * og * cg));
  parallel_for(0, split.chunks, [&](int64_t chunk) {
    for_each_segment(s, split.begin(chunk), split.begin(chunk + 1), [&](int64_t n, int64_t a, int64_t b) {
      const int64_t q0 = a * s.out_w, cols = (b - a) * s.out_w;
      for (int64_t g = 0; g < s.groups; ++g) {
        T* y_g = y + (n * s.out_channels + g * og) * hw + q0;
        if (blocked) {
          pointwise_forward_columns(og, cg, cols, packed_w[g].data(),
                                    bias ? bias + g * og : nullptr,
                                    x + (n * s.in_channels + g * cg) * hw + q0, hw, y_g);
          continue;
        }
        const T beta = start_output(bias ? bias + g * og : nullptr, og, cols, y_g, hw);
        gemm(Trans::No, Trans::No, og, cols, cg, T(1), w + g * og * cg, cg,
             x + (n * s.in_channels + g * cg) * hw + q0, hw, beta, y_g, hw);
      }
    });
  });
}

template <class T>
void conv2d_backward_pointwise(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias) {
  if (use_batch_pointwise(s)) return pointwise_backward_batch(s, x, w, dy, dx, dw, dbias);
  const int64_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const int64_t hw = s.in_h * s.in_w, dw_size = s.out_channels * cg;
  const RowSplit split = split_rows(s);
  // dx = w^T * dy is a pointwise forward with cg outputs: the register-blocked kernel, added
  // into dx, where it measured faster (ops/conv2d_pointwise.h).
  const bool blocked_dx = use_blocked_pointwise_dx(cg, hw);
  std::vector<std::vector<T>> packed_w_t;
  for (int64_t g = 0; blocked_dx && dx && g < s.groups; ++g)
    packed_w_t.push_back(pack_pointwise_weights_transposed(og, cg, w + g * og * cg));
  // Eigen computes our row-major product as the column-major transposed one and packs its
  // left operand, the right factor of dw_g = dy_g * x_g^T, with a transpose of our rows: the
  // slow packing. With fewer output than input channels the partials hold dw_g^T = x_g * dy_g^T
  // instead, so that the transposed packing is of dy (the smaller operand); they are transposed
  // into dw at the end.
  const bool dw_transposed = og < cg;
  Partials<T> dw_parts(dw ? split.chunks : 0, dw_size);
  Partials<T> db_parts(dbias ? split.chunks : 0, s.out_channels);
  parallel_for(0, split.chunks, [&](int64_t chunk) {
    T* dw_part = dw_parts.start(chunk);
    T* db_part = db_parts.start(chunk);
    for_each_segment(s, split.begin(chunk), split.begin(chunk + 1), [&](int64_t n, int64_t a, int64_t b) {
      const int64_t q0 = a * s.out_w, cols = (b - a) * s.out_w;
      if (db_part) add_row_sums(dy + n * s.out_channels * hw + q0, s.out_channels, cols, hw, db_part);
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* x_g = x + (n * s.in_channels + g * cg) * hw + q0;
        const T* dy_g = dy + (n * s.out_channels + g * og) * hw + q0;
        T* dx_g = dx ? dx + (n * s.in_channels + g * cg) * hw + q0 : nullptr;
        if (dw_part && dw_transposed)
          gemm(Trans::No, Trans::Yes, cg, og, cols, T(1), x_g, hw, dy_g, hw, T(1),
               dw_part + g * og * cg, og);
        else if (dw_part)
          gemm(Trans::No, Trans::Yes, og, cg, cols, T(1), dy_g, hw, x_g, hw, T(1),
               dw_part + g * og * cg, cg);
        if (dx && blocked_dx)
          pointwise_forward_columns(cg, og, cols, packed_w_t[g].data(), static_cast<const T*>(nullptr),
                                    dy_g, hw, dx_g, PointwiseStore::Add);
        else if (dx)
          gemm(Trans::Yes, Trans::No, cg, cols, og, T(1), w + g * og * cg, cg, dy_g, hw, T(1), dx_g,
               hw);
      }
    });
  });
  if (dw && dw_transposed) {
    std::vector<T> dw_t(static_cast<size_t>(dw_size), T(0));
    dw_parts.add_to(split.chunks, dw_t.data());
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t o = 0; o < og; ++o)
        for (int64_t c = 0; c < cg; ++c)
          dw[(g * og + o) * cg + c] += dw_t[static_cast<size_t>(g * og * cg + c * og + o)];
  } else {
    dw_parts.add_to(split.chunks, dw);
  }
  db_parts.add_to(split.chunks, dbias);
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
