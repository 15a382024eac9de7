// What ONNX value names stand for while the nodes are walked (nas/onnx/onnx_importer.h): the
// layer a data input reads, its shape and padding, the layers and tensors added, and constant
// inputs read as integers or scalars.
#include <cstring>

#include "core/error.h"
#include "nas/arch/lowering.h"
#include "nas/onnx/onnx_importer.h"

namespace piconas::nas::onnx_io {

int Importer::data_input(const onnx::NodeProto& node, int input, bool flat_ok, bool pad_ok) const {
  if (node.input_size() <= input) fail(node, "input " + std::to_string(input) + " is missing");
  const auto it = values_.find(node.input(input));
  if (it == values_.end()) {
    if (constant(node.input(input)))
      fail(node, "input '" + excerpt(node.input(input), 60) +
                     "' is a constant; piconas layers read tensors computed by the network");
    fail(node, "input '" + excerpt(node.input(input), 60) + "' is produced by no imported node");
  }
  if (it->second.flat && !flat_ok)
    fail(node, "reads the flattened tensor '" + excerpt(node.input(input), 60) +
                   "'; only Gemm or MatMul may follow Flatten/Reshape");
  if (it->second.pad_node && !pad_ok)
    fail(node, "reads the output of Pad '" + excerpt(it->second.pad_node->name(), 60) +
                   "'; a zero Pad is imported only as the padding of the Conv that reads it");
  return it->second.layer;
}

std::array<int, 4> Importer::input_pad(const onnx::NodeProto& node, int input) const {
  const auto it = values_.find(node.input(input));
  return it == values_.end() ? std::array<int, 4>{0, 0, 0, 0} : it->second.pad;
}

Shape3 Importer::shape_of(const onnx::NodeProto& node, int layer) const {
  if (layer < 0) return spec_.input;
  try {
    return graph_layers(spec_)[static_cast<size_t>(layer) + 1].output;
  } catch (const Error& e) {
    fail(node, std::string("its input's shape: ") + e.what());
  }
}

std::array<int, 4> Importer::pads_of(const onnx::NodeProto& node, int layer,
                                     std::array<int, 4> extra, Size2 kernel, Size2 stride,
                                     Size2 dilation) const {
  const auto* mode = attribute(node, "auto_pad");
  int64_t h = 0, w = 0;
  if (mode && (mode->s() == "SAME_UPPER" || mode->s() == "SAME_LOWER")) {
    const Shape3 in = shape_of(node, layer);
    h = in.h + extra[0] + extra[2];
    w = in.w + extra[1] + extra[3];
  }
  std::array<int, 4> p = window_pads(node, h, w, kernel, stride, dilation);
  for (int i = 0; i < 4; ++i) {
    p[i] += extra[i];
    if (p[i] > kMaxWindow) fail(node, "pads " + std::to_string(p[i]) + " zeros (too many)");
  }
  return p;
}

std::string Importer::layer_name(const onnx::NodeProto& node) {
  std::string name;
  for (char c : node.name().empty() ? node.op_type() : node.name()) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok)
      name += c;
    else if (!name.empty() && name.back() != '_')
      name += '_';
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.size() > 48) name = name.substr(name.size() - 48);
  if (name.empty() || name == "input") name = "layer";
  std::string unique = name;
  for (int k = 2; used_names_.count(unique); ++k) unique = name + "_" + std::to_string(k);
  used_names_.insert(unique);
  return unique;
}

GraphLayer& Importer::add_layer(const onnx::NodeProto& node, GraphOp op, std::vector<int> inputs) {
  PICONAS_CHECK(spec_.graph.size() < kMaxGraphLayers,
                source_ << ": more than " << kMaxGraphLayers << " layers");
  GraphLayer l;
  l.name = layer_name(node);
  l.op = op;
  l.inputs = std::move(inputs);
  spec_.graph.push_back(std::move(l));
  node_of_layer_.push_back(&node);
  alias(node, static_cast<int>(spec_.graph.size()) - 1);
  return spec_.graph.back();
}

void Importer::alias(const onnx::NodeProto& node, int layer, bool flat) {
  if (node.output_size() < 1) fail(node, "has no output");
  values_[node.output(0)] = Value{layer, flat};
}

void Importer::add_tensor(const GraphLayer& l, const char* suffix, Tensor t) {
  tensors_.emplace_back(l.name + "." + suffix, std::move(t));
}

const onnx::TensorProto* Importer::constant_or_fail(const onnx::NodeProto& node, int input) const {
  const onnx::TensorProto* t = constant(node.input(input));
  if (!t) fail(node, "input '" + excerpt(node.input(input), 60) + "' must be a constant");
  return t;
}

std::vector<int64_t> Importer::int64_constant(const onnx::NodeProto& node, int input) const {
  const onnx::TensorProto* t = constant_or_fail(node, input);
  if (t->data_type() != onnx::TensorProto::INT64 || t->dims_size() != 1 || t->dims(0) > 64)
    fail(node, "input '" + excerpt(node.input(input), 60) + "' must be a 1-D int64 constant");
  const int64_t n = t->dims(0);
  std::vector<int64_t> v;
  if (t->has_raw_data()) {
    if (static_cast<int64_t>(t->raw_data().size()) != n * 8)
      fail(node, "tensor '" + excerpt(t->name(), 60) + "' holds the wrong number of bytes");
    v.resize(static_cast<size_t>(n));
    std::memcpy(v.data(), t->raw_data().data(), static_cast<size_t>(n) * 8);
  } else {
    if (t->int64_data_size() != n)
      fail(node, "tensor '" + excerpt(t->name(), 60) + "' holds the wrong number of values");
    v.assign(t->int64_data().begin(), t->int64_data().end());
  }
  return v;
}

float Importer::clip_bound(const onnx::NodeProto& node, int input, const char* attr,
                           float fallback) const {
  if (node.input_size() > input && !node.input(input).empty()) {
    const onnx::TensorProto* t = constant(node.input(input));
    if (!t) fail(node, std::string("its ") + attr + " must be a constant");
    const Tensor v = to_tensor(node, *t);
    if (v.numel() != 1) fail(node, std::string("its ") + attr + " must be a scalar");
    return v.data<float>()[0];
  }
  return float_attr(node, attr, fallback);
}

}  // namespace piconas::nas::onnx_io
