// Reading ONNX nodes for the importer (nas/onnx/onnx_import.h): constant tensors (initializers
// and Constant nodes), attributes, and the one error that names the model, the node and its op
// type. Internal to nas/onnx.
#pragma once
#include <onnx/onnx_pb.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas::onnx_io {

inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;  // per constant tensor

// "[16,3,3,3]"
std::string shape_text(const onnx::TensorProto& t);

class NodeReading {
 protected:
  explicit NodeReading(std::string source) : source_(std::move(source)) {}

  // Error "<source>: node '<name>' (<op>): <why>".
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& why) const;
  // A float tensor from an initializer or a Constant node; nullptr when `name` is neither.
  const onnx::TensorProto* constant(const std::string& name) const;
  // float32 only, data inline (raw or float_data) and of the declared size, finite values.
  Tensor to_tensor(const onnx::NodeProto& node, const onnx::TensorProto& t) const;
  // Constant input `input` of the node with `rank` dimensions.
  Tensor weight(const onnx::NodeProto& node, int input, size_t rank) const;
  const onnx::AttributeProto* attribute(const onnx::NodeProto& node, const char* name) const;
  int64_t int_attr(const onnx::NodeProto& node, const char* name, int64_t fallback) const;
  float float_attr(const onnx::NodeProto& node, const char* name, float fallback) const;
  std::vector<int64_t> ints_attr(const onnx::NodeProto& node, const char* name) const;
  // An [h, w] attribute (kernel_shape, strides, dilations) with values in lo..kMaxWindow.
  Size2 size2_attr(const onnx::NodeProto& node, const char* name, Size2 fallback, int lo) const;
  // Zeros per side, [top, left, bottom, right], from the attribute pads (4 values in
  // 0..kMaxWindow; absent: zeros).
  std::array<int, 4> pads_attr(const onnx::NodeProto& node) const;
  // The zeros per side of a Conv or pool window on an input of in_h x in_w: auto_pad VALID
  // (none), SAME_UPPER / SAME_LOWER (output ceil(in / stride), the odd zero after / before the
  // image) or NOTSET (pads_attr).
  std::array<int, 4> window_pads(const onnx::NodeProto& node, int64_t in_h, int64_t in_w,
                                 Size2 kernel, Size2 stride, Size2 dilation) const;

  static constexpr int kMaxWindow = 1 << 16;
  std::string source_;
  std::map<std::string, const onnx::TensorProto*> constants_;
};

}  // namespace piconas::nas::onnx_io
