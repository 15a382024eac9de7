#include "ops/linear.h"

#include "core/gemm.h"

namespace piconas::ops {

// y = x w^T (+ bias): the bias rows are written first so one GEMM with beta = 1 finishes y.
template <class T>
void linear_forward(const LinearShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t in = s.in_features, out = s.out_features;
  T beta = T(0);
  if (bias) {
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t o = 0; o < out; ++o) y[n * out + o] = bias[o];
    beta = T(1);
  }
  gemm_parallel(Trans::No, Trans::Yes, s.batch, out, in, T(1), x, in, w, in, beta, y, out);
}

// dx += dy w, dw += dy^T x, dbias += column sums of dy.
template <class T>
void linear_backward(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                     T* dbias) {
  const int64_t in = s.in_features, out = s.out_features;
  if (dx) gemm_parallel(Trans::No, Trans::No, s.batch, in, out, T(1), dy, out, w, in, T(1), dx, in);
  if (dw) gemm_parallel(Trans::Yes, Trans::No, out, in, s.batch, T(1), dy, out, x, in, T(1), dw, in);
  if (dbias) {
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t o = 0; o < out; ++o) dbias[o] += dy[n * out + o];
  }
}

template <class T>
void linear_forward_naive(const LinearShape& s, const T* x, const T* w, const T* bias, T* y) {
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t o = 0; o < s.out_features; ++o) {
      T acc = bias ? bias[o] : T(0);
      for (int64_t i = 0; i < s.in_features; ++i)
        acc += w[o * s.in_features + i] * x[n * s.in_features + i];
      y[n * s.out_features + o] = acc;
    }
}

template <class T>
void linear_backward_naive(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx,
                           T* dw, T* dbias) {
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t o = 0; o < s.out_features; ++o) {
      T g = dy[n * s.out_features + o];
      if (dbias) dbias[o] += g;
      for (int64_t i = 0; i < s.in_features; ++i) {
        if (dx) dx[n * s.in_features + i] += g * w[o * s.in_features + i];
        if (dw) dw[o * s.in_features + i] += g * x[n * s.in_features + i];
      }
    }
}

#define PICONAS_INSTANTIATE_LINEAR(T)                                                         \
  template void linear_forward<T>(const LinearShape&, const T*, const T*, const T*, T*);      \
  template void linear_backward<T>(const LinearShape&, const T*, const T*, const T*, T*, T*,  \
                                   T*);                                                       \
  template void linear_forward_naive<T>(const LinearShape&, const T*, const T*, const T*, T*); \
  template void linear_backward_naive<T>(const LinearShape&, const T*, const T*, const T*, T*, \
                                         T*, T*);
PICONAS_INSTANTIATE_LINEAR(float)
PICONAS_INSTANTIATE_LINEAR(double)
#undef PICONAS_INSTANTIATE_LINEAR

}  // namespace piconas::ops
