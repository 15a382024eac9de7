// Asymmetric padding on import: explicit per-side pads, auto_pad (VALID, SAME_UPPER,
// SAME_LOWER) and a zero Pad node folded into the Conv that reads it (nn.ZeroPad2d), checked
// against PyTorch's logits (tests/onnx/padded_net.*, made by tests/onnx/make_models.py) and
// against hand-computed pads.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "onnx_fixture.h"
#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/graph.h"
#include "nas/onnx/onnx_export.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;

using namespace piconas::onnx_test;

namespace {

onnx::ModelProto proto(const std::string& name) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(model_path(name))));
  return m;
}

const GraphLayer& layer(const ArchSpec& spec, size_t conv_index) {
  size_t seen = 0;
  for (const GraphLayer& l : spec.graph)
    if (l.op == GraphOp::Conv && seen++ == conv_index) return l;
  FAIL("no conv " << conv_index);
  throw Error("unreachable");
}

void set_string_attr(onnx::NodeProto& node, const char* name, const std::string& value) {
  for (auto& a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_s(value);
      return;
    }
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_ints_attr(onnx::NodeProto& node, const char* name, std::vector<int64_t> values) {
  for (int i = 0; i < node.attribute_size(); ++i)
    if (node.attribute(i).name() == name) node.mutable_attribute()->DeleteSubrange(i, 1);
  if (values.empty()) return;
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

std::string one_line_error(const onnx::ModelProto& m) {
  try {
    onnx_io::import_onnx(m.SerializeAsString(), "edited.onnx");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    return what;
  }
  FAIL("accepted");
  return "";
}

}  // namespace

TEST_CASE("zero Pad nodes fold into the conv: PyTorch's logits, per-side pads") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("padded_net.onnx"));
  const Expected e = expected("padded_net");
  CHECK(max_rel_diff(logits_of(m.checkpoint, e.input), e.logits) < 2e-5);
  // stem: ZeroPad2d((0, 1, 0, 1)) + 3x3 stride 2; even: same + 2x2; dw: ZeroPad2d((1, 2, 0, 1)).
  CHECK(layer(m.arch, 0).pad == Size2{0, 0});
  CHECK(layer(m.arch, 0).pad_end == Size2{1, 1});
  CHECK(layer(m.arch, 1).pad_end == Size2{1, 1});
  CHECK(layer(m.arch, 2).pad == Size2{0, 1});
  CHECK(layer(m.arch, 2).pad_end == Size2{1, 2});
  // The JSON form keeps pad_end (canonical: only where it differs from pad), and export then
  // import gives the same layers and logits.
  const std::string text = to_text(m.arch);
  CHECK(text.find("\"pad_end\":[1,2]") != std::string::npos);
  CHECK(parse_arch(text) == m.arch);
  // pad_end equal to pad is the symmetric form (not printed); pools take no pad_end.
  const std::string conv = R"({"graph":1,"input":[1,4,4],"classes":2,"layers":[)"
                           R"({"name":"c","op":"conv","out":2,"kernel":[3,3],"pad":[1,1],)";
  const std::string fc = R"({"name":"fc","op":"linear","out":2}]})";
  CHECK(parse_arch(conv + R"("pad_end":[1,1]},)" + fc) ==
        parse_arch(conv + R"("bias":false},)" + fc));
  CHECK(to_text(parse_arch(conv + R"("pad_end":[1,1]},)" + fc)).find("pad_end") ==
        std::string::npos);
  CHECK_THROWS_WITH_AS(parse_arch(R"({"graph":1,"input":[1,4,4],"classes":2,"layers":[)"
                                  R"({"name":"p","op":"maxpool","kernel":[2,2],"pad_end":[1,1]},)" +
                                  fc),
                       doctest::Contains("unknown field \"pad_end\""), Error);
  train::LoadedModel loaded = train::load_model(m.checkpoint, "padded_net");
  const onnx_io::ImportedModel back =
      onnx_io::import_onnx(onnx_io::export_onnx(loaded.arch, *loaded.module), "exported");
  REQUIRE(back.arch.graph.size() == m.arch.graph.size());
  for (size_t i = 0; i < m.arch.graph.size(); ++i) {
    GraphLayer a = m.arch.graph[i], b = back.arch.graph[i];
    a.name = b.name = "";
    CHECK(a == b);
  }
  CHECK(max_rel_diff(logits_of(back.checkpoint, e.input), e.logits) < 2e-5);
}

TEST_CASE("Pad at opset 11 (pads and constant_value as inputs) imports the same network") {
  onnx::ModelProto m = proto("padded_net.onnx");
  m.mutable_opset_import(0)->set_version(11);
  int count = 0;
  for (auto& node : *m.mutable_graph()->mutable_node()) {
    if (node.op_type() != "Pad") continue;
    std::vector<int64_t> pads;
    for (const auto& a : node.attribute())
      if (a.name() == "pads") pads.assign(a.ints().begin(), a.ints().end());
    REQUIRE(pads.size() == 8);
    set_ints_attr(node, "pads", {});
    for (int i = 0; i < node.attribute_size(); ++i)
      if (node.attribute(i).name() == "value") node.mutable_attribute()->DeleteSubrange(i, 1);
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name("pads_" + std::to_string(count));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(8);
    for (int64_t p : pads) t->add_int64_data(p);
    auto* v = m.mutable_graph()->add_initializer();
    v->set_name("zero_" + std::to_string(count));
    v->set_data_type(onnx::TensorProto::FLOAT);
    v->add_float_data(0.0f);
    node.add_input(t->name());
    node.add_input(v->name());
    ++count;
  }
  REQUIRE(count == 3);
  // Clip (the ReLU6) takes min and max as inputs from opset 11 on.
  for (auto& node : *m.mutable_graph()->mutable_node()) {
    if (node.op_type() != "Clip") continue;
    for (const char* bound : {"min", "max"}) {
      float value = 0;
      for (int i = 0; i < node.attribute_size(); ++i)
        if (node.attribute(i).name() == bound) {
          value = node.attribute(i).f();
          node.mutable_attribute()->DeleteSubrange(i, 1);
        }
      auto* t = m.mutable_graph()->add_initializer();
      t->set_name(node.name() + "_" + bound);
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_float_data(value);
      node.add_input(t->name());
    }
  }
  const onnx_io::ImportedModel got = onnx_io::import_onnx(m.SerializeAsString(), "opset11");
  const onnx_io::ImportedModel want = onnx_io::import_onnx_file(model_path("padded_net.onnx"));
  CHECK(got.arch == want.arch);
  const Expected e = expected("padded_net");
  CHECK(max_rel_diff(logits_of(got.checkpoint, e.input), e.logits) < 2e-5);
  // A non-zero constant value is refused, naming the Pad.
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == "zero_1") t.set_float_data(0, 1.0f);
  CHECK(one_line_error(m).find("(Pad): pads with 1.0") != std::string::npos);
}

TEST_CASE("auto_pad SAME_UPPER, SAME_LOWER and VALID give ONNX's pads") {
  // resnet_block: 3x3 stride 1 convs, two 3x3 and one 1x1 stride 2 convs, on 8x8.
  auto with_auto_pad = [](const char* mode) {
    onnx::ModelProto m = proto("resnet_block.onnx");
    for (auto& node : *m.mutable_graph()->mutable_node())
      if (node.op_type() == "Conv") {
        set_ints_attr(node, "pads", {});
        set_string_attr(node, "auto_pad", mode);
      }
    return onnx_io::import_onnx(m.SerializeAsString(), mode);
  };
  const onnx_io::ImportedModel explicit_pads =
      onnx_io::import_onnx_file(model_path("resnet_block.onnx"));
  const onnx_io::ImportedModel upper = with_auto_pad("SAME_UPPER");
  const onnx_io::ImportedModel lower = with_auto_pad("SAME_LOWER");
  for (size_t i = 0; i < explicit_pads.arch.graph.size(); ++i) {
    const GraphLayer& x = explicit_pads.arch.graph[i];
    if (x.op != GraphOp::Conv) continue;
    INFO(x.name);
    const GraphLayer &u = upper.arch.graph[i], &l = lower.arch.graph[i];
    if (x.stride == Size2{1, 1}) {  // 8 -> 8: 2 zeros, one per side, like pads 1
      CHECK(u == x);
      CHECK(l == x);
    } else if (x.kernel == Size2{3, 3}) {  // 8 -> 4 at stride 2: 3 * 2 + 3 - 8 = 1 zero
      CHECK(u.pad == Size2{0, 0});
      CHECK(u.pad_end == Size2{1, 1});
      CHECK(l.pad == Size2{1, 1});
      CHECK(pad_after(l) == Size2{0, 0});
    } else {  // 1x1 stride 2: 3 * 2 + 1 - 8 < 0: none
      CHECK(u.pad == Size2{0, 0});
      CHECK(pad_after(u) == Size2{0, 0});
    }
  }
  const Expected e = expected("resnet_block");
  CHECK(max_rel_diff(logits_of(upper.checkpoint, e.input), logits_of(lower.checkpoint, e.input)) > 1e-4);
  // VALID on the stem only (the rest keeps its shapes): no zeros, 8x8 -> 6x6.
  onnx::ModelProto m = proto("resnet_block.onnx");
  for (auto& node : *m.mutable_graph()->mutable_node())
    if (node.op_type() == "Conv") {
      set_ints_attr(node, "pads", {});
      set_string_attr(node, "auto_pad", "VALID");
      break;
    }
  const ArchSpec valid = onnx_io::import_onnx(m.SerializeAsString(), "valid").arch;
  CHECK(layer(valid, 0).pad == Size2{0, 0});
  CHECK(pad_after(layer(valid, 0)) == Size2{0, 0});
  CHECK(arch_layers(valid)[1].output == Shape3{6, 6, 6});
  // auto_pad together with pads is refused.
  for (auto& node : *m.mutable_graph()->mutable_node())
    if (node.op_type() == "Conv") {
      set_ints_attr(node, "pads", {1, 1, 1, 1});
      break;
    }
  CHECK(one_line_error(m).find("auto_pad VALID and pads are both given") != std::string::npos);
}

TEST_CASE("padding that cannot be imported is one error naming the node") {
  {  // a Pad read by something else than a Conv
    onnx::ModelProto m = proto("padded_net.onnx");
    auto* nodes = m.mutable_graph()->mutable_node();
    int pad = -1;
    for (int i = 0; i < nodes->size() && pad < 0; ++i)
      if (nodes->Get(i).op_type() == "Pad") pad = i;
    REQUIRE(pad >= 0);
    const std::string padded = nodes->Get(pad).output(0);
    onnx::NodeProto relu;
    relu.set_name("relu_after_pad");
    relu.set_op_type("Relu");
    relu.add_input(padded);
    relu.add_output("relu_after_pad_out");
    for (auto& n : *nodes)
      for (auto& in : *n.mutable_input())
        if (in == padded) in = "relu_after_pad_out";
    nodes->Add()->CopyFrom(relu);
    for (int i = nodes->size() - 1; i > pad + 1; --i) nodes->SwapElements(i, i - 1);
    CHECK(one_line_error(m).find("node 'relu_after_pad' (Relu): reads the output of Pad") !=
          std::string::npos);
  }
  {  // reflection padding
    onnx::ModelProto m = proto("padded_net.onnx");
    for (auto& node : *m.mutable_graph()->mutable_node())
      if (node.op_type() == "Pad") set_string_attr(node, "mode", "reflect");
    CHECK(one_line_error(m).find("(Pad): mode 'reflect' is not supported") != std::string::npos);
  }
  {  // asymmetric pool padding
    onnx::ModelProto m = proto("ds_net.onnx");
    for (auto& node : *m.mutable_graph()->mutable_node())
      if (node.op_type() == "MaxPool") set_ints_attr(node, "pads", {0, 0, 1, 1});
    CHECK(one_line_error(m).find("(MaxPool): pads [0, 0, 1, 1] differ before and after") !=
          std::string::npos);
  }
}

TEST_CASE("int8 deployment of a conv with per-side pads equals the float module") {
  const ArchSpec spec = parse_arch(R"({"graph": 1, "input": [2, 7, 6], "classes": 3, "layers": [
    {"name": "c1", "op": "conv", "out": 4, "kernel": [3, 3], "stride": [2, 2], "pad": [0, 1],
     "pad_end": [1, 2], "bias": true},
    {"name": "r1", "op": "relu"},
    {"name": "gap", "op": "global_avgpool"},
    {"name": "fc", "op": "linear", "out": 3}]})");
  CHECK(arch_layers(spec)[1].output == Shape3{4, 3, 4});
  auto net = build_network(spec);
  Rng rng(2);
  net->initialize(rng);
  net->set_training(false);
  Tensor x({2, 2, 7, 6});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>(std::sin(0.7 * i));
  const Tensor want = (*net)(autograd::Variable(x)).value();
  const deploy::Graph g = deploy::lower_network(spec, *net);
  CHECK(max_rel_diff(deploy::run_float(g, x), want) < 1e-5);
}
