// ONNX import and export (nas/onnx) and the graph network form they produce (nas/arch/
// graph_text.h). The models and their PyTorch logits were made by tests/onnx/make_models.py
// (see the "generated_by" line of each .expected.json); no Python runs here.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "onnx_fixture.h"
#include "core/atomic_file.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/graph.h"
#include "nas/dnas/graph_pit.h"
#include "nas/onnx/onnx_export.h"
#include "nas/onnx/onnx_import.h"
#include "nas/search/search_space.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;

using namespace piconas::onnx_test;

namespace {

const char* const kModels[] = {"resnet_block", "mbv2_block",  "ds_net",      "padded_net",
                               "mbv3_block",   "sigmoid_se",  "avgpool_pad", "gated_conv",
                               "gated_hsig",   "spatial_attention"};

}  // namespace

TEST_CASE("imported models compute PyTorch's logits") {
  for (const char* name : kModels) {
    INFO(name);
    const onnx_io::ImportedModel m =
        onnx_io::import_onnx_file(model_path(std::string(name) + ".onnx"));
    const Expected e = expected(name);
    const Tensor got = logits_of(m.checkpoint, e.input);
    // float32 rounding of a few hundred MACs per output, summed in another order than PyTorch.
    CHECK(max_rel_diff(got, e.logits) < 2e-5);
    // The check can fail: a wrong BatchNorm epsilon moves the logits.
    ArchSpec wrong = m.arch;
    for (GraphLayer& l : wrong.graph)
      if (l.op == GraphOp::BatchNorm) l.eps = 1e-1;
    Checkpoint c = m.checkpoint;
    c.meta["arch"] = to_text(wrong);
    CHECK(max_rel_diff(logits_of(c, e.input), e.logits) > 1e-3);
  }
}

TEST_CASE("imported structure: residual adds, depthwise convs, pools and the classifier") {
  const ArchSpec resnet = onnx_io::import_onnx_file(model_path("resnet_block.onnx")).arch;
  int adds = 0;
  for (const LayerInfo& row : arch_layers(resnet)) adds += row.kind == LayerKind::Add;
  CHECK(adds == 2);
  CHECK(resnet.num_classes == 4);
  CHECK(resnet.input == Shape3{3, 8, 8});
  const std::vector<LayerInfo> ds =
      arch_layers(onnx_io::import_onnx_file(model_path("ds_net.onnx")).arch);
  int depthwise = 0, max_pools = 0, avg_pools = 0;
  for (const LayerInfo& row : ds) {
    depthwise += row.kind == LayerKind::Depthwise;
    max_pools += row.kind == LayerKind::MaxPool;
    avg_pools += row.kind == LayerKind::AvgPool;
  }
  CHECK(depthwise == 1);
  CHECK(max_pools == 1);
  CHECK(avg_pools == 1);
  CHECK(ds.back().input == Shape3{10, 2, 2});  // the classifier reads the flattened 2x2 map
}

TEST_CASE("export then import is identical") {
  for (const char* name : kModels) {
    INFO(name);
    const onnx_io::ImportedModel m = onnx_io::import_onnx_file(
        model_path(std::string(name) + ".onnx"), {{0.1f, 0.2f, 0.3f}, {0.5f, 0.6f, 0.7f}});
    train::LoadedModel loaded = train::load_model(m.checkpoint, name);
    const std::string bytes =
        onnx_io::export_onnx(loaded.arch, *loaded.module, &loaded.normalization);
    const onnx_io::ImportedModel back = onnx_io::import_onnx(bytes, "exported");
    // Same layers (the names are the exported node names), same weights, same logits.
    REQUIRE(back.arch.graph.size() == m.arch.graph.size());
    for (size_t i = 0; i < m.arch.graph.size(); ++i) {
      GraphLayer a = m.arch.graph[i], b = back.arch.graph[i];
      a.name = b.name = "";
      CHECK(a == b);
    }
    CHECK(back.checkpoint.meta["normalization"] == m.checkpoint.meta["normalization"]);
    CHECK(back.checkpoint.meta["normalization"]["std"][2].get<float>() == 0.7f);
    REQUIRE(back.checkpoint.tensors.size() == m.checkpoint.tensors.size());
    for (size_t i = 0; i < m.checkpoint.tensors.size(); ++i) {
      const Tensor& a = m.checkpoint.tensors[i].second;
      const Tensor& b = back.checkpoint.tensors[i].second;
      REQUIRE(a.shape() == b.shape());
      for (int64_t k = 0; k < a.numel(); ++k) REQUIRE(a.get(k) == b.get(k));
    }
    const Expected e = expected(name);
    const Tensor x = logits_of(m.checkpoint, e.input), y = logits_of(back.checkpoint, e.input);
    for (int64_t k = 0; k < x.numel(); ++k) CHECK(x.get(k) == y.get(k));
  }
}

TEST_CASE("a block architecture exports to ONNX and imports back to the same logits") {
  // The second: MobileNetV3 blocks (squeeze-and-excitation, hard-swish, a relu block).
  for (const char* arch :
       {"blocks:in=3x12x12,classes=3,act=relu6,stem=8k3s2|ir:k3e2s1c8|ds:k5s2c16|rb:k3s1c16|head=24",
        "blocks:in=3x12x12,classes=3,act=hswish,stem=8k3s2|ir:k3e2s1c8:se|ir:k5e4s2c16:se:relu|"
        "ir:k3e2s1c16|head=24"}) {
    INFO(arch);
    const ArchSpec spec = parse_arch(arch);
    auto net = build_network(spec);
    Rng rng(5);
    net->initialize(rng);
    net->set_training(false);
    const onnx_io::ImportedModel back =
        onnx_io::import_onnx(onnx_io::export_onnx(spec, *net), "exported");
    Tensor x({2, 3, 12, 12});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data<float>()[i] = static_cast<float>(std::sin(0.37 * i));
    const Tensor want = (*net)(autograd::Variable(x)).value();
    CHECK(max_rel_diff(logits_of(back.checkpoint, x), want) < 1e-6);
    // Same layer count: each SE module is pool, reduce, relu, expand, gate and a mul.
    int muls = 0;
    for (const GraphLayer& l : back.arch.graph) muls += l.op == GraphOp::Mul;
    const std::string text = arch;
    int se_blocks = 0;
    for (size_t at = text.find(":se"); at != std::string::npos; at = text.find(":se", at + 1))
      ++se_blocks;
    CHECK(muls == se_blocks);
    CHECK(back.arch.graph.size() + 1 == arch_layers(spec).size());
  }
}

TEST_CASE("MobileNetV3 hidden widths (h) and the fc layer: export, import, export again is identical") {
  // h<N> hidden widths and ,fc=N (a linear layer + the network's activation between pool and
  // classifier): a hand-written text and mobilenetv3-small with a width (torchvision's widths, h72
  // and h88 among them, fc 1024 x 0.35 = 360).
  for (const char* arch :
       {"blocks:in=3x12x12,classes=3,act=hswish,stem=8k3s2|ir:k3h20s1c8:se|ir:k3h12s2c16:relu|"
        "ir:k3e1s1c16|head=24,fc=40",
        "mobilenetv3-small,in=3x32x32,classes=3,width=0.35"}) {
    INFO(arch);
    const ArchSpec spec = parse_arch(arch);
    auto net = build_network(spec);
    Rng rng(7);
    net->initialize(rng);
    net->set_training(false);
    const onnx_io::ImportedModel m = onnx_io::import_onnx(onnx_io::export_onnx(spec, *net), "exported");
    Tensor x({2, 3, spec.input.h, spec.input.w});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data<float>()[i] = static_cast<float>(std::sin(0.37 * i));
    const Tensor want = (*net)(autograd::Variable(x)).value();
    CHECK(max_rel_diff(logits_of(m.checkpoint, x), want) < 1e-6);
    // Params kept: the imported graph network counts what the blocks network counts.
    CHECK(arch_cost(m.arch).params == arch_cost(spec).params);
    // Export the imported graph network and import it again: same layers, weights and logits.
    train::LoadedModel loaded = train::load_model(m.checkpoint, arch);
    const onnx_io::ImportedModel back =
        onnx_io::import_onnx(onnx_io::export_onnx(loaded.arch, *loaded.module), "exported again");
    REQUIRE(back.arch.graph.size() == m.arch.graph.size());
    for (size_t i = 0; i < m.arch.graph.size(); ++i) {
      GraphLayer a = m.arch.graph[i], b = back.arch.graph[i];
      a.name = b.name = "";
      CHECK(a == b);
    }
    REQUIRE(back.checkpoint.tensors.size() == m.checkpoint.tensors.size());
    for (size_t i = 0; i < m.checkpoint.tensors.size(); ++i) {
      const Tensor& a = m.checkpoint.tensors[i].second;
      const Tensor& b = back.checkpoint.tensors[i].second;
      REQUIRE(a.shape() == b.shape());
      for (int64_t k = 0; k < a.numel(); ++k) REQUIRE(a.get(k) == b.get(k));
    }
    const Tensor y = logits_of(back.checkpoint, x), z = logits_of(m.checkpoint, x);
    for (int64_t k = 0; k < y.numel(); ++k) CHECK(y.get(k) == z.get(k));
  }
}

TEST_CASE("int8 deployment of imported networks: folded graph equals the module, ds_net accepted") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("resnet_block.onnx"));
  train::LoadedModel loaded = train::load_model(m.checkpoint, "resnet_block");
  deploy::Graph g = deploy::lower_network(loaded.arch, *loaded.module);
  int adds = 0;
  for (const deploy::Layer& l : g.layers) adds += l.kind == LayerKind::Add;
  CHECK(adds == 2);
  CHECK(g.layers.size() == 10);  // 6 convs (BN and ReLU folded), 2 adds, pool, classifier
  const Expected e = expected("resnet_block");
  const Tensor want = (*loaded.module)(autograd::Variable(e.input)).value();
  CHECK(max_rel_diff(deploy::run_float(g, e.input), want) < 1e-5);
  const ArchSpec ds = onnx_io::import_onnx_file(model_path("ds_net.onnx")).arch;
  // Hard-swish has an int8 kernel (MobileNetV3, docs/int8.md), and so have ds_net's pools and its
  // classifier on a 10x2x2 map (test_onnx_int8.cpp).
  CHECK(deploy::int8_problems(ds).empty());
}

TEST_CASE("PIT on imported networks: starts from PyTorch's logits, export keeps the masked ones") {
  for (const char* name : kModels) {
    INFO(name);
    const onnx_io::ImportedModel m =
        onnx_io::import_onnx_file(model_path(std::string(name) + ".onnx"));
    train::LoadedModel loaded = train::load_model(m.checkpoint, name);
    nas::dnas::GraphPitNetwork net(m.arch);
    net.load_state(loaded.module->state());
    net.set_training(false);
    REQUIRE(!net.groups().empty());
    const Expected e = expected(name);
    autograd::NoGradGuard guard;
    CHECK(max_rel_diff(net(autograd::Variable(e.input)).value(), e.logits) < 2e-5);
    // Every other channel of every group dies (channel 0 always lives).
    for (const auto& g : net.groups())
      for (int64_t c = 1; c < g->gamma.value().numel(); c += 2) g->gamma.value().set(c, 0.1);
    const Tensor masked = net(autograd::Variable(e.input)).value();
    CHECK(max_rel_diff(masked, e.logits) > 1e-4);  // the masks change the network
    const nas::dnas::DnasExport ex = nas::dnas::export_graph_network(net);
    CHECK(arch_cost(ex.arch).params < arch_cost(m.arch).params);
    auto pruned = build_network(ex.arch);
    pruned->load_state(ex.state);
    pruned->set_training(false);
    CHECK(max_rel_diff((*pruned)(autograd::Variable(e.input)).value(), masked) < 1e-5);
    CHECK(net.cost(nas::dnas::CostKind::Params).value().get(0) ==
          doctest::Approx(arch_cost(ex.arch).params));
  }
}

TEST_CASE("score's graph space: an imported network scores like the blocks network it came from") {
  const ArchSpec blocks = parse_arch(
      "blocks:in=1x12x12,classes=4,act=relu,stem=8k3s2|ds:k3s1c16|ir:k3e2s1c16|ds:k5s2c32|head=0");
  auto net = build_network(blocks);
  Rng rng(3);
  net->initialize(rng);
  net->set_training(false);
  const ArchSpec graph = onnx_io::import_onnx(onnx_io::export_onnx(blocks, *net), "x").arch;
  search::SpaceOptions options;
  options.input = blocks.input;
  options.num_classes = blocks.num_classes;
  options.activation = Activation::ReLU;
  options.stem = blocks.stem;
  const auto graph_space = search::make_search_space("graph", options);
  const auto blocks_space = make_search_space("blocks", options);
  const search::Candidate g = graph_space->parse(to_text(graph));
  const search::Candidate b = blocks_space->parse(to_text(blocks));
  for (const char* metric : {"params", "macs", "peak_sram", "flash"}) {
    INFO(metric);
    CHECK(search::architecture_metric(*graph_space, g, graph_space->cost(g), metric) ==
          architecture_metric(*blocks_space, b, blocks_space->cost(b), metric));
  }
  // Same layers in the same order: one seed draws the same weights, so the network metrics
  // (naswot, synflow, ...) see the same network.
  auto gn = graph_space->build(g);
  auto bn = blocks_space->build(b);
  Rng r1(11), r2(11);
  gn->initialize(r1);
  bn->initialize(r2);
  Tensor x({2, 1, 12, 12});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(std::cos(0.3 * i));
  CHECK(max_rel_diff((*gn)(autograd::Variable(x)).value(), (*bn)(autograd::Variable(x)).value()) ==
        0.0);
  Rng rng2(1);
  CHECK_THROWS_WITH_AS(graph_space->sample(rng2), doctest::Contains("graph space: cannot sample"),
                       Error);
  CHECK_THROWS_WITH_AS(graph_space->mutate(g, rng2),
                       doctest::Contains("dnas --method pit --init"), Error);
  CHECK_THROWS_WITH_AS(search::architecture_metric(*graph_space, g, graph_space->cost(g), "skip"),
                       doctest::Contains("leave it out of --metrics"), Error);
  CHECK_THROWS_WITH_AS(blocks_space->parse(to_text(graph)),
                       doctest::Contains("blocks space: the architecture is a graph network"),
                       Error);
  options.num_classes = 10;
  CHECK_THROWS_WITH_AS(make_search_space("graph", options)->parse(to_text(graph)),
                       doctest::Contains("4 classes, the data has 10"), Error);
}

TEST_CASE("an unsupported operator is one error naming the node and its op type") {
  CHECK_THROWS_WITH_AS(
      onnx_io::import_onnx_file(model_path("unsupported.onnx")),
      doctest::Contains("node '/act/LeakyRelu' (LeakyRelu): operator not supported"), Error);
}

TEST_CASE("hostile ONNX files are one-line errors") {
  const std::string good = read_file(model_path("ds_net.onnx"));
  auto one_line_error = [](const std::string& bytes, const char* expected_text) {
    try {
      onnx_io::import_onnx(bytes, "hostile.onnx");
      FAIL("accepted");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK(what.find('\n') == std::string::npos);
      CHECK_MESSAGE(what.find(expected_text) != std::string::npos, what);
    }
  };
  one_line_error(good.substr(0, good.size() / 2), "hostile.onnx");
  one_line_error("not a protobuf at all", "hostile.onnx");
  one_line_error("", "hostile.onnx");
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(good));
  onnx::ModelProto old_opset = model;
  old_opset.mutable_opset_import(0)->set_version(5);
  one_line_error(old_opset.SerializeAsString(), "opset");
  onnx::ModelProto huge = model;
  huge.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(int64_t{1} << 40);
  one_line_error(huge.SerializeAsString(), "input");
  onnx::ModelProto huge_weight = model;
  for (auto& t : *huge_weight.mutable_graph()->mutable_initializer())
    if (t.dims_size() == 4) t.set_dims(0, int64_t{1} << 40);
  one_line_error(huge_weight.SerializeAsString(), "hostile.onnx");
  // A declared input of 1 x 16384 x 16384 (within the limits) whose classifier weights do not
  // fit it: refused before any allocation, naming the node.
  onnx::ModelProto big_input = model;
  auto* shape =
      big_input.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->mutable_dim(2)->set_dim_value(16384);
  shape->mutable_dim(3)->set_dim_value(16384);
  one_line_error(big_input.SerializeAsString(), "(Gemm): its weights hold 123 values");
}

TEST_CASE("graph network text: canonical round trip and field errors") {
  const ArchSpec spec = onnx_io::import_onnx_file(model_path("resnet_block.onnx")).arch;
  const std::string text = to_text(spec);
  CHECK(is_graph_text(text));
  CHECK(parse_arch(text) == spec);
  CHECK(canonical_text(text) == text);
  auto refused = [](const std::string& t, const char* expected_text) {
    CHECK_THROWS_WITH_AS(parse_arch(t), doctest::Contains(expected_text), Error);
  };
  const std::string head = R"({"graph":1,"input":[3,8,8],"classes":2,"layers":[)";
  const std::string fc = R"({"name":"fc","op":"linear","out":2}]})";
  refused(head + R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"strid":[1,1]},)" + fc,
          "unknown field \"strid\"");
  refused(head + R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"pad":[-1,1]},)" + fc,
          "field \"pad\"");
  refused(head + R"({"name":"c","op":"conv","out":4},)" + fc, "field \"kernel\" is missing");
  refused(head + R"({"name":"c","op":"swish"},)" + fc, "unknown op \"swish\"");
  refused(head + R"({"name":"c","op":"add","inputs":["input","nope"]},)" + fc,
          "\"nope\" is not an earlier layer");
  refused(head + R"({"name":"c","op":"conv","out":4,"kernel":[9,9]},)" + fc,
          "window 9x9 does not fit");
  refused(head + R"({"name":"c","op":"conv","out":4,"kernel":[1,1],"groups":3},)" + fc,
          "groups 3 do not divide");
  refused(head + R"({"name":"c.d","op":"relu"},)" + fc, "letters, digits or '_'");
  refused(head + R"({"name":"fc","op":"linear","out":3}]})", "3 outputs but the network 2 classes");
  refused(R"({"graph":2,"input":[3,8,8],"classes":2,"layers":[)" + fc, "format version 2");
  refused(R"({"graph":1,"input":[3,8,8],"classes":2,"layers":[)", "not valid JSON");
}
