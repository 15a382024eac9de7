// Squeeze-and-excitation on import: HardSigmoid, Sigmoid and the channel-scale
// Mul (tests/onnx/mbv3_block.* and sigmoid_se.*, made by
// tests/onnx/make_models.py with PyTorch; see the "generated_by" line of each
// .expected.json), against PyTorch's logits, the graph form, and the named
// refusals.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

std::string model_path(const std::string &name) {
  return std::string(PICONAS_SOURCE_DIR) + "/tests/onnx/" + name;
}

onnx::ModelProto proto(const std::string &name) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(model_path(name))));
  return m;
}

struct Expected {
  Tensor input, logits;
};

Expected expected(const std::string &name) {
  const nlohmann::json j =
      nlohmann::json::parse(read_file(model_path(name + ".expected.json")));
  Expected e{Tensor(j.at("input_shape").get<Shape>()),
             Tensor(j.at("logits_shape").get<Shape>())};
  const auto in = j.at("input").get<std::vector<float>>();
  const auto out = j.at("logits").get<std::vector<float>>();
  REQUIRE(static_cast<int64_t>(in.size()) == e.input.numel());
  REQUIRE(static_cast<int64_t>(out.size()) == e.logits.numel());
  std::copy(in.begin(), in.end(), e.input.data<float>());
  std::copy(out.begin(), out.end(), e.logits.data<float>());
  return e;
}

Tensor logits_of(const Checkpoint &checkpoint, const Tensor &input) {
  LoadedModel model = load_model(checkpoint, "imported");
  return (*model.module)(autograd::Variable(input)).value();
}

double max_rel_diff(const Tensor &a, const Tensor &b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::abs(a.get(i) - b.get(i)) /
                                std::max(1.0, std::abs(b.get(i))));
  return worst;
}

const GraphLayer &only_layer(const ArchSpec &spec, GraphOp op) {
  const GraphLayer *found = nullptr;
  for (const GraphLayer &l : spec.graph)
    if (l.op == op) {
      REQUIRE(found == nullptr);
      found = &l;
    }
  REQUIRE(found != nullptr);
  return *found;
}

void refused(const onnx::ModelProto &m, const char *expected_text) {
  try {
    onnx_io::import_onnx(m.SerializeAsString(), "se.onnx");
    FAIL("accepted");
  } catch (const Error &e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_MESSAGE(what.find(expected_text) != std::string::npos, what);
  }
}

onnx::NodeProto &node_of(onnx::ModelProto &m, const std::string &op) {
  for (onnx::NodeProto &n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == op)
      return n;
  FAIL("no node " << op);
  throw Error("unreachable");
}

} // namespace

TEST_CASE("squeeze-and-excitation models compute PyTorch's logits") {
  for (const std::string name : {"mbv3_block", "sigmoid_se"}) {
    INFO(name);
    const onnx_io::ImportedModel m =
        onnx_io::import_onnx_file(model_path(name + ".onnx"));
    const Expected e = expected(name);
    CHECK(max_rel_diff(logits_of(m.checkpoint, e.input), e.logits) < 2e-5);
    // The mul's first input is the features, its second the gate, whichever
    // order ONNX has (sigmoid_se writes gate * features).
    const GraphLayer &mul = only_layer(m.arch, GraphOp::Mul);
    const std::vector<LayerInfo> rows = arch_layers(m.arch);
    const LayerInfo &features = rows[static_cast<size_t>(mul.inputs[0]) + 1];
    const LayerInfo &gate = rows[static_cast<size_t>(mul.inputs[1]) + 1];
    CHECK(features.output.h > 1);
    CHECK(gate.output == Shape3{features.output.c, 1, 1});
    CHECK(gate.kind == LayerKind::Activation);
    const Activation want =
        name == "mbv3_block" ? Activation::Hardsigmoid : Activation::Sigmoid;
    CHECK(gate.activation == want);
    // The check can fail: the other gate moves the logits (by 5.8e-4 and more,
    // 29 times the tolerance).
    ArchSpec wrong = m.arch;
    wrong.graph[static_cast<size_t>(mul.inputs[1])].activation =
        want == Activation::Sigmoid ? Activation::Hardsigmoid
                                    : Activation::Sigmoid;
    Checkpoint c = m.checkpoint;
    c.meta["arch"] = to_text(wrong);
    CHECK(max_rel_diff(logits_of(c, e.input), e.logits) > 2e-4);
    // The graph text names the new ops and reads back as the same network.
    const std::string text = to_text(m.arch);
    CHECK(text.find(R"("op":"mul")") != std::string::npos);
    CHECK(text.find(want == Activation::Sigmoid
                        ? R"("op":"sigmoid")"
                        : R"("op":"hsigmoid")") != std::string::npos);
    CHECK(parse_arch(text) == m.arch);
  }
  // hswish everywhere but in the SE module: 4 hswish, one hsigmoid, one relu
  // (the SE's).
  const ArchSpec mbv3 =
      onnx_io::import_onnx_file(model_path("mbv3_block.onnx")).arch;
  int hswish = 0, relu = 0;
  for (const GraphLayer &l : mbv3.graph) {
    hswish +=
        l.op == GraphOp::Activation && l.activation == Activation::Hardswish;
    relu += l.op == GraphOp::Activation && l.activation == Activation::ReLU;
  }
  CHECK(hswish == 4);
  CHECK(relu == 1);
}

TEST_CASE("graph text: mul needs a features and a Cx1x1 gate input") {
  const std::string head =
      R"({"graph":1,"input":[3,8,8],"classes":2,"layers":[)";
  const std::string conv =
      R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"pad":[1,1]},)";
  const std::string gap =
      R"({"name":"g","op":"global_avgpool"},{"name":"s","op":"sigmoid"},)";
  const std::string fc = R"({"name":"fc","op":"linear","out":2}]})";
  const ArchSpec ok =
      parse_arch(head + conv + gap +
                 R"({"name":"m","op":"mul","inputs":["c","s"]},)" + fc);
  CHECK(arch_layers(ok)[4].kind == LayerKind::ChannelMul);
  CHECK(arch_layers(ok)[4].skip == 1);
  CHECK(arch_layers(ok)[4].output == Shape3{4, 8, 8});
  CHECK_THROWS_WITH_AS(
      parse_arch(head + conv + gap +
                 R"({"name":"m","op":"mul","inputs":["c","c"]},)" + fc),
      doctest::Contains("multiplies a 4x8x8 tensor by a 4x8x8 one"), Error);
  CHECK_THROWS_WITH_AS(
      parse_arch(head + conv + gap + R"({"name":"m","op":"mul"},)" + fc),
      doctest::Contains("mul needs field \"inputs\""), Error);
}

TEST_CASE("squeeze-and-excitation patterns that cannot be imported are one "
          "error naming the node") {
  const onnx::ModelProto good = proto("mbv3_block.onnx");
  { // an elementwise product of two feature maps
    onnx::ModelProto m = good;
    onnx::NodeProto &mul = node_of(m, "Mul");
    mul.set_input(1, mul.input(0));
    refused(m, "(Mul): multiplies a 16x4x4 tensor by a 16x4x4 one; only a "
               "channel scale");
  }
  { // a product with a constant
    onnx::ModelProto m = good;
    node_of(m, "Mul").set_input(1, m.graph().initializer(0).name());
    refused(m, "(Mul): multiplies by the constant");
  }
  { // ONNX's default HardSigmoid (alpha 0.2) is not relu6(x + 3) / 6
    onnx::ModelProto m = good;
    onnx::NodeProto &hs = node_of(m, "HardSigmoid");
    for (onnx::AttributeProto &a : *hs.mutable_attribute())
      if (a.name() == "alpha")
        a.set_f(0.2f);
    refused(m, "(HardSigmoid): HardSigmoid(alpha 0.200000, beta 0.500000) is "
               "not supported");
  }
}
