// QDQ ONNX export of an int8 model (nas/onnx/onnx_qdq.h) on the imported
// PyTorch MobileNetV3 block (tests/onnx/mbv3_block.*, made by
// tests/onnx/make_models.py): the ONNX checker accepts it, every int8 tensor
// has its quantizer's scale and zero point, and the dequantized weights and
// biases are the quantizer's (within half a step of the float weights, in ONNX
// layout).
#include <doctest/doctest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>

#include "onnx_fixture.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/quantize.h"
#include "nas/onnx/onnx_import.h"
#include "nas/onnx/onnx_qdq.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;

using namespace piconas::onnx_test;

namespace {

template <class T> std::vector<T> values_of(const onnx::TensorProto &t) {
  std::vector<T> v(t.raw_data().size() / sizeof(T));
  REQUIRE(v.size() * sizeof(T) == t.raw_data().size());
  std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  return v;
}

struct Qdq {
  onnx::ModelProto proto;
  std::map<std::string, const onnx::TensorProto *> init;
  std::map<std::string, int> op_count;
  const onnx::TensorProto &at(const std::string &name) const {
    const auto it = init.find(name);
    REQUIRE_MESSAGE(it != init.end(), name);
    return *it->second;
  }
};

// Dequantized weights: the int8 values times their channel's scale, in ONNX
// layout (the float graph's OIHW; a classifier's input in NCHW Flatten order),
// within half a quantization step of the folded float weights. Returns the
// layers checked.
int check_dequantized_weights(const Qdq &x, const Graph &g,
                              const QuantizedModel &q) {
  int checked_layers = 0;
  for (size_t i = 0; i < q.layers.size(); ++i) {
    const QLayer &l = q.layers[i];
    const Layer &f = g.layers[i];
    if (l.weight.empty())
      continue;
    INFO(l.name);
    const std::vector<int8_t> w =
        values_of<int8_t>(x.at(l.name + ".weight.quantized"));
    const std::vector<float> ws =
        values_of<float>(x.at(l.name + ".weight.scale"));
    REQUIRE(ws == l.weight_scale);
    REQUIRE(w.size() == f.weight.size());
    const size_t per_out = w.size() / ws.size();
    for (size_t k = 0; k < w.size(); ++k) {
      const float s = ws[k / per_out];
      REQUIRE(std::abs(w[k] * s - f.weight[k]) <= 0.5f * s * 1.0001f);
    }
    const std::vector<int32_t> b =
        values_of<int32_t>(x.at(l.name + ".bias.quantized"));
    const std::vector<float> bs =
        values_of<float>(x.at(l.name + ".bias.scale"));
    REQUIRE(b == l.bias);
    for (size_t c = 0; c < b.size(); ++c)
      CHECK(std::abs(static_cast<double>(b[c]) * bs[c] - f.bias[c]) <=
            0.5 * bs[c] * 1.0001);
    ++checked_layers;
  }
  return checked_layers;
}

// The QDQ export of an imported test model, parsed and checked.
Qdq export_qdq(const std::string &name, Graph &g, QuantizedModel &q) {
  const onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path(name + ".onnx"));
  train::LoadedModel loaded = train::load_model(m.checkpoint, name);
  g = lower_network(loaded.arch, *loaded.module);
  const data::Normalization norm = loaded.normalization;
  q = quantize_graph(g, testing::synthetic_images(m.arch.input, 32, 7, norm),
                     norm);
  Qdq x;
  REQUIRE(x.proto.ParseFromString(onnx_io::export_onnx_qdq(q, &norm)));
  onnx::checker::check_model(x.proto);
  for (const onnx::TensorProto &t : x.proto.graph().initializer())
    x.init[t.name()] = &t;
  for (const onnx::NodeProto &n : x.proto.graph().node())
    ++x.op_count[n.op_type()];
  return x;
}

} // namespace

TEST_CASE("QDQ export of the int8 SE model: checker, tensor scales, "
          "dequantized weights") {
  Graph g;
  QuantizedModel q;
  Qdq x = export_qdq("mbv3_block", g, q);

  // One quantize/dequantize pair per int8 tensor (the input included), with its
  // (s, z).
  CHECK(x.op_count["QuantizeLinear"] == static_cast<int>(q.tensors.size()));
  for (size_t t = 0; t < q.tensors.size(); ++t) {
    const std::string name = "t" + std::to_string(t);
    CHECK(values_of<float>(x.at(name + ".scale")) ==
          std::vector<float>{q.tensors[t].scale});
    CHECK(values_of<int8_t>(x.at(name + ".zero_point")) ==
          std::vector<int8_t>{static_cast<int8_t>(q.tensors[t].zero_point)});
  }
  CHECK(x.op_count["HardSwish"] == 4);
  CHECK(x.op_count["Mul"] == 1);
  CHECK(x.op_count["Conv"] == 7);
  CHECK(x.op_count["Gemm"] == 1);

  CHECK(check_dequantized_weights(x, g, q) == 8); // 7 convs and the classifier
  // The depthwise conv keeps its groups.
  for (const onnx::NodeProto &n : x.proto.graph().node())
    if (n.op_type() == "Conv" && n.name() == "dw_dw_0_Conv")
      for (const onnx::AttributeProto &a : n.attribute())
        if (a.name() == "group")
          CHECK(a.i() == 16);
}

TEST_CASE("QDQ export of pools and a classifier on a CxHxW map (ds_net)") {
  Graph g;
  QuantizedModel q;
  Qdq x = export_qdq("ds_net", g, q);
  CHECK(x.op_count["MaxPool"] >= 1);
  CHECK(x.op_count["AveragePool"] >= 1);
  // The classifier reads a map larger than 1x1: its weights go back from the
  // kernels' NHWC order to ONNX's NCHW Flatten order.
  bool map_classifier = false;
  for (const QLayer &l : q.layers)
    if (l.kind == LayerKind::FullyConnected) {
      const Shape3 in = q.tensors[static_cast<size_t>(l.input)].shape;
      map_classifier = map_classifier || in.h * in.w > 1;
    }
  CHECK(map_classifier);
  CHECK(check_dequantized_weights(x, g, q) >= 2);
}

TEST_CASE("QDQ export of grouped convs (grouped_net): group and [O, I / group, "
          "KH, KW] weights") {
  Graph g;
  QuantizedModel q;
  Qdq x = export_qdq("grouped_net", g, q);
  CHECK(check_dequantized_weights(x, g, q) == 5); // 4 convs and the classifier
  std::vector<int64_t> groups;
  for (const onnx::NodeProto &n : x.proto.graph().node())
    if (n.op_type() == "Conv")
      for (const onnx::AttributeProto &a : n.attribute())
        if (a.name() == "group")
          groups.push_back(a.i());
  CHECK(groups == std::vector<int64_t>{1, 2, 4, 4});
  for (const QLayer &l : q.layers)
    if (l.kind == LayerKind::Conv && l.groups > 1) {
      const onnx::TensorProto &w = x.at(l.name + ".weight.quantized");
      const int64_t in_c = q.tensors[static_cast<size_t>(l.input)].shape.c;
      REQUIRE(w.dims_size() == 4);
      CHECK(w.dims(1) == in_c / l.groups);
    }
}

TEST_CASE("QDQ export of sigmoid gates (gated_conv): Sigmoid between pairs at 1/256, -128") {
  Graph g;
  QuantizedModel q;
  Qdq x = export_qdq("gated_conv", g, q);
  CHECK(x.op_count["Sigmoid"] == 2);
  CHECK(x.op_count["Mul"] == 2);
  CHECK(x.op_count["QuantizeLinear"] == static_cast<int>(q.tensors.size()));
  int gates = 0;
  for (const QLayer &l : q.layers) {
    if (l.kind != LayerKind::Logistic)
      continue;
    ++gates;
    const std::string name = "t" + std::to_string(l.output);
    CHECK(values_of<float>(x.at(name + ".scale")) == std::vector<float>{1.0f / 256.0f});
    CHECK(values_of<int8_t>(x.at(name + ".zero_point")) == std::vector<int8_t>{-128});
  }
  CHECK(gates == 2);
}
