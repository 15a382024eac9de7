// Tensor: a dense, contiguous, row-major array of float32 or float64 with a shape.
// Activations are NCHW, convolution weights OIHW, linear weights [out, in].
// Storage is 64-byte aligned and shared between a tensor and its reshape() views; copies of a
// Tensor object share storage too — use clone() for an independent copy.
// New tensors are zero-filled (Tensor::empty leaves them uninitialised). data<T>() checks that T matches the dtype.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace piconas {

enum class DType { F32, F64 };

const char* dtype_name(DType dtype);
int64_t dtype_size(DType dtype);
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }

int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, DType dtype = DType::F32);

  static Tensor zeros(Shape shape, DType dtype = DType::F32);
  // Uninitialised storage, for outputs a kernel overwrites completely (saves a memset pass).
  static Tensor empty(Shape shape, DType dtype = DType::F32);
  static Tensor full(Shape shape, double value, DType dtype = DType::F32);
  static Tensor from_values(Shape shape, const std::vector<double>& values,
                            DType dtype = DType::F32);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  // Size of one dimension; negative indices count from the end.
  int64_t dim(int index) const;
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  int64_t nbytes() const { return numel_ * dtype_size(dtype_); }

  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data() { return storage_.get(); }
  const void* raw_data() const { return storage_.get(); }

  // Element access by flat index, converting through double (tests and small glue code only).
  double get(int64_t flat_index) const;
  void set(int64_t flat_index, double value);
  std::vector<double> to_vector() const;

  Tensor clone() const;
  Tensor to(DType dtype) const;  // a copy converted to dtype (a clone if already dtype)
  // A view with another shape over the same storage; numel must match.
  Tensor reshape(Shape shape) const;
  void fill(double value);
  void copy_from(const Tensor& source);  // same shape and dtype required
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
  std::shared_ptr<unsigned char> storage_;
};

// Calls fn(T{}) with T = float or double matching dtype.
template <class Fn>
decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  if (dtype == DType::F64) return fn(double{});
  return fn(float{});
}

// Throws Error naming `what` unless a and b have identical shapes.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

}  // namespace piconas
