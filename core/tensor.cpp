#include "core/tensor.h"

#include "core/allocator.h"

#include <cstdlib>
#include <cstring>

#include "core/parallel.h"

namespace piconas {

std::string shape_str(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

const char* dtype_name(DType dtype) { return dtype == DType::F64 ? "float64" : "float32"; }

int64_t dtype_size(DType dtype) { return dtype == DType::F64 ? 8 : 4; }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    PICONAS_CHECK(d >= 0, "negative dimension in shape " << shape_str(shape));
    n *= d;
  }
  return n;
}

namespace {
// Zero-filling is a pure memory pass; large blocks (gradient buffers of whole activations)
// are split over the threads so it does not stay a serial step between parallel kernels.
constexpr size_t kParallelZeroMin = size_t{1} << 20;

void zero_fill(void* memory, size_t bytes) {
  if (bytes < kParallelZeroMin) {
    std::memset(memory, 0, bytes);
    return;
  }
  unsigned char* base = static_cast<unsigned char*>(memory);
  const int64_t lines = static_cast<int64_t>(bytes / 64);  // blocks are 64-byte aligned
  parallel_chunks(0, lines, [base, bytes, lines](int64_t lo, int64_t hi) {
    const size_t end = hi == lines ? bytes : static_cast<size_t>(hi) * 64;
    std::memset(base + lo * 64, 0, end - static_cast<size_t>(lo) * 64);
  });
}

std::shared_ptr<unsigned char> allocate_storage(int64_t bytes, bool zeroed) {
  size_t capacity = 0;
  void* memory = allocate_block(static_cast<size_t>(bytes), &capacity);
  if (zeroed) zero_fill(memory, capacity);
#ifdef PICONAS_POISON_UNINITIALIZED
  // Sanitizer builds fill "empty" tensors with NaN bytes, so a kernel that reads an output
  // before writing it shows up as NaN in the tests.
  else std::memset(memory, 0xff, capacity);
#endif
  return std::shared_ptr<unsigned char>(static_cast<unsigned char*>(memory),
                                        [capacity](unsigned char* p) { free_block(p, capacity); });
}
}  // namespace

Tensor::Tensor(Shape shape, DType dtype)
    : shape_(std::move(shape)), numel_(shape_numel(shape_)), dtype_(dtype) {
  storage_ = allocate_storage(numel_ * dtype_size(dtype_), true);
}

Tensor Tensor::empty(Shape shape, DType dtype) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_);
  t.dtype_ = dtype;
  t.storage_ = allocate_storage(t.numel_ * dtype_size(dtype), false);
  return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype) { return Tensor(std::move(shape), dtype); }

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  Tensor t(std::move(shape), dtype);
  t.fill(value);
  return t;
}

Tensor Tensor::from_values(Shape shape, const std::vector<double>& values, DType dtype) {
  Tensor t(std::move(shape), dtype);
  PICONAS_CHECK(static_cast<int64_t>(values.size()) == t.numel(),
                "from_values: " << values.size() << " values for shape " << shape_str(t.shape()));
  for (int64_t i = 0; i < t.numel(); ++i) t.set(i, values[i]);
  return t;
}

int64_t Tensor::dim(int index) const {
  int n = ndim();
  int resolved = index < 0 ? index + n : index;
  PICONAS_CHECK(resolved >= 0 && resolved < n,
                "dimension " << index << " out of range for shape " << shape_str(shape_));
  return shape_[resolved];
}

template <class T> T* Tensor::data() {
  PICONAS_CHECK(dtype_ == dtype_of<T>(), "tensor of shape " << shape_str(shape_) << " is "
                                             << dtype_name(dtype_) << ", accessed as "
                                             << dtype_name(dtype_of<T>()));
  return reinterpret_cast<T*>(storage_.get());
}

template <class T> const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}

template float* Tensor::data<float>();
template double* Tensor::data<double>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;

double Tensor::get(int64_t i) const {
  PICONAS_CHECK(i >= 0 && i < numel_, "index " << i << " out of range for shape " << shape_str(shape_));
  return dtype_ == DType::F64 ? reinterpret_cast<const double*>(storage_.get())[i]
                              : reinterpret_cast<const float*>(storage_.get())[i];
}

void Tensor::set(int64_t i, double value) {
  PICONAS_CHECK(i >= 0 && i < numel_, "index " << i << " out of range for shape " << shape_str(shape_));
  if (dtype_ == DType::F64)
    reinterpret_cast<double*>(storage_.get())[i] = value;
  else
    reinterpret_cast<float*>(storage_.get())[i] = static_cast<float>(value);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> out(numel_);
  for (int64_t i = 0; i < numel_; ++i) out[i] = get(i);
  return out;
}

Tensor Tensor::clone() const {
  PICONAS_CHECK(defined(), "clone of an undefined tensor");
  Tensor t(shape_, dtype_);
  std::memcpy(t.storage_.get(), storage_.get(), nbytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t(shape_, dtype);
  if (dtype == DType::F64) {
    const float* src = data<float>();
    double* dst = t.data<double>();
    for (int64_t i = 0; i < numel_; ++i) dst[i] = src[i];
  } else {
    const double* src = data<double>();
    float* dst = t.data<float>();
    for (int64_t i = 0; i < numel_; ++i) dst[i] = static_cast<float>(src[i]);
  }
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  int64_t n = shape_numel(shape);
  PICONAS_CHECK(n == numel_, "cannot reshape " << shape_str(shape_) << " to " << shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

void Tensor::fill(double value) {
  dispatch_dtype(dtype_, [&](auto zero) {
    using T = decltype(zero);
    T* p = data<T>();
    for (int64_t i = 0; i < numel_; ++i) p[i] = static_cast<T>(value);
  });
}

void Tensor::copy_from(const Tensor& source) {
  PICONAS_CHECK(source.shape_ == shape_ && source.dtype_ == dtype_,
                "copy_from: source " << shape_str(source.shape_) << " " << dtype_name(source.dtype_)
                                     << " into " << shape_str(shape_) << " " << dtype_name(dtype_));
  std::memcpy(storage_.get(), source.storage_.get(), nbytes());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  PICONAS_CHECK(a.shape() == b.shape(),
                what << ": shapes differ, " << shape_str(a.shape()) << " vs " << shape_str(b.shape()));
  PICONAS_CHECK(a.dtype() == b.dtype(),
                what << ": dtypes differ, " << dtype_name(a.dtype()) << " vs " << dtype_name(b.dtype()));
}

}  // namespace piconas
