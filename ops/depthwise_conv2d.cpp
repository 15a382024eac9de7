// Depthwise convolution: small planes with channels in multiples of a register go to the
// channel kernels of ops/depthwise_channels.h (depthwise_forward_by_channels,
// depthwise_backward_by_channels); otherwise
// Direct<T, K, S> (k 3/5/7, stride 1/2, compile-time sizes; row-blocked
// corr_rows for stride 1; the stride-2 forward straight from the input rows,
// ops/depthwise_stride2.h, where pad_w = K/2, else flat corr_flat) and
// Generic<T> (any kernel, stride, dilation) on zero-padded plane copies (ops/depthwise_planes.h),
// chosen by dispatch(); backward_by_plane runs either per (n, c) plane; naive twins at the end.
#include "ops/depthwise_conv2d.h"

#include <algorithm>
#include <vector>

#include "ops/depthwise_channels.h"
#include "ops/depthwise_planes.h"
#include "ops/depthwise_stride2.h"

namespace piconas::ops {

bool is_depthwise(const ConvShape& s) {
  return s.groups > 0 && s.groups == s.in_channels && s.groups == s.out_channels &&
         symmetric_padding(s);
}

namespace {

using namespace depthwise_planes;

void check_depthwise(const ConvShape& s, const char* where) {
  PICONAS_CHECK(is_depthwise(s), where << ": not a depthwise shape (groups " << s.groups
                                       << ", in_channels " << s.in_channels << ", out_channels "
                                       << s.out_channels << ")");
}

// Stride-2 input gradient by phases: padded input row r = 2m + rh only receives taps
// i = rh + 2u from output row oh = m - u (likewise columns), so each of the four (rh, rw)
// phases is a stride-1 correlation of dy with a flipped sub-kernel of ceil/floor(K/2) taps.
// L places dy at offset q = (K-1)/2.
template <class T, int K, int RH, int RW>
void dx_s2_phase(const T* w, const T* dyp, const PadLayout& L, int64_t mh, T* out) {
  constexpr int KHs = (K - RH + 1) / 2, KWs = (K - RW + 1) / 2, q = (K - 1) / 2;
  T wsub[KHs * KWs];
  for (int u = 0; u < KHs; ++u)
    for (int t = 0; t < KWs; ++t)
      wsub[u * KWs + t] = w[(RH + 2 * (KHs - 1 - u)) * K + RW + 2 * (KWs - 1 - t)];
  corr_flat<T, KHs, KWs, 1>(dyp + (q - KHs + 1) * L.pitch + (q - KWs + 1), L, wsub, T(0), out,
                            round_up(mh * L.pitch, kLanes<T>));
}

// Both column phases of row phase RH (in ph0 / ph1, pitch L.pitch), then interleaved into the
// dx rows ih with (ih + pad_h) % 2 == RH: the inverse of the stride-2 copy_into_padded.
// Every element of those rows is written once (Accumulate: added to).
template <class T, int K, int RH, bool Accumulate>
void dx_s2_rows(const ConvShape& s, const T* w, const T* dyp, const PadLayout& L, int64_t mh,
                T* ph0, T* ph1, T* dx) {
  dx_s2_phase<T, K, RH, 0>(w, dyp, L, mh, ph0);
  dx_s2_phase<T, K, RH, 1>(w, dyp, L, mh, ph1);
  const T* even_src = (s.pad_w % 2 ? ph1 : ph0) + s.pad_w / 2;       // dx columns 2k
  const T* odd_src = (s.pad_w % 2 ? ph0 : ph1) + (s.pad_w + 1) / 2;  // dx columns 2k + 1
  int64_t half = s.in_w / 2;
  for (int64_t ih = ((RH - s.pad_h) % 2 + 2) % 2; ih < s.in_h; ih += 2) {
    int64_t m = (ih + s.pad_h) / 2;
    T* d = dx + ih * s.in_w;
    merge_pairs<Accumulate>(even_src + m * L.pitch, odd_src + m * L.pitch, half, d);
    if (s.in_w % 2) {
      const T last = even_src[m * L.pitch + half];
      d[s.in_w - 1] = Accumulate ? d[s.in_w - 1] + last : last;
    }
  }
}

// Specialised kernels: square K x K, equal strides S in {1, 2}, no dilation.
template <class T, int K, int S>
struct Direct {
  static constexpr int kReach = (K - 1) / S;

  // Layouts and flat lengths of one call, computed once. The padded input and the padded dy
  // share one pitch, so the dw loop can read dy straight from the dx buffer: at that pitch
  // dy's garbage columns are its zero right/left padding.
  struct Plan {
    PadLayout x;     // padded input (forward, dw)
    PadLayout dy;    // dy zero-padded for the dx correlation, at offset (q, q)
    int64_t q;       // dy's offset: K-1 for S = 1, (K-1)/2 for S = 2
    int64_t n_out;   // flat length of the dw loop (and of the stride-2 forward)
    int64_t n_fwd;   // length of the forward's output buffer
    int64_t n_dx;    // length of the dx correlation's output (per phase for S = 2)
    int64_t mh;      // S = 2: rows of one dx phase plane
    bool dx_direct;  // S = 1: the dx bands add straight into dx (corr_bands_exact)
  };

  static Plan plan(const ConvShape& s) {
    Plan P{};
    // S = 1: dx[ih][iw] += sum w[K-1-i][K-1-j] * dy[ih + p - (K-1) + i][iw + p - (K-1) + j],
    // a correlation of dy placed at offset K-1, read from offset p (reads reach p + K-1).
    // S = 2: phase planes of mh x mw, read from offset q - (K+1)/2 + 1 >= 0, reaching q.
    P.q = S == 1 ? K - 1 : (K - 1) / 2;
    P.mh = S == 1 ? s.in_h + s.pad_h : (s.in_h + s.pad_h + 1) / 2;
    int64_t mw = S == 1 ? s.in_w + s.pad_w : (s.in_w + s.pad_w + 1) / 2;
    auto layouts = [&](int64_t pitch) {
      // Rows for the forward's bands (corr_rows) too: up to kMaxBandRows - 1 more output rows.
      P.x = flat_layout<T>(s.in_h, s.in_w, s.pad_h, s.pad_w, S, round_up(s.out_h, kMaxBandRows),
                           s.out_w, kReach, kReach, pitch);
      // S = 1: rows for the dx correlation's bands of up to kMaxBandRows rows.
      const int64_t dx_rows = S == 1 ? round_up(s.in_h, kMaxBandRows) + s.pad_h : P.mh;
      P.dy = flat_layout<T>(s.out_h, s.out_w, P.q, P.q, 1, std::max(dx_rows, s.out_h + 1), mw, P.q,
                            P.q, pitch);
    };
    layouts(0);
    layouts(std::max(P.x.pitch, P.dy.pitch));
    P.n_out = round_up(s.out_h * P.x.pitch, kLanes<T>);
    P.n_fwd = S == 1 ? corr_bands_size<T>(s.out_h, P.x.pitch) : P.n_out;
    P.n_dx =
        S == 1 ? corr_bands_size<T>(s.in_h, P.dy.pitch) : round_up(P.mh * P.dy.pitch, kLanes<T>);
    P.dx_direct = S == 1 && corr_bands_exact<T>(s.in_h, s.in_w);
    return P;
  }

  static void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
    if constexpr (S == 2)
      if (depthwise_stride2::applies<T, K>(s))
        return depthwise_stride2::forward<T, K>(s, x, w, bias, y);
    int64_t planes = s.batch * s.in_channels, in_size = s.in_h * s.in_w;
    int64_t out_size = s.out_h * s.out_w;
    Plan P = plan(s);
    // Stride 1 writes straight into y where the bands and passes tile the output exactly (no
    // crop copy; 3x3 too since the plane copies are inlined: bench/README.md, 2026-12-05).
    const bool direct_store = S == 1 && corr_bands_exact<T>(s.out_h, s.out_w);
    for_plane_blocks<Scratch<T>>(planes, [&](Scratch<T>& sc, int64_t lo, int64_t hi) {
      T* xp = zeroed(sc.xp, P.x.size());
      T* tmp = zeroed(sc.tmp, P.n_fwd);
      for (int64_t p = lo; p < hi; ++p) {
        int64_t c = p % s.in_channels;
        const T* wc = w + c * K * K;
        const T b = bias ? bias[c] : T(0);
        copy_into_padded(P.x, x + p * in_size, s.in_h, s.in_w, xp);
        // Stride 2 stays flat: its 12-wide outputs (144ch_3x3_s2_24) would fill 3/4 of a
        // register per row pass, and bench_depthwise_conv2d measured the flat loop faster.
        if constexpr (S == 1) {
          if (direct_store) {
            corr_bands<T, K, S>(xp, P.x, wc, b, y + p * out_size, s.out_w, s.out_h, s.out_w);
            continue;
          }
          corr_bands<T, K, S>(xp, P.x, wc, b, tmp, P.x.pitch, s.out_h, s.out_w);
        } else {
          corr_flat<T, K, K, S>(xp, P.x, wc, b, tmp, P.n_out);
        }
        crop_rows<T, false>(tmp, P.x.pitch, s.out_h, s.out_w, y + p * out_size);
      }
    });
  }

  // One plane: dx (+)= its input gradient (AccumulateDx: +=, else =), dw_part += its weight
  // gradient (either may be null); w is this channel's kernel.
  template <bool AccumulateDx>
  static void backward_plane(const ConvShape& s, const Plan& P, const T* x, const T* w,
                             const T* dy, T* dx, T* dw_part, Scratch<T>& sc) {
    const PadLayout& L = P.dy;
    T* dyp = zeroed(sc.dyp, L.size());
    copy_into_padded(L, dy, s.out_h, s.out_w, dyp);
    if (dx && S == 1) {
      T wf[K * K];
      for (int t = 0; t < K * K; ++t) wf[t] = w[K * K - 1 - t];
      const T* from = dyp + s.pad_h * L.pitch + s.pad_w;
      // Where the bands tile dx exactly they go straight into it (as the forward stores into
      // y); otherwise into a buffer, whose rows are then copied or added to dx.
      if (P.dx_direct) {
        corr_bands<T, K, 1, AccumulateDx>(from, L, wf, T(0), dx, s.in_w, s.in_h, s.in_w);
        return finish_dw(s, P, x, dyp, dw_part, sc);
      }
      T* tmp = zeroed(sc.tmp, P.n_dx);
      corr_bands<T, K, 1>(from, L, wf, T(0), tmp, L.pitch, s.in_h, s.in_w);
      crop_rows<T, AccumulateDx>(tmp, L.pitch, s.in_h, s.in_w, dx);
    } else if (dx) {
      T* ph0 = zeroed(sc.tmp, 2 * P.n_dx);
      dx_s2_rows<T, K, 0, AccumulateDx>(s, w, dyp, L, P.mh, ph0, ph0 + P.n_dx, dx);
      dx_s2_rows<T, K, 1, AccumulateDx>(s, w, dyp, L, P.mh, ph0, ph0 + P.n_dx, dx);
    }
    finish_dw(s, P, x, dyp, dw_part, sc);
  }

  // dw_part (+)= the weight gradient from x and the padded dy (if dw_part is not null).
  static void finish_dw(const ConvShape& s, const Plan& P, const T* x, const T* dyp, T* dw_part,
                        Scratch<T>& sc) {
    if (!dw_part) return;
    T* xp = zeroed(sc.xp, P.x.size());
    copy_into_padded(P.x, x, s.in_h, s.in_w, xp);
    dw_flat<T, K, S>(xp, P.x, dyp + P.q * P.dy.pitch + P.q, P.n_out, dw_part);
  }
};

// Generic path: any kernel size, stride and dilation, runtime loops on a padded plane.
template <class T>
struct Generic {
  using Plan = PadLayout;  // the padded input plane

  static PadLayout plan(const ConvShape& s) {
    PadLayout L{};
    L.rows = std::max((s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1,
                      s.in_h + s.pad_h);
    L.pitch = std::max((s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1,
                       s.in_w + s.pad_w);
    L.phases = 1;
    L.top = s.pad_h;
    L.left = s.pad_w;
    return L;
  }

  static void forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
    int64_t planes = s.batch * s.in_channels, in_size = s.in_h * s.in_w;
    int64_t out_size = s.out_h * s.out_w, taps = s.kernel_h * s.kernel_w;
    PadLayout L = plan(s);
    for_plane_blocks<Scratch<T>>(planes, [&](Scratch<T>& sc, int64_t lo, int64_t hi) {
      T* xp = zeroed(sc.xp, L.size());
      for (int64_t p = lo; p < hi; ++p) {
        int64_t c = p % s.in_channels;
        copy_into_padded(L, x + p * in_size, s.in_h, s.in_w, xp);
        const T* wc = w + c * taps;
        T b = bias ? bias[c] : T(0);
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          T* o = y + p * out_size + oh * s.out_w;
          std::fill(o, o + s.out_w, b);
          for (int64_t i = 0; i < s.kernel_h; ++i)
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              const T* xr =
                  xp + (oh * s.stride_h + i * s.dilation_h) * L.pitch + j * s.dilation_w;
              T wv = wc[i * s.kernel_w + j];
#pragma omp simd
              for (int64_t ow = 0; ow < s.out_w; ++ow) o[ow] += wv * xr[ow * s.stride_w];
            }
        }
      }
    });
  }

  template <bool AccumulateDx>
  static void backward_plane(const ConvShape& s, const PadLayout& L, const T* x, const T* w,
                             const T* dy, T* dx, T* dw_part, Scratch<T>& sc) {
    if (dx) backward_dx<AccumulateDx>(s, L, w, dy, dx, sc);
    if (dw_part) backward_dw(s, L, x, dy, sc, dw_part);
  }

  // Scatters dy into a padded gradient plane, then adds (or copies) its interior to dx.
  template <bool AccumulateDx>
  static void backward_dx(const ConvShape& s, const PadLayout& L, const T* w, const T* dy, T* dx,
                          Scratch<T>& sc) {
    std::vector<T>& dxp = sc.tmp;
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
      for (int64_t iw = 0; iw < s.in_w; ++iw) dst[iw] = AccumulateDx ? dst[iw] + src[iw] : src[iw];
    }
  }

  static void backward_dw(const ConvShape& s, const PadLayout& L, const T* x, const T* dy,
                          Scratch<T>& sc, T* acc) {
    T* xp = zeroed(sc.xp, L.size());
    copy_into_padded(L, x, s.in_h, s.in_w, xp);
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        T sum = 0;
        for (int64_t oh = 0; oh < s.out_h; ++oh) {
          const T* xr = xp + (oh * s.stride_h + i * s.dilation_h) * L.pitch + j * s.dilation_w;
          const T* d = dy + oh * s.out_w;
#pragma omp simd reduction(+ : sum)
          for (int64_t ow = 0; ow < s.out_w; ++ow) sum += d[ow] * xr[ow * s.stride_w];
        }
        acc[i * s.kernel_w + j] += sum;
      }
  }
};

// dw[c] += the partials of channel c summed over the batch in index order, likewise dbias:
// partial p = n * C + c holds taps dw values, then the dbias value.
template <class T>
void add_partials(const ConvShape& s, const std::vector<T>& partials, T* dw, T* dbias) {
  int64_t taps = s.kernel_h * s.kernel_w, channels = s.in_channels, stride = taps + 1;
  for (int64_t n = 0; n < s.batch && !partials.empty(); ++n)
    for (int64_t c = 0; c < channels; ++c) {
      const T* part = partials.data() + (n * channels + c) * stride;
      if (dw)
        for (int64_t t = 0; t < taps; ++t) dw[c * taps + t] += part[t];
      if (dbias) dbias[c] += part[taps];
    }
}

// Backward over planes: each plane writes its own dx plane and its own dw / dbias partial
// (taps + 1 values); the partials are then summed over the batch in index order. So dx, dw
// and dbias are identical for every thread count and schedule. (Walking by channel instead,
// one thread per channel, jumps C*H*W elements between planes and ran at half the speed.)
template <class T, class Kernels, bool AccumulateDx>
void backward_by_plane(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                       T* dbias) {
  int64_t in_size = s.in_h * s.in_w, out_size = s.out_h * s.out_w;
  int64_t taps = s.kernel_h * s.kernel_w, channels = s.in_channels;
  int64_t planes = s.batch * channels, stride = taps + 1;
  std::vector<T> partials(dw || dbias ? planes * stride : 0, T(0));
  typename Kernels::Plan plan = Kernels::plan(s);
  for_plane_blocks<Scratch<T>>(planes, [&](Scratch<T>& scratch, int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      int64_t c = p % channels;
      const T* dy_plane = dy + p * out_size;
      T* part = partials.empty() ? nullptr : partials.data() + p * stride;
      if (dx || dw)
        Kernels::template backward_plane<AccumulateDx>(s, plan, x + p * in_size, w + c * taps, dy_plane,
                                dx ? dx + p * in_size : nullptr, dw ? part : nullptr, scratch);
      if (dbias) part[taps] = plane_sum(dy_plane, out_size);
    }
  });
  add_partials(s, partials, dw, dbias);
}

// Backward of the channel kernels (ops/depthwise_channels.h), with the same partials.
template <class T>
void backward_by_channels(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                          GradWrite dx_write, T* dw, T* dbias) {
  int64_t planes = s.batch * s.in_channels, stride = s.kernel_h * s.kernel_w + 1;
  std::vector<T> partials(dw || dbias ? planes * stride : 0, T(0));
  if (dx_write == GradWrite::Overwrite)
    depthwise_channels::backward<false>(s, x, w, dy, dx, partials.data(), dw != nullptr,
                                        dbias != nullptr);
  else
    depthwise_channels::backward<true>(s, x, w, dy, dx, partials.data(), dw != nullptr,
                                       dbias != nullptr);
  add_partials(s, partials, dw, dbias);
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
bool depthwise_forward_by_channels(const ConvShape& s) {
  return is_depthwise(s) && depthwise_channels::forward_applies<T>(s);
}

template <class T>
bool depthwise_backward_by_channels(const ConvShape& s) {
  return is_depthwise(s) && depthwise_channels::backward_applies<T>(s);
}

template <class T>
void depthwise_conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  check_depthwise(s, "depthwise_conv2d_forward");
  if (depthwise_forward_by_channels<T>(s)) return depthwise_channels::forward(s, x, w, bias, y);
  dispatch<T>(s, [&](auto kernels) { decltype(kernels)::forward(s, x, w, bias, y); });
}

template <class T>
void depthwise_conv2d_backward(const ConvShape& s, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* dbias, GradWrite dx_write) {
  check_depthwise(s, "depthwise_conv2d_backward");
  if (!dx && !dw && !dbias) return;
  if (depthwise_backward_by_channels<T>(s))
    return backward_by_channels(s, x, w, dy, dx, dx_write, dw, dbias);
  dispatch<T>(s, [&](auto kernels) {
    if (dx_write == GradWrite::Overwrite)
      backward_by_plane<T, decltype(kernels), false>(s, x, w, dy, dx, dw, dbias);
    else
      backward_by_plane<T, decltype(kernels), true>(s, x, w, dy, dx, dw, dbias);
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
  template bool depthwise_forward_by_channels<T>(const ConvShape&);                              \
  template bool depthwise_backward_by_channels<T>(const ConvShape&);                             \
  template void depthwise_conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void depthwise_conv2d_backward<T>(const ConvShape&, const T*, const T*, const T*, T*, \
                                             T*, T*, GradWrite);                                 \
  template void depthwise_conv2d_forward_naive<T>(const ConvShape&, const T*, const T*,          \
                                                  const T*, T*);                                 \
  template void depthwise_conv2d_backward_naive<T>(const ConvShape&, const T*, const T*,         \
                                                   const T*, T*, T*, T*);
PICONAS_DEPTHWISE_INSTANTIATE(float)
PICONAS_DEPTHWISE_INSTANTIATE(double)
#undef PICONAS_DEPTHWISE_INSTANTIATE

}  // namespace piconas::ops
