#include "nas/onnx/onnx_import.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/arch/graph_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/onnx/onnx_node.h"
#include "nas/train/model_io.h"

namespace piconas::nas::onnx_io {

namespace {

// What an ONNX value name stands for while the nodes are walked.
struct Value {
  int layer = -1;     // the producing layer; -1: the network input
  bool flat = false;  // a Flatten/Reshape output: only Gemm/MatMul may read it
  // A zero Pad of the layer's output (folded into the Conv that reads it): the Pad node and its
  // zeros [top, left, bottom, right].
  const onnx::NodeProto* pad_node = nullptr;
  std::array<int, 4> pad{0, 0, 0, 0};
};

// Before the checker, whose message for an old opset names some operator instead.
void check_opset(const onnx::ModelProto& model, const std::string& source) {
  int64_t opset = -1;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  PICONAS_CHECK(opset >= kOnnxMinOpset && opset <= kOnnxMaxOpset,
                source << ": ONNX opset " << opset << " is not supported (piconas reads opsets "
                       << kOnnxMinOpset << ".." << kOnnxMaxOpset << ")");
}

class Importer : private NodeReading {
 public:
  Importer(const onnx::ModelProto& model, std::string source)
      : NodeReading(std::move(source)), model_(model), graph_(model.graph()) {
    for (const auto& entry : model.opset_import())
      if (entry.domain().empty() || entry.domain() == "ai.onnx") opset_ = entry.version();
  }

  ImportedModel run(const ImportOptions& options) {
    for (const onnx::TensorProto& t : graph_.initializer()) constants_[t.name()] = &t;
    read_input();
    for (const onnx::NodeProto& node : graph_.node()) import_node(node);
    return finish(options);
  }

 private:
  void read_input() {
    const onnx::ValueInfoProto* input = nullptr;
    for (const onnx::ValueInfoProto& v : graph_.input()) {
      if (constants_.count(v.name())) continue;
      PICONAS_CHECK(input == nullptr, source_ << ": the graph has more than one input ('"
                                              << excerpt(input ? input->name() : "", 60) << "', '"
                                              << excerpt(v.name(), 60)
                                              << "'); piconas networks take one image");
      input = &v;
    }
    PICONAS_CHECK(input, source_ << ": the graph has no input");
    const auto& type = input->type().tensor_type();
    PICONAS_CHECK(input->type().has_tensor_type() && type.elem_type() == onnx::TensorProto::FLOAT &&
                      type.has_shape() && type.shape().dim_size() == 4,
                  source_ << ": input '" << excerpt(input->name(), 60)
                          << "' must be a float tensor [N, C, H, W]");
    int64_t dims[3] = {0, 0, 0};
    for (int i = 1; i < 4; ++i) {
      const auto& d = type.shape().dim(i);
      PICONAS_CHECK(
          d.has_dim_value() && d.dim_value() > 0,
          source_ << ": input '" << excerpt(input->name(), 60) << "' dimension " << i
                  << " must be a fixed positive size, got '"
                  << excerpt(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()), 40)
                  << "'");
      dims[i - 1] = d.dim_value();
    }
    spec_.input = {dims[0], dims[1], dims[2]};
    ArchSpec only_input;
    only_input.input = spec_.input;
    const std::vector<std::string> problems = arch_problems(only_input);
    PICONAS_CHECK(problems.empty(), source_ << ": " << problems.front());
    values_[input->name()] = Value{};
  }

  // The layer a data input reads; refuses constants, flattened values and Pad outputs where not
  // allowed.
  int data_input(const onnx::NodeProto& node, int input, bool flat_ok = false,
                 bool pad_ok = false) const {
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
  // The zeros a Pad adds to data input `input` (none unless it is a Pad output).
  std::array<int, 4> input_pad(const onnx::NodeProto& node, int input) const {
    const auto it = values_.find(node.input(input));
    return it == values_.end() ? std::array<int, 4>{0, 0, 0, 0} : it->second.pad;
  }
  // Output shape of a layer (-1: the network input), from the lowering of the layers so far.
  Shape3 shape_of(const onnx::NodeProto& node, int layer) const {
    if (layer < 0) return spec_.input;
    try {
      return graph_layers(spec_)[static_cast<size_t>(layer) + 1].output;
    } catch (const Error& e) {
      fail(node, std::string("its input's shape: ") + e.what());
    }
  }
  // Zeros per side of a Conv or pool window reading `layer`, with a Pad before it (`extra`).
  std::array<int, 4> pads_of(const onnx::NodeProto& node, int layer, std::array<int, 4> extra,
                             Size2 kernel, Size2 stride, Size2 dilation) const {
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

  std::string layer_name(const onnx::NodeProto& node) {
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

  // Appends a layer reading `inputs`; the node's first output refers to it.
  GraphLayer& add_layer(const onnx::NodeProto& node, GraphOp op, std::vector<int> inputs) {
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
  void alias(const onnx::NodeProto& node, int layer, bool flat = false) {
    if (node.output_size() < 1) fail(node, "has no output");
    values_[node.output(0)] = Value{layer, flat};
  }
  void add_tensor(const GraphLayer& l, const char* suffix, Tensor t) {
    tensors_.emplace_back(l.name + "." + suffix, std::move(t));
  }

  void import_conv(const onnx::NodeProto& node) {
    const int in = data_input(node, 0, false, true);
    Tensor w = weight(node, 1, 4);
    const Shape ws = w.shape();
    GraphLayer& l = add_layer(node, GraphOp::Conv, {in});
    l.out_channels = ws[0];
    l.groups = int_attr(node, "group", 1);
    if (l.groups < 1 || l.groups > (int64_t{1} << 20))
      fail(node, "group " + std::to_string(l.groups) + " is out of range");
    l.kernel = size2_attr(node, "kernel_shape",
                          {static_cast<int>(std::min<int64_t>(ws[2], kMaxWindow)),
                           static_cast<int>(std::min<int64_t>(ws[3], kMaxWindow))},
                          1);
    if (l.kernel.h != ws[2] || l.kernel.w != ws[3])
      fail(node, "kernel_shape does not match the weight " + shape_str(ws));
    l.stride = size2_attr(node, "strides", {1, 1}, 1);
    l.dilation = size2_attr(node, "dilations", {1, 1}, 1);
    const std::array<int, 4> p =
        pads_of(node, in, input_pad(node, 0), l.kernel, l.stride, l.dilation);
    l.pad = {p[0], p[1]};
    if (p[2] != p[0] || p[3] != p[1]) l.pad_end = {p[2], p[3]};
    const bool bias = node.input_size() > 2 && !node.input(2).empty();
    l.bias = bias;
    const GraphLayer copy = l;
    add_tensor(copy, "weight", std::move(w));
    if (bias) add_tensor(copy, "bias", weight(node, 2, 1));
  }

  // int64 values of a constant input (Pad's pads).
  std::vector<int64_t> int64_constant(const onnx::NodeProto& node, int input) const {
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

  // Pad (mode constant, value 0, spatial axes only): remembered on its output value and added to
  // the padding of the Conv that reads it (nn.ZeroPad2d before a conv).
  void import_pad(const onnx::NodeProto& node) {
    const auto* mode = attribute(node, "mode");
    if (mode && mode->s() != "constant")
      fail(node, "mode '" + excerpt(mode->s(), 20) + "' is not supported (only zero padding)");
    const int in = data_input(node, 0, false, true);
    std::vector<int64_t> pads;
    float value = 0;
    if (opset_ < 11) {
      pads = ints_attr(node, "pads");
      value = float_attr(node, "value", 0);
    } else {
      pads = int64_constant(node, 1);
      if (node.input_size() > 2 && !node.input(2).empty()) {
        const Tensor v = to_tensor(node, *constant_or_fail(node, 2));
        if (v.numel() != 1) fail(node, "its constant_value must be a scalar");
        value = v.data<float>()[0];
      }
      if (node.input_size() > 3) fail(node, "the axes input is not supported");
    }
    if (value != 0)
      fail(node, "pads with " + std::to_string(value) + "; only zeros fold into a Conv");
    if (pads.size() != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0)
      fail(node, "only the height and width of an [N, C, H, W] tensor may be padded");
    const int64_t spatial[4] = {pads[2], pads[3], pads[6], pads[7]};
    Value v = values_.at(node.input(0));
    if (!v.pad_node) v.pad = {0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
      if (spatial[i] < 0 || spatial[i] > kMaxWindow)
        fail(node, "pads " + std::to_string(spatial[i]) + " (negative pads crop; at most " +
                       std::to_string(kMaxWindow) + ")");
      v.pad[static_cast<size_t>(i)] += static_cast<int>(spatial[i]);
      if (v.pad[static_cast<size_t>(i)] > kMaxWindow) fail(node, "pads too many zeros");
    }
    v.layer = in;
    v.pad_node = &node;
    if (node.output_size() < 1) fail(node, "has no output");
    values_[node.output(0)] = v;
  }

  void import_batchnorm(const onnx::NodeProto& node) {
    if (int_attr(node, "training_mode", 0) != 0 || node.output_size() > 1)
      fail(node,
           "training-mode BatchNormalization (with running-statistics outputs) is not supported");
    const int in = data_input(node, 0);
    GraphLayer& l = add_layer(node, GraphOp::BatchNorm, {in});
    l.eps = float_attr(node, "epsilon", 1e-5f);
    const GraphLayer copy = l;
    const char* names[] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; ++i) add_tensor(copy, names[i], weight(node, i + 1, 1));
  }

  // Clip bounds: inputs 1 and 2 (opset >= 11) or attributes min and max.
  float clip_bound(const onnx::NodeProto& node, int input, const char* attr, float fallback) const {
    if (node.input_size() > input && !node.input(input).empty()) {
      const onnx::TensorProto* t = constant(node.input(input));
      if (!t) fail(node, std::string("its ") + attr + " must be a constant");
      const Tensor v = to_tensor(node, *t);
      if (v.numel() != 1) fail(node, std::string("its ") + attr + " must be a scalar");
      return v.data<float>()[0];
    }
    return float_attr(node, attr, fallback);
  }

  void import_clip(const onnx::NodeProto& node) {
    const float inf = std::numeric_limits<float>::infinity();
    const float lo = clip_bound(node, 1, "min", -inf), hi = clip_bound(node, 2, "max", inf);
    Activation act;
    if (lo == 0 && hi == 6)
      act = Activation::ReLU6;
    else if (lo == 0 && hi > std::numeric_limits<float>::max())
      act = Activation::ReLU;
    else
      fail(node, "Clip(" + std::to_string(lo) + ", " + std::to_string(hi) +
                     ") is not supported (only Clip(0, 6) and Clip(0, inf))");
    add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation = act;
  }

  void import_pool(const onnx::NodeProto& node, GraphOp op) {
    if (int_attr(node, "ceil_mode", 0) != 0) fail(node, "ceil_mode 1 is not supported");
    if (int_attr(node, "storage_order", 0) != 0 || node.output_size() > 1)
      fail(node, "the indices output is not supported");
    const Size2 dilation = size2_attr(node, "dilations", {1, 1}, 1);
    if (dilation != Size2{}) fail(node, "dilated pooling is not supported");
    const int in = data_input(node, 0);
    GraphLayer& l = add_layer(node, op, {in});
    l.kernel = size2_attr(node, "kernel_shape", {0, 0}, 1);
    if (l.kernel == Size2{0, 0}) fail(node, "attribute kernel_shape is missing");
    l.stride = size2_attr(node, "strides", {1, 1}, 1);
    const std::array<int, 4> p = pads_of(node, in, {0, 0, 0, 0}, l.kernel, l.stride, {1, 1});
    if (p[2] != p[0] || p[3] != p[1])
      fail(node, "pads [" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " +
                     std::to_string(p[2]) + ", " + std::to_string(p[3]) +
                     "] differ before and after the image; asymmetric padding of a pool is not "
                     "supported");
    l.pad = {p[0], p[1]};
    l.count_include_pad = int_attr(node, "count_include_pad", 0) != 0;
  }

  // Gemm (transB 0 or 1, alpha = beta = 1) and MatMul: the fully connected classifier.
  void import_linear(const onnx::NodeProto& node, bool gemm) {
    const int in = data_input(node, 0, true);
    Tensor w = weight(node, 1, 2);
    bool trans_b = false;
    if (gemm) {
      if (int_attr(node, "transA", 0) != 0 || float_attr(node, "alpha", 1) != 1 ||
          float_attr(node, "beta", 1) != 1)
        fail(node, "only Gemm with transA 0, alpha 1 and beta 1 is supported");
      trans_b = int_attr(node, "transB", 0) != 0;
    }
    if (!trans_b) {  // [in, out] -> [out, in]
      Tensor t({w.dim(1), w.dim(0)});
      for (int64_t i = 0; i < w.dim(0); ++i)
        for (int64_t o = 0; o < w.dim(1); ++o)
          t.data<float>()[o * w.dim(0) + i] = w.data<float>()[i * w.dim(1) + o];
      w = t;
    }
    GraphLayer& l = add_layer(node, GraphOp::FullyConnected, {in});
    l.out_channels = w.dim(0);
    l.bias = gemm && node.input_size() > 2 && !node.input(2).empty();
    const GraphLayer copy = l;
    add_tensor(copy, "weight", std::move(w));
    if (copy.bias) {
      Tensor b = to_tensor(node, *constant_or_fail(node, 2));
      if (b.numel() != copy.out_channels)
        fail(node, "bias " + shape_str(b.shape()) + " does not match " +
                       std::to_string(copy.out_channels) + " outputs");
      add_tensor(copy, "bias", b.reshape({copy.out_channels}));
    }
  }
  const onnx::TensorProto* constant_or_fail(const onnx::NodeProto& node, int input) const {
    const onnx::TensorProto* t = constant(node.input(input));
    if (!t) fail(node, "input '" + excerpt(node.input(input), 60) + "' must be a constant");
    return t;
  }

  void import_add(const onnx::NodeProto& node) {
    if (node.input_size() != 2) fail(node, "needs two inputs");
    // MatMul + Add of a constant: the classifier's bias.
    for (int c = 0; c < 2; ++c) {
      const onnx::TensorProto* t = constant(node.input(c));
      if (!t) continue;
      const int layer = data_input(node, 1 - c);
      if (layer < 0 || spec_.graph[static_cast<size_t>(layer)].op != GraphOp::FullyConnected ||
          spec_.graph[static_cast<size_t>(layer)].bias)
        fail(node, "adds the constant '" + excerpt(node.input(c), 60) +
                       "'; only a MatMul's bias may be added as a constant");
      GraphLayer& fc = spec_.graph[static_cast<size_t>(layer)];
      Tensor b = to_tensor(node, *t);
      if (b.numel() != fc.out_channels)
        fail(node, "bias " + shape_text(*t) + " does not match " + std::to_string(fc.out_channels) +
                       " outputs");
      fc.bias = true;
      add_tensor(fc, "bias", b.reshape({fc.out_channels}));
      alias(node, layer);
      return;
    }
    add_layer(node, GraphOp::Add, {data_input(node, 0), data_input(node, 1)});
  }

  // HardSigmoid as PyTorch writes nn.Hardsigmoid: max(0, min(1, x / 6 + 1 / 2)).
  void import_hardsigmoid(const onnx::NodeProto& node) {
    const float alpha = float_attr(node, "alpha", 0.2f), beta = float_attr(node, "beta", 0.5f);
    if (std::abs(alpha - 1.0f / 6) > 1e-6f || beta != 0.5f)
      fail(node, "HardSigmoid(alpha " + std::to_string(alpha) + ", beta " + std::to_string(beta) +
                     ") is not supported (only alpha 1/6, beta 0.5: relu6(x + 3) / 6)");
    add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation =
        Activation::Hardsigmoid;
  }

  // Mul of a CxHxW tensor and a Cx1x1 gate computed by the network (in either order): the
  // squeeze-and-excitation scale.
  void import_mul(const onnx::NodeProto& node) {
    if (node.input_size() != 2) fail(node, "needs two inputs");
    for (int c = 0; c < 2; ++c)
      if (constant(node.input(c)))
        fail(node, "multiplies by the constant '" + excerpt(node.input(c), 60) +
                       "'; only a channel scale by a gate the network computes is supported");
    int features = data_input(node, 0), gate = data_input(node, 1);
    Shape3 f = shape_of(node, features), g = shape_of(node, gate);
    if (f.h * f.w == 1 && g.h * g.w > 1) {
      std::swap(features, gate);
      std::swap(f, g);
    }
    if (g != Shape3{f.c, 1, 1})
      fail(node, "multiplies a " + shape3_str(f) + " tensor by a " + shape3_str(g) +
                     " one; only a channel scale by a " + std::to_string(f.c) +
                     "x1x1 gate (squeeze-and-excitation) is supported");
    add_layer(node, GraphOp::Mul, {features, gate});
  }

  void import_flatten(const onnx::NodeProto& node) {
    if (node.op_type() == "Flatten") {
      if (int_attr(node, "axis", 1) != 1) fail(node, "only axis 1 (keep the batch) is supported");
    } else {  // Reshape to [N or 0 or -1, -1 or the features]
      const onnx::TensorProto* t = node.input_size() > 1 ? constant(node.input(1)) : nullptr;
      if (!t) fail(node, "the target shape must be a constant");
      if (t->data_type() != onnx::TensorProto::INT64 || t->dims_size() != 1 || t->dims(0) != 2)
        fail(node, "only a reshape to 2-D [batch, features] is supported");
    }
    alias(node, data_input(node, 0, true), true);
  }

  void import_node(const onnx::NodeProto& node) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail(node, "operators of domain '" + excerpt(node.domain(), 40) + "' are not supported");
    const std::string& op = node.op_type();
    if (op == "Constant") {
      const auto* value = attribute(node, "value");
      if (!value || !value->has_t() || node.output_size() != 1)
        fail(node, "only tensor constants are supported");
      constant_storage_.push_back(value->t());
      constants_[node.output(0)] = &constant_storage_.back();
    } else if (op == "Conv") {
      import_conv(node);
    } else if (op == "Pad") {
      import_pad(node);
    } else if (op == "BatchNormalization") {
      import_batchnorm(node);
    } else if (op == "Relu") {
      add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation = Activation::ReLU;
    } else if (op == "HardSwish") {
      add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation =
          Activation::Hardswish;
    } else if (op == "HardSigmoid") {
      import_hardsigmoid(node);
    } else if (op == "Sigmoid") {
      add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation = Activation::Sigmoid;
    } else if (op == "Mul") {
      import_mul(node);
    } else if (op == "Clip") {
      import_clip(node);
    } else if (op == "Add") {
      import_add(node);
    } else if (op == "MaxPool" || op == "AveragePool") {
      import_pool(node, op == "MaxPool" ? GraphOp::MaxPool : GraphOp::AvgPool);
    } else if (op == "GlobalAveragePool") {
      add_layer(node, GraphOp::GlobalAvgPool, {data_input(node, 0)});
    } else if (op == "Gemm" || op == "MatMul") {
      import_linear(node, op == "Gemm");
    } else if (op == "Flatten" || op == "Reshape") {
      import_flatten(node);
    } else if (op == "Dropout" || op == "Identity") {
      if (node.output_size() > 1 && !node.output(1).empty())
        fail(node, "the dropout mask output is not supported");
      const auto it = values_.find(node.input_size() > 0 ? node.input(0) : "");
      if (it == values_.end()) data_input(node, 0);  // names the problem
      values_[node.output(0)] = it->second;
    } else {
      fail(node,
           "operator not supported (piconas imports Conv, Pad of zeros before a Conv, "
           "BatchNormalization, Relu, Clip, HardSwish, HardSigmoid, Sigmoid, Add, Mul, MaxPool, "
           "AveragePool, "
           "GlobalAveragePool, Flatten, Reshape, Gemm, MatMul, Dropout, Identity; docs/onnx.md)");
    }
  }

  ImportedModel finish(const ImportOptions& options) {
    PICONAS_CHECK(graph_.output_size() == 1,
                  source_ << ": the graph has " << graph_.output_size()
                          << " outputs; piconas networks have one (the logits)");
    const auto out = values_.find(graph_.output(0).name());
    PICONAS_CHECK(
        out != values_.end() && !out->second.pad_node && !spec_.graph.empty() &&
            out->second.layer == static_cast<int>(spec_.graph.size()) - 1 &&
            spec_.graph.back().op == GraphOp::FullyConnected,
        source_ << ": the graph output '" << excerpt(graph_.output(0).name(), 60)
                << "' is not the last node's fully connected classifier (Gemm or MatMul)");
    spec_.num_classes =
        static_cast<int>(std::min<int64_t>(spec_.graph.back().out_channels, 1 << 30));
    std::vector<LayerInfo> rows;
    try {
      rows = arch_layers(spec_);
    } catch (const Error& e) {
      throw Error(source_ + ": " + e.what());
    }
    // Each layer's weights must be the size its input needs before the network is allocated:
    // a declared 16384x16384 input must not make a terabyte classifier.
    for (size_t i = 0; i < spec_.graph.size(); ++i) {
      int64_t have = 0;
      const std::string prefix = spec_.graph[i].name + ".";
      for (const auto& [name, tensor] : tensors_)
        if (name.rfind(prefix, 0) == 0 && name.find("running_") == std::string::npos)
          have += tensor.numel();
      const LayerInfo& row = rows[i + 1];
      if (have != row.params)
        fail(*node_of_layer_[i], "its weights hold " + std::to_string(have) +
                                     " values, but on its " + shape3_str(row.input) +
                                     " input the layer needs " + std::to_string(row.params));
    }
    auto net = build_network(spec_);
    std::map<std::string, Tensor> state = net->state();
    std::map<std::string, Tensor> loaded;
    for (auto& [name, tensor] : tensors_) {
      const auto it = state.find(name);
      const std::string layer = name.substr(0, name.find('.'));
      const onnx::NodeProto* node = nullptr;
      for (size_t i = 0; i < spec_.graph.size(); ++i)
        if (spec_.graph[i].name == layer) node = node_of_layer_[i];
      if (it == state.end() || it->second.shape() != tensor.shape())
        fail(*node, "tensor " + name.substr(name.find('.') + 1) + " has shape " +
                        shape_str(tensor.shape()) + " but its input needs " +
                        (it == state.end() ? std::string("none") : shape_str(it->second.shape())));
      loaded[name] = tensor;
    }
    for (const auto& [name, tensor] : state)
      if (!loaded.count(name)) loaded[name] = tensor;  // none expected; keeps load_state total
    net->load_state(loaded);
    net->set_training(false);

    data::Normalization norm = data::Normalization::identity(static_cast<int>(spec_.input.c));
    for (const auto& prop : model_.metadata_props()) {
      if (prop.key() != kNormalizationKey) continue;
      try {
        const nlohmann::json j = nlohmann::json::parse(prop.value());
        norm.mean = j.at("mean").get<std::vector<float>>();
        norm.std = j.at("std").get<std::vector<float>>();
      } catch (const nlohmann::json::exception& e) {
        throw Error(source_ + ": metadata " + kNormalizationKey + " is malformed: " + e.what());
      }
    }
    if (!options.mean.empty()) norm.mean = options.mean;
    if (!options.std.empty()) norm.std = options.std;
    try {
      norm.validate(static_cast<int>(spec_.input.c));
    } catch (const Error& e) {
      throw Error(source_ + ": input normalisation: " + e.what());
    }
    train::ModelInfo info;
    info.arch = &spec_;
    info.normalization = &norm;
    for (int k = 0; k < spec_.num_classes; ++k) info.class_names.push_back(std::to_string(k));
    ImportedModel model;
    model.arch = spec_;
    model.checkpoint = train::make_model_checkpoint(*net, info);
    model.checkpoint.meta.erase("data");  // no data set known: eval/export take --data
    model.checkpoint.meta["source"] = std::filesystem::path(source_).filename().string();
    return model;
  }

  const onnx::ModelProto& model_;
  int64_t opset_ = 0;  // of the default domain
  const onnx::GraphProto& graph_;
  ArchSpec spec_;
  std::deque<onnx::TensorProto> constant_storage_;
  std::map<std::string, Value> values_;
  std::set<std::string> used_names_;
  std::vector<const onnx::NodeProto*> node_of_layer_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

}  // namespace

ImportedModel import_onnx(const std::string& bytes, const std::string& source,
                          const ImportOptions& options) {
  onnx::ModelProto model;
  PICONAS_CHECK(bytes.size() < static_cast<size_t>(kOnnxMaxBytes) && model.ParseFromString(bytes),
                source << ": not an ONNX model (the protobuf does not parse; truncated?)");
  check_opset(model, source);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw Error(source + ": the ONNX checker refuses the model: " + why);
  }
  return Importer(model, source).run(options);
}

ImportedModel import_onnx_file(const std::string& path, const ImportOptions& options) {
  return import_onnx(read_file(path, kOnnxMaxBytes), path, options);
}

std::vector<std::string> write_imported(const ImportedModel& model, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const std::string network = (std::filesystem::path(out_dir) / "network.json").string();
  const std::string checkpoint = (std::filesystem::path(out_dir) / "model.ckpt").string();
  write_file_atomic(network, nlohmann::json::parse(to_graph_json(model.arch)).dump(1) + "\n");
  save_checkpoint(checkpoint, model.checkpoint);
  return {network, checkpoint};
}

}  // namespace piconas::nas::onnx_io
