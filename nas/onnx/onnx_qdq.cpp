#include "nas/onnx/onnx_qdq.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nas/onnx/onnx_export.h"
#include "nas/onnx/onnx_import.h"

namespace piconas::nas::onnx_io {

namespace {

using deploy::QLayer;
using deploy::QuantizedModel;
using deploy::TensorQuant;

class QdqWriter {
public:
  explicit QdqWriter(onnx::GraphProto &graph) : graph_(graph) {}

  template <class T>
  void initializer(const std::string &name, onnx::TensorProto::DataType type,
                   const std::vector<int64_t> &dims,
                   const std::vector<T> &values) {
    onnx::TensorProto *t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims)
      t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                                values.size() * sizeof(T)));
  }
  onnx::NodeProto &node(const std::string &op, const std::string &name,
                        const std::vector<std::string> &inputs,
                        const std::string &output) {
    onnx::NodeProto *n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string &in : inputs)
      n->add_input(in);
    n->add_output(output);
    return *n;
  }
  static void ints(onnx::NodeProto &n, const char *name,
                   const std::vector<int64_t> &values) {
    onnx::AttributeProto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values)
      a->add_ints(v);
  }
  static void integer(onnx::NodeProto &n, const char *name, int64_t value) {
    onnx::AttributeProto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }

  // The float value of int8 tensor t: float_value quantized and dequantized
  // with t's (s, z).
  std::string quantize_dequantize(const std::string &float_value,
                                  const TensorQuant &t,
                                  const std::string &name) {
    initializer<float>(name + ".scale", onnx::TensorProto::FLOAT, {},
                       {t.scale});
    initializer<int8_t>(name + ".zero_point", onnx::TensorProto::INT8, {},
                        {static_cast<int8_t>(t.zero_point)});
    node("QuantizeLinear", name + ".quantize",
         {float_value, name + ".scale", name + ".zero_point"}, name + ".int8");
    node("DequantizeLinear", name + ".dequantize",
         {name + ".int8", name + ".scale", name + ".zero_point"}, name);
    return name;
  }

  // Per-output-channel constant: int8 (or int32) values with their scales,
  // dequantized on axis 0.
  template <class T>
  std::string dequantized_constant(const std::string &name,
                                   onnx::TensorProto::DataType type,
                                   const std::vector<int64_t> &dims,
                                   const std::vector<T> &values,
                                   const std::vector<float> &scales) {
    initializer<T>(name + ".quantized", type, dims, values);
    initializer<float>(name + ".scale", onnx::TensorProto::FLOAT,
                       {static_cast<int64_t>(scales.size())}, scales);
    initializer<T>(name + ".zero_point", type,
                   {static_cast<int64_t>(scales.size())},
                   std::vector<T>(scales.size(), 0));
    integer(node("DequantizeLinear", name + ".dequantize",
                 {name + ".quantized", name + ".scale", name + ".zero_point"},
                 name),
            "axis", 0);
    return name;
  }

private:
  onnx::GraphProto &graph_;
};

// ONNX-layout int8 weights of a conv, depthwise conv or classifier from the
// int8 layout (nas/deploy/quantize.h: [O, KH, KW, I], [1, KH, KW, C], [O, H, W, C]
// for a classifier on a CxHxW input of `channels` channels).
std::vector<int8_t> onnx_weights(const QLayer &l, int64_t in_c, int64_t out_c,
                                 int64_t channels) {
  const int64_t kk = int64_t{l.kernel.h} * l.kernel.w;
  std::vector<int8_t> w(l.weight.size());
  if (l.kind == LayerKind::FullyConnected) { // [O, H, W, C] -> [O, C, H, W]
    const int64_t hw = in_c / channels, per_out = in_c;
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t p = 0; p < hw; ++p)
          w[static_cast<size_t>(o * per_out + c * hw + p)] =
              l.weight[static_cast<size_t>(o * per_out + p * channels + c)];
    return w;
  }
  if (l.kind == LayerKind::Depthwise) { // [1, KH, KW, C] -> [C, 1, KH, KW]
    for (int64_t c = 0; c < out_c; ++c)
      for (int64_t k = 0; k < kk; ++k)
        w[static_cast<size_t>(c * kk + k)] =
            l.weight[static_cast<size_t>(k * out_c + c)];
    return w;
  }
  for (int64_t o = 0; o < out_c; ++o) // [O, KH, KW, I] -> [O, I, KH, KW], I = C_in / group
    for (int64_t i = 0; i < in_c; ++i)
      for (int64_t k = 0; k < kk; ++k)
        w[static_cast<size_t>((o * in_c + i) * kk + k)] =
            l.weight[static_cast<size_t>((o * kk + k) * in_c + i)];
  return w;
}

// Zeros after the image on one axis, implied by the output size
// (deploy::Layer::padding).
int64_t pad_after(const QLayer &l, int64_t in, int64_t out, int kernel,
                  int stride, int pad) {
  const int64_t after = (out - 1) * stride + kernel - in - pad;
  PICONAS_CHECK(after > -stride, "export --onnx-int8: layer '"
                                     << l.name << "': output size " << out
                                     << " does not follow from "
                                        "its input "
                                     << in);
  return std::max<int64_t>(after, 0);
}

// kernel_shape, strides and pads of a conv or pool window.
void window_attributes(onnx::NodeProto &n, const QLayer &l, const Shape3 &in,
                       const Shape3 &out) {
  QdqWriter::ints(n, "kernel_shape", {l.kernel.h, l.kernel.w});
  QdqWriter::ints(n, "strides", {l.stride.h, l.stride.w});
  QdqWriter::ints(
      n, "pads",
      {l.padding.h, l.padding.w,
       pad_after(l, in.h, out.h, l.kernel.h, l.stride.h, l.padding.h),
       pad_after(l, in.w, out.w, l.kernel.w, l.stride.w, l.padding.w)});
}

void value_info(onnx::ValueInfoProto *v, const std::string &name,
                const std::vector<int64_t> &dims) {
  v->set_name(name);
  auto *type = v->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  auto *shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t d : dims)
    shape->add_dim()->set_dim_value(d);
}

} // namespace

std::string export_onnx_qdq(const QuantizedModel &model,
                            const data::Normalization *normalization) {
  PICONAS_CHECK(!model.layers.empty() &&
                    model.layers.back().kind == LayerKind::FullyConnected,
                "export --onnx-int8: the model does not end in its classifier");
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("piconas");
  proto.add_opset_import()->set_version(kOnnxExportOpset);
  if (normalization) {
    auto *prop = proto.add_metadata_props();
    prop->set_key(kNormalizationKey);
    prop->set_value(nlohmann::json{{"mean", normalization->mean},
                                   {"std", normalization->std}}
                        .dump());
  }
  onnx::GraphProto &graph = *proto.mutable_graph();
  graph.set_name("piconas_int8");
  QdqWriter w(graph);
  const Shape3 in_shape = model.tensors[0].shape;
  value_info(graph.add_input(), "images", {in_shape.c, in_shape.h, in_shape.w});
  std::vector<std::string> value(model.tensors.size());
  value[0] = w.quantize_dequantize("images", model.tensors[0], "t0");
  for (const QLayer &l : model.layers) {
    const TensorQuant &in = model.tensors[static_cast<size_t>(l.input)];
    const TensorQuant &out = model.tensors[static_cast<size_t>(l.output)];
    const std::string x = value[static_cast<size_t>(l.input)];
    const std::string y = l.name + ".float";
    std::string result = y;
    switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::Depthwise:
    case LayerKind::FullyConnected: {
      const bool fc = l.kind == LayerKind::FullyConnected;
      const int64_t in_c =
          fc ? in.shape.c * in.shape.h * in.shape.w : in.shape.c;
      const int64_t out_c = out.shape.c;
      const bool depthwise = l.kind == LayerKind::Depthwise;
      const int64_t groups = l.kind == LayerKind::Conv ? l.groups : 1;
      const int64_t filter_c = depthwise ? 1 : in_c / groups; // [O, I / group, KH, KW]
      std::vector<int64_t> dims{out_c, filter_c};
      if (!fc) {
        dims.push_back(l.kernel.h);
        dims.push_back(l.kernel.w);
      }
      const std::string weight = w.dequantized_constant<int8_t>(
          l.name + ".weight", onnx::TensorProto::INT8, dims,
          onnx_weights(l, fc ? in_c : filter_c, out_c, in.shape.c),
          l.weight_scale);
      std::vector<float> bias_scale(l.weight_scale.size());
      for (size_t c = 0; c < bias_scale.size(); ++c)
        bias_scale[c] = static_cast<float>(static_cast<double>(in.scale) *
                                           l.weight_scale[c]);
      const std::string bias = w.dequantized_constant<int32_t>(
          l.name + ".bias", onnx::TensorProto::INT32, {out_c}, l.bias,
          bias_scale);
      if (fc) {
        const std::string flat = l.name + ".flat";
        QdqWriter::integer(w.node("Flatten", flat, {x}, flat), "axis", 1);
        QdqWriter::integer(w.node("Gemm", l.name, {flat, weight, bias}, y),
                           "transB", 1);
        break;
      }
      onnx::NodeProto &n = w.node("Conv", l.name, {x, weight, bias}, y);
      window_attributes(n, l, in.shape, out.shape);
      QdqWriter::integer(n, "group", depthwise ? in_c : groups);
      break;
    }
    case LayerKind::Add:
      w.node("Add", l.name, {x, value[static_cast<size_t>(l.input2)]}, y);
      break;
    case LayerKind::ChannelMul:
    case LayerKind::Mul:  // ONNX Mul broadcasts the Cx1x1 gate
      w.node("Mul", l.name, {x, value[static_cast<size_t>(l.input2)]}, y);
      break;
    case LayerKind::Hardswish:
      w.node("HardSwish", l.name, {x}, y);
      break;
    case LayerKind::Logistic:  // its output's QuantizeLinear: scale 1/256, zero point -128
      w.node("Sigmoid", l.name, {x}, y);
      break;
    case LayerKind::GlobalAvgPool:
      w.node("GlobalAveragePool", l.name, {x}, y);
      break;
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: { // count_include_pad as the int8 kernel divides
      const bool max = l.kind == LayerKind::MaxPool;
      onnx::NodeProto &n =
          w.node(max ? "MaxPool" : "AveragePool", l.name, {x}, y);
      window_attributes(n, l, in.shape, out.shape);
      if (!max)
        QdqWriter::integer(n, "count_include_pad", l.count_include_pad);
      break;
    }
      case LayerKind::Input:
      case LayerKind::BatchNorm:
      case LayerKind::LayerNorm:
      case LayerKind::Activation:
        deploy::unexpected_layer_kind(l.kind, "onnx_qdq");
    }
    // A fused activation is the int8 clamp: Clip at its dequantized bounds
    // (ReLU: 0; ReLU6: min(6, the range's top); the hard-sigmoid gate: 0 and
    // 1).
    if (l.activation.min > -128 || l.activation.max < 127) {
      const std::string lo = l.name + ".clip_min", hi = l.name + ".clip_max";
      w.initializer<float>(
          lo, onnx::TensorProto::FLOAT, {},
          {static_cast<float>(l.activation.min - out.zero_point) * out.scale});
      w.initializer<float>(
          hi, onnx::TensorProto::FLOAT, {},
          {static_cast<float>(l.activation.max - out.zero_point) * out.scale});
      result = l.name + ".clipped";
      w.node("Clip", l.name + ".clip", {y, lo, hi}, result);
    }
    value[static_cast<size_t>(l.output)] =
        w.quantize_dequantize(result, out, "t" + std::to_string(l.output));
  }
  // The logits: the last tensor's dequantized value under the output name.
  w.node("Identity", "logits", {value[static_cast<size_t>(model.output())]},
         "logits");
  value_info(graph.add_output(), "logits",
             {model.tensors[static_cast<size_t>(model.output())].shape.c});
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception &e) {
    std::string why = e.what();
    throw Error(
        "export --onnx-int8: the ONNX checker refuses the written model: " +
        why.substr(0, why.find('\n')));
  }
  std::string bytes;
  PICONAS_CHECK(proto.SerializeToString(&bytes),
                "export --onnx-int8: protobuf serialization failed");
  return bytes;
}

} // namespace piconas::nas::onnx_io
