// linear: y[n, o] = bias[o] + sum_i w[o, i] * x[n, i];  weight [out_features, in_features].
// Forward overwrites y; backward ACCUMULATES into dx, dw, dbias (each may be null).
#pragma once
#include <cstdint>

namespace piconas::ops {

struct LinearShape {
  int64_t batch, in_features, out_features;
};

template <class T>
void linear_forward(const LinearShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void linear_backward(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* dbias);

template <class T>
void linear_forward_naive(const LinearShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void linear_backward_naive(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* dbias);

}  // namespace piconas::ops
