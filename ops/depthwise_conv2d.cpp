#include "ops/depthwise_conv2d.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"

namespace piconas::ops {

bool is_depthwise(const ConvShape& s) {
  return s.groups > 0 && s.groups == s.in_channels && s.groups == s.out_channels;
}

namespace {

void check_depthwise(const ConvShape& s, const char* where) {
  PICONAS_CHECK(is_depthwise(s), where << ": not a depthwise shape (groups " << s.groups
                                       << ", in_channels " << s.in_channels << ", out_channels "
                                       << s.out_channels << ")");
}

// Every kernel works on a zero-padded copy of its input plane, so the loops over the output
// carry no bounds checks at all; the borders are handled once, by the copy. With the 12..48
// wide planes of TinyML nets a separate bounds-checked border path would cost more than the
// interior (a 7x7 kernel on a 24-wide plane has 6 border columns out of 24), the copy costs one
// load and store per input element against k*k multiply-adds per output.
//
// Padded layout: padded row r holds input row r - top; padded column c holds input column
// c - left. With `phases` = S > 1 the columns are split by c % S into S sub-planes of `pitch`
// columns each (sub-plane c % S, column c / S), so a stride-S kernel reads unit-stride.
struct PadLayout {
  int64_t rows, pitch, phases, top, left;
  int64_t size() const { return rows * pitch * phases; }
};

PadLayout pad_layout(int64_t rows_needed, int64_t cols_needed, int64_t phases, int64_t top,
                     int64_t left) {
  return {rows_needed, (cols_needed + phases - 1) / phases, phases, top, left};
}

// Copies an h x w plane into its place in `out`. The border of `out` is never written, so a
// buffer zeroed once stays a valid padded plane for every plane copied into it.
template <class T>
void copy_into_padded(const PadLayout& L, const T* x, int64_t h, int64_t w, T* out) {
  for (int64_t r = 0; r < h; ++r) {
    const T* src = x + r * w;
    T* row = out + (r + L.top) * L.pitch;
    if (L.phases == 1) {
      std::copy(src, src + w, row + L.left);
      continue;
    }
    int64_t phase_size = L.rows * L.pitch;
    for (int64_t col = 0; col < w; ++col) {
      int64_t c = col + L.left;
      row[(c % L.phases) * phase_size + c / L.phases] = src[col];
    }
  }
}

// out[oh][ow] (= bias or +=) sum_{i<KH, j<KW} w[i][j] * in[oh*S + i][ow*S + j] on a padded,
// phase-split input (phases == S). KH, KW, S are compile-time so the tap loops unroll fully
// and the ow loop vectorises with unit-stride loads.
template <class T, int KH, int KW, int S, bool Accumulate>
void corr_plane(const T* __restrict in, int64_t phase_size, int64_t pitch, const T* __restrict w,
                T bias, T* __restrict out, int64_t out_h, int64_t out_w, int64_t out_pitch) {
  T wr[KH * KW];
  for (int t = 0; t < KH * KW; ++t) wr[t] = w[t];
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const T* base = in + oh * S * pitch;
    T* o = out + oh * out_pitch;
#pragma omp simd
    for (int64_t ow = 0; ow < out_w; ++ow) {
      T acc = Accumulate ? o[ow] : bias;
#pragma GCC unroll 8
      for (int i = 0; i < KH; ++i) {
#pragma GCC unroll 8
        for (int j = 0; j < KW; ++j)
          acc += wr[i * KW + j] * base[(j % S) * phase_size + i * pitch + ow + j / S];
      }
      o[ow] = acc;
    }
  }
}

// acc[i*K + j][ow] += sum_oh dy[oh][ow] * in[oh*S + i][ow*S + j]: per-lane partial sums of the
// weight gradient, reduced over ow once per channel by the caller.
template <class T, int K, int S>
void dw_plane(const T* __restrict in, int64_t phase_size, int64_t pitch, const T* __restrict dy,
              int64_t out_h, int64_t out_w, T* __restrict acc) {
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const T* d = dy + oh * out_w;
    const T* base = in + oh * S * pitch;
#pragma GCC unroll 8
    for (int i = 0; i < K; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < K; ++j) {
        const T* xr = base + (j % S) * phase_size + i * pitch + j / S;
        T* a = acc + (i * K + j) * out_w;
#pragma omp simd
        for (int64_t ow = 0; ow < out_w; ++ow) a[ow] += d[ow] * xr[ow];
      }
    }
  }
}

// Stride-2 input gradient by phases: padded input row r = 2m + rh only receives taps
// i = rh + 2u from output row oh = m - u (likewise columns), so each of the four (rh, rw)
// phases is a stride-1 correlation of dy with a flipped sub-kernel of ceil/floor(K/2) taps.
// dyp holds dy at offset q = (K-1)/2; phase holds one phase plane of mh x mw.
template <class T, int K, int RH, int RW>
void dx_s2_phase(const ConvShape& s, const T* w, const T* dyp, int64_t pitch, int64_t mh,
                 int64_t mw, T* phase, T* dx) {
  constexpr int KHs = (K - RH + 1) / 2, KWs = (K - RW + 1) / 2, q = (K - 1) / 2;
  T wsub[KHs * KWs];
  for (int u = 0; u < KHs; ++u)
    for (int t = 0; t < KWs; ++t)
      wsub[u * KWs + t] = w[(RH + 2 * (KHs - 1 - u)) * K + RW + 2 * (KWs - 1 - t)];
  corr_plane<T, KHs, KWs, 1, false>(dyp + (q - KHs + 1) * pitch + (q - KWs + 1), 0, pitch, wsub,
                                    T(0), phase, mh, mw, mw);
  int64_t ih0 = ((RH - s.pad_h) % 2 + 2) % 2, iw0 = ((RW - s.pad_w) % 2 + 2) % 2;
  for (int64_t ih = ih0; ih < s.in_h; ih += 2) {
    const T* prow = phase + ((ih + s.pad_h) / 2) * mw;
    T* drow = dx + ih * s.in_w;
    for (int64_t iw = iw0; iw < s.in_w; iw += 2) drow[iw] += prow[(iw + s.pad_w) / 2];
  }
}

// Specialised kernels: square K x K, equal strides S in {1, 2}, no dilation.
template <class T, int K, int S>
struct Direct {
  static PadLayout x_layout(const ConvShape& s) {
    return pad_layout(std::max((s.out_h - 1) * S + K, s.in_h + s.pad_h),
                      std::max((s.out_w - 1) * S + K, s.in_w + s.pad_w), S, s.pad_h, s.pad_w);
  }

  static void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
    int64_t planes = s.batch * s.in_channels, in_size = s.in_h * s.in_w;
    int64_t out_size = s.out_h * s.out_w;
    PadLayout L = x_layout(s);
    parallel_chunks(0, planes, [&](int64_t lo, int64_t hi) {
      std::vector<T> xp(L.size(), T(0));
      for (int64_t p = lo; p < hi; ++p) {
        int64_t c = p % s.in_channels;
        copy_into_padded(L, x + p * in_size, s.in_h, s.in_w, xp.data());
        corr_plane<T, K, K, S, false>(xp.data(), L.rows * L.pitch, L.pitch, w + c * K * K,
                                      bias ? bias[c] : T(0), y + p * out_size, s.out_h, s.out_w,
                                      s.out_w);
      }
    });
  }

  static void backward_dx(const ConvShape& s, const T* w, const T* dy, T* dx, std::vector<T>& dyp,
                          std::vector<T>& phase) {
    if constexpr (S == 1) {
      // dx[ih][iw] += sum w[K-1-i][K-1-j] * dy[ih + p - (K-1) + i][iw + p - (K-1) + j].
      PadLayout L = pad_layout(std::max(s.in_h + s.pad_h, s.out_h) + K - 1,
                               std::max(s.in_w + s.pad_w, s.out_w) + K - 1, 1, K - 1, K - 1);
      if (dyp.empty()) dyp.assign(L.size(), T(0));
      copy_into_padded(L, dy, s.out_h, s.out_w, dyp.data());
      T wf[K * K];
      for (int t = 0; t < K * K; ++t) wf[t] = w[K * K - 1 - t];
      corr_plane<T, K, K, 1, true>(dyp.data() + s.pad_h * L.pitch + s.pad_w, 0, L.pitch, wf, T(0),
                                   dx, s.in_h, s.in_w, s.in_w);
    } else {
      constexpr int q = (K - 1) / 2;
      int64_t mh = (s.in_h + s.pad_h + 1) / 2, mw = (s.in_w + s.pad_w + 1) / 2;
      PadLayout L = pad_layout(std::max(mh, s.out_h) + q, std::max(mw, s.out_w) + q, 1, q, q);
      if (dyp.empty()) {
        dyp.assign(L.size(), T(0));
        phase.assign(mh * mw, T(0));
      }
      copy_into_padded(L, dy, s.out_h, s.out_w, dyp.data());
      dx_s2_phase<T, K, 0, 0>(s, w, dyp.data(), L.pitch, mh, mw, phase.data(), dx);
      dx_s2_phase<T, K, 0, 1>(s, w, dyp.data(), L.pitch, mh, mw, phase.data(), dx);
      dx_s2_phase<T, K, 1, 0>(s, w, dyp.data(), L.pitch, mh, mw, phase.data(), dx);
      dx_s2_phase<T, K, 1, 1>(s, w, dyp.data(), L.pitch, mh, mw, phase.data(), dx);
    }
  }

  static void backward_dw(const ConvShape& s, const T* x, const T* dy, std::vector<T>& xp,
                          T* acc) {
    PadLayout L = x_layout(s);
    if (xp.empty()) xp.assign(L.size(), T(0));
    copy_into_padded(L, x, s.in_h, s.in_w, xp.data());
    dw_plane<T, K, S>(xp.data(), L.rows * L.pitch, L.pitch, dy, s.out_h, s.out_w, acc);
  }
};

// Generic path: any kernel size, stride and dilation, runtime loops on a padded plane.
template <class T>
struct Generic {
  static PadLayout x_layout(const ConvShape& s) {
    return pad_layout(
        std::max((s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1,
                 s.in_h + s.pad_h),
        std::max((s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1,
                 s.in_w + s.pad_w),
        1, s.pad_h, s.pad_w);
  }

  static void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
    int64_t planes = s.batch * s.in_channels, in_size = s.in_h * s.in_w;
    int64_t out_size = s.out_h * s.out_w, taps = s.kernel_h * s.kernel_w;
    PadLayout L = x_layout(s);
    parallel_chunks(0, planes, [&](int64_t lo, int64_t hi) {
      std::vector<T> xp(L.size(), T(0));
      for (int64_t p = lo; p < hi; ++p) {
        int64_t c = p % s.in_channels;
        copy_into_padded(L, x + p * in_size, s.in_h, s.in_w, xp.data());
        const T* wc = w + c * taps;
        T b = bias ? bias[c] : T(0);
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          T* o = y + p * out_size + oh * s.out_w;
          std::fill(o, o + s.out_w, b);
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              const T* xr = xp.data() + (oh * s.stride_h + i * s.dilation_h) * L.pitch +
                            j * s.dilation_w;
              T wv = wc[i * s.kernel_w + j];
#pragma omp simd
              for (int64_t ow = 0; ow < s.out_w; ++ow) o[ow] += wv * xr[ow * s.stride_w];
            }
        }
      }
    });
  }

  // Scatters dy into a padded gradient plane, then adds its interior to dx.
  static void backward_dx(const ConvShape& s, const T* w, const T* dy, T* dx, std::vector<T>& dxp,
                          std::vector<T>&) {
    PadLayout L = x_layout(s);
    dxp.assign(L.size(), T(0));
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t i = 0; i < s.kernel_h; ++i)
        for (int64_t j = 0; j < s.kernel_w; ++j) {
          T* dr = dxp.data() + (oh * s.stride_h + i * s.dilation_h) * L.pitch + j * s.dilation_w;
          const T* d = dy + oh * s.out_w;
          T wv = w[i * s.kernel_w + j];
#pragma omp simd
          for (int64_t ow = 0; ow < s.out_w; ++ow) dr[ow * s.stride_w] += wv * d[ow];
        }
    for (int64_t ih = 0; ih < s.in_h; ++ih) {
      const T* src = dxp.data() + (ih + s.pad_h) * L.pitch + s.pad_w;
      T* dst = dx + ih * s.in_w;
#pragma omp simd
      for (int64_t iw = 0; iw < s.in_w; ++iw) dst[iw] += src[iw];
    }
  }

  static void backward_dw(const ConvShape& s, const T* x, const T* dy, std::vector<T>& xp,
                          T* acc) {
    PadLayout L = x_layout(s);
    if (xp.empty()) xp.assign(L.size(), T(0));
    copy_into_padded(L, x, s.in_h, s.in_w, xp.data());
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t i = 0; i < s.kernel_h; ++i)
        for (int64_t j = 0; j < s.kernel_w; ++j) {
          const T* xr = xp.data() + (oh * s.stride_h + i * s.dilation_h) * L.pitch +
                        j * s.dilation_w;
          const T* d = dy + oh * s.out_w;
          T* a = acc + (i * s.kernel_w + j) * s.out_w;
#pragma omp simd
          for (int64_t ow = 0; ow < s.out_w; ++ow) a[ow] += d[ow] * xr[ow * s.stride_w];
        }
  }
};

// Backward is parallel over channels: each thread owns whole channels, so it alone writes
// their dx planes, dw taps and dbias entry, and sums over the batch in index order. The result
// is therefore identical for every thread count.
template <class T, class Kernels>
void backward_by_channel(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                         T* dbias) {
  int64_t in_size = s.in_h * s.in_w, out_size = s.out_h * s.out_w;
  int64_t taps = s.kernel_h * s.kernel_w;
  parallel_chunks(0, s.in_channels, [&](int64_t lo, int64_t hi) {
    std::vector<T> pad_x, pad_dy, phase, acc(dw ? taps * s.out_w : 0);
    for (int64_t c = lo; c < hi; ++c) {
      std::fill(acc.begin(), acc.end(), T(0));
      T bias_sum = 0;
      for (int64_t n = 0; n < s.batch; ++n) {
        int64_t p = n * s.in_channels + c;
        const T* dy_plane = dy + p * out_size;
        if (dx) Kernels::backward_dx(s, w + c * taps, dy_plane, dx + p * in_size, pad_dy, phase);
        if (dw) Kernels::backward_dw(s, x + p * in_size, dy_plane, pad_x, acc.data());
        if (dbias)
          for (int64_t k = 0; k < out_size; ++k) bias_sum += dy_plane[k];
      }
      if (dbias) dbias[c] += bias_sum;
      if (dw)
        for (int64_t t = 0; t < taps; ++t) {
          T sum = 0;
          for (int64_t ow = 0; ow < s.out_w; ++ow) sum += acc[t * s.out_w + ow];
          dw[c * taps + t] += sum;
        }
    }
  });
}

// Calls f(Direct<T, K, S>{}) for a specialised shape, f(Generic<T>{}) otherwise.
template <class T, class F>
void dispatch(const ConvShape& s, F&& f) {
  bool square = s.kernel_h == s.kernel_w && s.stride_h == s.stride_w && s.dilation_h == 1 &&
                s.dilation_w == 1;
  int64_t k = square ? s.kernel_h : 0, st = square ? s.stride_h : 0;
  if (k == 3 && st == 1) return f(Direct<T, 3, 1>{});
  if (k == 3 && st == 2) return f(Direct<T, 3, 2>{});
  if (k == 5 && st == 1) return f(Direct<T, 5, 1>{});
  if (k == 5 && st == 2) return f(Direct<T, 5, 2>{});
  if (k == 7 && st == 1) return f(Direct<T, 7, 1>{});
  if (k == 7 && st == 2) return f(Direct<T, 7, 2>{});
  return f(Generic<T>{});
}

}  // namespace

template <class T>
void depthwise_conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  check_depthwise(s, "depthwise_conv2d_forward");
  dispatch<T>(s, [&](auto kernels) { decltype(kernels)::forward(s, x, w, bias, y); });
}

template <class T>
void depthwise_conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias) {
  check_depthwise(s, "depthwise_conv2d_backward");
  if (!dx && !dw && !dbias) return;
  dispatch<T>(s, [&](auto kernels) {
    backward_by_channel<T, decltype(kernels)>(s, x, w, dy, dx, dw, dbias);
  });
}

template <class T>
void depthwise_conv2d_forward_naive(const ConvShape& s, const T* x, const T* w, const T* bias,
                                    T* y) {
  check_depthwise(s, "depthwise_conv2d_forward_naive");
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.in_channels; ++c)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          T acc = bias ? bias[c] : T(0);
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
              int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
              if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
              acc += w[(c * s.kernel_h + i) * s.kernel_w + j] *
                     x[((n * s.in_channels + c) * s.in_h + ih) * s.in_w + iw];
            }
          y[((n * s.in_channels + c) * s.out_h + oh) * s.out_w + ow] = acc;
        }
}

template <class T>
void depthwise_conv2d_backward_naive(const ConvShape& s, const T* x, const T* w, const T* dy,
                                     T* dx, T* dw, T* dbias) {
  check_depthwise(s, "depthwise_conv2d_backward_naive");
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.in_channels; ++c)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          T g = dy[((n * s.in_channels + c) * s.out_h + oh) * s.out_w + ow];
          if (dbias) dbias[c] += g;
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
              int64_t iw = ow * s.stride_w - s.pad_w + j * s.dilation_w;
              if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
              int64_t xi = ((n * s.in_channels + c) * s.in_h + ih) * s.in_w + iw;
              int64_t wi = (c * s.kernel_h + i) * s.kernel_w + j;
              if (dx) dx[xi] += w[wi] * g;
              if (dw) dw[wi] += x[xi] * g;
            }
        }
}

#define PICONAS_DEPTHWISE_INSTANTIATE(T)                                                         \
  template void depthwise_conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void depthwise_conv2d_backward<T>(const ConvShape&, const T*, const T*, const T*, T*, \
                                             T*, T*);                                            \
  template void depthwise_conv2d_forward_naive<T>(const ConvShape&, const T*, const T*,          \
                                                  const T*, T*);                                 \
  template void depthwise_conv2d_backward_naive<T>(const ConvShape&, const T*, const T*,         \
                                                   const T*, T*, T*, T*);
PICONAS_DEPTHWISE_INSTANTIATE(float)
PICONAS_DEPTHWISE_INSTANTIATE(double)
#undef PICONAS_DEPTHWISE_INSTANTIATE

}  // namespace piconas::ops
