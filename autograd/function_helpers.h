// Internal helpers shared by the autograd wrappers (functions_*.cpp); not a public interface.
#pragma once
#include <memory>

#include "autograd/variable.h"
#include "ops/grad_write.h"

namespace piconas::autograd::detail {

inline const Tensor& optional_value(const Variable& v) {
  static const Tensor kUndefined;
  return v.defined() ? v.value() : kUndefined;
}

template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// The gradient buffer of an input that needs one, else nullptr (the kernel then skips it).
template <class T>
T* grad_or_null(const std::shared_ptr<Node>& node) {
  return node && node->requires_grad ? grad_buffer(*node).data<T>() : nullptr;
}

// For a backward that writes every element of an input's gradient: the buffer, and in `write`
// how to write it. An input without a gradient yet gets an uninitialised buffer to Overwrite (no
// zero fill that the kernel would overwrite anyway); one that has a gradient is accumulated
// into. nullptr when the input needs no gradient.
template <class T>
T* grad_for_write(const std::shared_ptr<Node>& node, ops::GradWrite& write) {
  if (!node || !node->requires_grad) return nullptr;
  write = node->grad.defined() ? ops::GradWrite::Accumulate : ops::GradWrite::Overwrite;
  if (!node->grad.defined()) node->grad = Tensor::empty(node->value.shape(), node->value.dtype());
  return node->grad.data<T>();
}

inline void check_dtypes(const Variable& a, const Variable& b, const char* op) {
  if (!b.defined()) return;
  PICONAS_CHECK(a.dtype() == b.dtype(), op << ": dtype " << dtype_name(a.dtype()) << " vs "
                                           << dtype_name(b.dtype()) << " of shapes "
                                           << shape_str(a.shape()) << " and "
                                           << shape_str(b.shape()));
}

inline void check_vector(const Variable& v, int64_t size, const char* what, const char* op) {
  if (!v.defined()) return;
  PICONAS_CHECK(v.shape() == Shape{size},
                op << ": " << what << " " << shape_str(v.shape()) << " must be [" << size << "]");
}

}  // namespace piconas::autograd::detail
