#include "nas/onnx/onnx_node.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace piconas::nas::onnx_io {

std::string shape_text(const onnx::TensorProto& t) {
  std::string s = "[";
  for (int i = 0; i < t.dims_size(); ++i) s.append(i ? "," : "").append(std::to_string(t.dims(i)));
  return s + "]";
}

void NodeReading::fail(const onnx::NodeProto& node, const std::string& why) const {
  throw Error(source_ + ": node '" + excerpt(node.name(), 80) + "' (" +
              excerpt(node.op_type(), 40) + "): " + why);
}

// A float tensor from an initializer or a Constant node; nullptr when `name` is neither.
const onnx::TensorProto* NodeReading::constant(const std::string& name) const {
  const auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : it->second;
}

Tensor NodeReading::to_tensor(const onnx::NodeProto& node, const onnx::TensorProto& t) const {
  if (t.data_type() != onnx::TensorProto::FLOAT)
    fail(node, "tensor '" + excerpt(t.name(), 60) + "' is not float32 (data type " +
                   std::to_string(t.data_type()) + ")");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    fail(node, "tensor '" + excerpt(t.name(), 60) + "' keeps its data in an external file");
  Shape shape;
  int64_t n = 1;
  for (int i = 0; i < t.dims_size(); ++i) {
    if (t.dims(i) < 0 || t.dims(i) > kMaxTensorElements ||
        __builtin_mul_overflow(n, t.dims(i), &n) || n > kMaxTensorElements)
      fail(node, "tensor '" + excerpt(t.name(), 60) + "' has dimensions " + shape_text(t) +
                     " (at most " + std::to_string(kMaxTensorElements) + " elements)");
    shape.push_back(t.dims(i));
  }
  const bool raw = t.has_raw_data();
  const int64_t have = raw ? static_cast<int64_t>(t.raw_data().size()) / 4 : t.float_data_size();
  if (have != n || (raw && t.raw_data().size() % 4 != 0))
    fail(node, "tensor '" + excerpt(t.name(), 60) + "' " + shape_text(t) + " holds " +
                   std::to_string(have) + " values instead of " + std::to_string(n));
  Tensor out(shape.empty() ? Shape{1} : shape);
  float* p = out.data<float>();
  if (raw)  // little-endian float32, like the hosts piconas runs on
    std::memcpy(p, t.raw_data().data(), static_cast<size_t>(n) * 4);
  else
    for (int64_t i = 0; i < n; ++i) p[i] = t.float_data(static_cast<int>(i));
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      fail(node, "tensor '" + excerpt(t.name(), 60) + "' holds " + std::to_string(p[i]));
  return out;
}

Tensor NodeReading::weight(const onnx::NodeProto& node, int input, size_t rank) const {
  if (node.input_size() <= input || node.input(input).empty())
    fail(node, "input " + std::to_string(input) + " is missing");
  const onnx::TensorProto* t = constant(node.input(input));
  if (!t)
    fail(node,
         "input '" + excerpt(node.input(input), 60) + "' must be a constant (an initializer)");
  if (static_cast<size_t>(t->dims_size()) != rank)
    fail(node, "tensor '" + excerpt(t->name(), 60) + "' has shape " + shape_text(*t) +
                   ", expected " + std::to_string(rank) + " dimensions");
  return to_tensor(node, *t);
}

const onnx::AttributeProto* NodeReading::attribute(const onnx::NodeProto& node,
                                                   const char* name) const {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t NodeReading::int_attr(const onnx::NodeProto& node, const char* name,
                              int64_t fallback) const {
  const auto* a = attribute(node, name);
  return a ? a->i() : fallback;
}
float NodeReading::float_attr(const onnx::NodeProto& node, const char* name, float fallback) const {
  const auto* a = attribute(node, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> NodeReading::ints_attr(const onnx::NodeProto& node, const char* name) const {
  const auto* a = attribute(node, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}
// An [h, w] attribute (kernel_shape, strides, dilations) with values in lo..kMaxWindow.
Size2 NodeReading::size2_attr(const onnx::NodeProto& node, const char* name, Size2 fallback,
                              int lo) const {
  const std::vector<int64_t> v = ints_attr(node, name);
  if (v.empty()) return fallback;
  if (v.size() != 2 || v[0] < lo || v[1] < lo || v[0] > kMaxWindow || v[1] > kMaxWindow)
    fail(node, std::string("attribute ") + name + " must be two values in " + std::to_string(lo) +
                   ".." + std::to_string(kMaxWindow) + " (2-D only)");
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}
std::array<int, 4> NodeReading::pads_attr(const onnx::NodeProto& node) const {
  const std::vector<int64_t> p = ints_attr(node, "pads");
  if (p.empty()) return {0, 0, 0, 0};
  if (p.size() != 4 || *std::min_element(p.begin(), p.end()) < 0 ||
      *std::max_element(p.begin(), p.end()) > kMaxWindow)
    fail(node, "pads must be 4 values [top, left, bottom, right] in 0.." +
                   std::to_string(kMaxWindow) + " (2-D only)");
  return {static_cast<int>(p[0]), static_cast<int>(p[1]), static_cast<int>(p[2]),
          static_cast<int>(p[3])};
}

std::array<int, 4> NodeReading::window_pads(const onnx::NodeProto& node, int64_t in_h, int64_t in_w,
                                            Size2 kernel, Size2 stride, Size2 dilation) const {
  const auto* attr = attribute(node, "auto_pad");
  const std::string mode = attr ? attr->s() : "NOTSET";
  if (mode == "NOTSET") return pads_attr(node);
  if (!ints_attr(node, "pads").empty())
    fail(node, "auto_pad " + excerpt(mode, 20) + " and pads are both given");
  if (mode == "VALID") return {0, 0, 0, 0};
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER")
    fail(node, "auto_pad '" + excerpt(mode, 20) + "' is not one of NOTSET, VALID, SAME_UPPER, " +
                   "SAME_LOWER");
  // ONNX: output ceil(in / stride); total zeros (out - 1) * stride + dilated kernel - in.
  auto total = [](int64_t in, int k, int s, int d) {
    const int64_t out = (in + s - 1) / s;
    return std::max<int64_t>(0, (out - 1) * s + int64_t{d} * (k - 1) + 1 - in);
  };
  const int64_t th = total(in_h, kernel.h, stride.h, dilation.h);
  const int64_t tw = total(in_w, kernel.w, stride.w, dilation.w);
  if (th > kMaxWindow || tw > kMaxWindow) fail(node, "auto_pad " + mode + " pads too much");
  const int h = static_cast<int>(th), w = static_cast<int>(tw);
  if (mode == "SAME_UPPER") return {h / 2, w / 2, h - h / 2, w - w / 2};
  return {h - h / 2, w - w / 2, h / 2, w / 2};
}

}  // namespace piconas::nas::onnx_io
