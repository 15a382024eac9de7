// One function per ONNX op type or node pattern (nas/onnx/onnx_importer.h): each maps a node to
// graph layers and their tensors, or fails naming the node, its op type and why.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "nas/onnx/onnx_importer.h"

namespace piconas::nas::onnx_io {

void Importer::import_node(const onnx::NodeProto& node) {
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
    add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation = Activation::Hardswish;
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
  } else if (op == "ReduceMean") {
    import_reduce_mean(node);
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
         "AveragePool, GlobalAveragePool, ReduceMean over H and W, Flatten, Reshape, Gemm, "
         "MatMul, Dropout, Identity; docs/onnx.md)");
  }
}

void Importer::import_conv(const onnx::NodeProto& node) {
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

// Pad (mode constant, value 0, spatial axes only): remembered on its output value and added to
// the padding of the Conv that reads it (nn.ZeroPad2d before a conv).
void Importer::import_pad(const onnx::NodeProto& node) {
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

void Importer::import_batchnorm(const onnx::NodeProto& node) {
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

void Importer::import_clip(const onnx::NodeProto& node) {
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

void Importer::import_pool(const onnx::NodeProto& node, GraphOp op) {
  if (int_attr(node, "ceil_mode", 0) != 0) fail(node, "ceil_mode 1 is not supported");
  if (int_attr(node, "storage_order", 0) != 0 || node.output_size() > 1)
    fail(node, "the indices output is not supported");
  const Size2 dilation = size2_attr(node, "dilations", {1, 1}, 1);
  if (dilation != Size2{}) fail(node, "dilated pooling is not supported");
  // A zero Pad before an AveragePool (how PyTorch exports AvgPool2d(padding > 0) with its default
  // count_include_pad=True): its zeros are taps of every window, i.e. padding that is counted.
  const bool avg = op == GraphOp::AvgPool;
  const int in = data_input(node, 0, false, avg);
  const std::array<int, 4> extra = input_pad(node, 0);
  const Size2 kernel = size2_attr(node, "kernel_shape", {0, 0}, 1);
  if (kernel == Size2{0, 0}) fail(node, "attribute kernel_shape is missing");
  const Size2 stride = size2_attr(node, "strides", {1, 1}, 1);
  const std::array<int, 4> p = pads_of(node, in, extra, kernel, stride, {1, 1});
  bool include_pad = int_attr(node, "count_include_pad", 0) != 0;
  if (extra != std::array<int, 4>{0, 0, 0, 0}) {
    if (!include_pad && p != extra)
      fail(node, "reads the zeros of Pad '" +
                     excerpt(values_.at(node.input(0)).pad_node->name(), 60) +
                     "' (counted in the average) and pads the image itself with "
                     "count_include_pad 0 (not counted); only one of the two is supported");
    include_pad = true;
  }
  if (p[2] != p[0] || p[3] != p[1])
    fail(node, "pads [" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " +
                   std::to_string(p[2]) + ", " + std::to_string(p[3]) +
                   "] differ before and after the image; asymmetric padding of a pool is not "
                   "supported");
  GraphLayer& l = add_layer(node, op, {in});
  l.kernel = kernel;
  l.stride = stride;
  l.pad = {p[0], p[1]};
  l.count_include_pad = avg && include_pad;
}

// Gemm (transB 0 or 1, alpha = beta = 1) and MatMul: the fully connected classifier.
void Importer::import_linear(const onnx::NodeProto& node, bool gemm) {
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

void Importer::import_add(const onnx::NodeProto& node) {
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
void Importer::import_hardsigmoid(const onnx::NodeProto& node) {
  const float alpha = float_attr(node, "alpha", 0.2f), beta = float_attr(node, "beta", 0.5f);
  if (std::abs(alpha - 1.0f / 6) > 1e-6f || beta != 0.5f)
    fail(node, "HardSigmoid(alpha " + std::to_string(alpha) + ", beta " + std::to_string(beta) +
                   ") is not supported (only alpha 1/6, beta 0.5: relu6(x + 3) / 6)");
  add_layer(node, GraphOp::Activation, {data_input(node, 0)}).activation = Activation::Hardsigmoid;
}

// Mul of a CxHxW tensor and a Cx1x1 gate computed by the network (in either order): the
// squeeze-and-excitation scale; or of two computed tensors of one shape (x * sigmoid(conv(x))
// gating): their elementwise product; or of a CxHxW tensor and a 1xHxW gate (either order:
// x * sigmoid(conv(x)) with a one-channel conv, spatial attention): each pixel's channels times
// its gate value.
void Importer::import_mul(const onnx::NodeProto& node) {
  if (node.input_size() != 2) fail(node, "needs two inputs");
  for (int c = 0; c < 2; ++c)
    if (constant(node.input(c)))
      fail(node, "multiplies by the constant '" + excerpt(node.input(c), 60) +
                     "'; only a channel scale by a gate the network computes is supported");
  int features = data_input(node, 0), gate = data_input(node, 1);
  Shape3 f = shape_of(node, features), g = shape_of(node, gate);
  if ((f.h * f.w == 1 && g.h * g.w > 1) || (f.c == 1 && g.c > 1)) {
    std::swap(features, gate);
    std::swap(f, g);
  }
  if (g != Shape3{f.c, 1, 1} && g != f && g != Shape3{1, f.h, f.w})
    fail(node, "multiplies a " + shape3_str(f) + " tensor by a " + shape3_str(g) +
                   " one; only a channel scale by a " + std::to_string(f.c) +
                   "x1x1 gate (squeeze-and-excitation), a pixel scale by a 1x" +
                   std::to_string(f.h) + "x" + std::to_string(f.w) +
                   " gate (spatial attention) or an elementwise product of two tensors of one "
                   "shape is supported");
  add_layer(node, GraphOp::Mul, {features, gate});
}

void Importer::import_flatten(const onnx::NodeProto& node) {
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

// ReduceMean over the height and width (axes {2, 3} or {-2, -1}, the attribute of opsets < 18):
// torch.mean(x, (2, 3), keepdim=True) as squeeze-and-excitation blocks write their squeeze. It
// is a global average pool; with keepdims 0 its [N, C] output is also the classifier's flattened
// input (x.mean((2, 3)) before the Linear).
void Importer::import_reduce_mean(const onnx::NodeProto& node) {
  if (node.input_size() > 1) fail(node, "the axes input (opset 18) is not supported");
  std::vector<int64_t> axes = ints_attr(node, "axes");
  for (int64_t& a : axes)
    if (a < 0) a += 4;
  std::sort(axes.begin(), axes.end());
  if (axes != std::vector<int64_t>{2, 3}) {
    std::string given;
    for (int64_t a : ints_attr(node, "axes"))
      given += (given.empty() ? "" : ", ") + std::to_string(a);
    fail(node, "reduces axes [" + given +
                   "]; only the mean over the height and width (axes [2, 3]) is supported");
  }
  const int64_t keepdims = int_attr(node, "keepdims", 1);
  add_layer(node, GraphOp::GlobalAvgPool, {data_input(node, 0)});
  if (keepdims == 0) alias(node, static_cast<int>(spec_.graph.size()) - 1, true);
}

}  // namespace piconas::nas::onnx_io
