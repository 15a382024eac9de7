// The SuperNet of the PLiNIO study on imported PyTorch models (nas/dnas/graph_supernet.h): the
// replaceable layers of tests/onnx/resnet_block and mbv2_block, the SuperNet under a one-hot
// selection against the plain graph network of that choice (bit-identical: the same modules run
// the same kernels), its cost against arch_cost of that network, and the exported argmax graph
// through the JSON text, a checkpoint, fine-tuning and the int8 graph.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/rng.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/builder.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/dnas/dnas_run.h"
#include "nas/dnas/dnas_search.h"
#include "nas/dnas/graph_supernet.h"
#include "nas/onnx/onnx_import.h"
#include "onnx_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::dnas;
using namespace piconas::onnx_test;
using autograd::Variable;

namespace {

ArchSpec imported(const std::string& name) {
  return onnx_io::import_onnx_file(model_path(name + ".onnx")).arch;
}

// Fresh weights with BatchNorm statistics away from 0 / 1, so every layer matters.
void randomize(autograd::Module& net, uint64_t seed) {
  Rng rng(seed);
  net.initialize(rng);
  for (auto& [name, t] : net.state()) {
    const bool var = name.find("running_var") != std::string::npos;
    const bool mean = name.find("running_mean") != std::string::npos;
    for (int64_t i = 0; (var || mean) && i < t.numel(); ++i)
      t.set(i, var ? rng.uniform(0.5, 1.5) : rng.uniform(-0.5, 0.5));
  }
}

Variable images(const Shape3& in, int64_t n, uint64_t seed) {
  Rng rng(seed);
  Tensor t({n, in.c, in.h, in.w});
  fill_normal(t, rng, 0.0, 1.0);
  return Variable(t);
}

double gap(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a.get(i) - b.get(i)));
  return worst;
}

// alpha of every unit one-hot at choice[u] (units with one candidate have no alpha).
void choose(GraphSuperNetwork& net, const std::vector<int64_t>& choice) {
  for (size_t u = 0; u < net.blocks().size(); ++u) {
    const auto& sn = net.blocks()[u];
    if (!sn->alpha().defined()) continue;
    Tensor& a = sn->alpha().value();
    a.fill(0.0);
    a.set(choice[u], 3.0);
  }
}

const GraphLayer* layer_named(const ArchSpec& arch, const std::string& name) {
  for (const GraphLayer& l : arch.graph)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace

TEST_CASE("graph SuperNet: the replaceable layers of the imported ResNet and MobileNetV2 blocks") {
  // resnet_block: the stem, both 3x3 convs of the identity block and of the projected block; the
  // 1x1 stride-2 projection stays. Identity only where input and output shapes agree.
  const ArchSpec resnet = imported("resnet_block");
  const std::vector<GraphUnit> r = graph_units(resnet);
  REQUIRE(r.size() == 5);
  const std::vector<int> strides{1, 1, 1, 2, 1};
  const std::vector<int64_t> outs{6, 6, 6, 8, 8};
  const std::vector<bool> with_act{true, true, false, true, false};  // before the adds: no act
  const std::vector<Candidate> plinio = parse_candidates("plinio");
  for (size_t u = 0; u < r.size(); ++u) {
    CAPTURE(u);
    CHECK(!r[u].separable);
    CHECK(r[u].batchnorm);
    CHECK(r[u].stride == strides[u]);
    CHECK(r[u].out.c == outs[u]);
    CHECK(r[u].activation.has_value() == with_act[u]);
    CHECK(unit_candidates(r[u], plinio).size() == (u == 0 || u == 3 ? 3u : 4u));
  }
  for (const GraphLayer& l : resnet.graph)
    if (l.op == GraphOp::Conv && l.kernel == Size2{1, 1})
      for (const GraphUnit& u : r) CHECK(u.conv != l.name);
  // mbv2_block: the stem, then the depthwise 3x3 with the 1x1 projection after it (a
  // depthwise-separable layer, 16 -> 8, no activation: the linear bottleneck); the 1x1 expansion
  // and head stay.
  const std::vector<GraphUnit> m = graph_units(imported("mbv2_block"));
  REQUIRE(m.size() == 2);
  CHECK((!m[0].separable && m[0].stride == 2 && m[0].in.c == 3 && m[0].out.c == 8));
  CHECK((m[1].separable && m[1].stride == 1 && m[1].in.c == 16 && m[1].out.c == 8));
  CHECK(!m[1].activation);
  CHECK(m[1].inner == Activation::ReLU6);  // its own depthwise activation
  CHECK(m[1].last - m[1].first == 4);      // dw, bn, relu6, project, bn
}

TEST_CASE("graph SuperNet: candidate layers replace the unit in the graph") {
  const ArchSpec seed = imported("resnet_block");
  const std::vector<GraphUnit> units = graph_units(seed);
  const std::vector<Candidate> c = parse_candidates("cv:k3,cv:k5,ds:k3,skip");
  // cv:k3 everywhere rebuilds the imported graph (3x3 convs, no bias, BatchNorm, same names).
  std::vector<std::optional<Candidate>> choice(units.size(), c[0]);
  ArchSpec same = graph_with_choices(seed, units, choice);
  CHECK(to_graph_json(same) == to_graph_json(seed));
  // Unit 1: a 5x5 conv, then the depthwise-separable layer, then nothing.
  std::fill(choice.begin(), choice.end(), std::nullopt);
  choice[1] = c[1];
  const ArchSpec k5 = graph_with_choices(seed, units, choice);
  REQUIRE(layer_named(k5, units[1].conv));
  CHECK(layer_named(k5, units[1].conv)->kernel == Size2{5, 5});
  CHECK(layer_named(k5, units[1].conv)->pad == Size2{2, 2});
  choice[1] = c[2];
  const ArchSpec ds = graph_with_choices(seed, units, choice);
  REQUIRE(layer_named(ds, units[1].dw));
  CHECK(layer_named(ds, units[1].dw)->groups == 6);
  CHECK(layer_named(ds, units[1].conv)->kernel == Size2{1, 1});
  CHECK(ds.graph.size() == seed.graph.size() + 3);
  choice[1] = c[3];
  const ArchSpec skip = graph_with_choices(seed, units, choice);
  CHECK(skip.graph.size() == seed.graph.size() - 3);  // conv, bn, relu gone
  CHECK(!layer_named(skip, units[1].conv));
  CHECK(arch_cost(skip).params < arch_cost(seed).params);
}

namespace {

// Every candidate of every unit, mixed across units: the one-hot SuperNet against the plain
// network of the choice (build_network of the exported graph with the exported weights), in eval
// and training mode, with and without gradients; the cost against arch_cost of that network.
void check_one_hot(const ArchSpec& seed) {
  GraphSuperNetwork net(seed, parse_candidates("plinio"));
  randomize(net, 3);
  const Variable x = images(seed.input, 3, 7);
  size_t most = 0;
  for (const auto& sn : net.blocks()) most = std::max(most, static_cast<size_t>(sn->size()));
  for (size_t k = 0; k < most; ++k) {
    std::vector<int64_t> choice;
    for (size_t u = 0; u < net.blocks().size(); ++u)
      choice.push_back(
          static_cast<int64_t>((k + u) % static_cast<size_t>(net.blocks()[u]->size())));
    CAPTURE(k);
    choose(net, choice);
    const DnasExport ex = export_graph_supernet(net);
    CHECK(ex.choices == choice);
    auto plain = build_network(ex.arch);
    plain->load_state(ex.state);
    net.selection().mode = SelectionMode::Argmax;
    for (const bool training : {false, true}) {
      CAPTURE(training);
      net.set_training(training);
      plain->set_training(training);
      {
        autograd::NoGradGuard guard;  // the argmax branch alone
        CHECK(gap(net(x).value(), (*plain)(x).value()) == 0.0);
      }
      // With gradients every branch runs, weighted by the one-hot theta: 1 * y + 0 * others.
      CHECK(gap(net(x).value(), (*plain)(x).value()) == 0.0);
    }
    const ArchCost want = arch_cost(ex.arch);
    CHECK(net.cost(CostKind::Params).value().get(0) == static_cast<double>(want.params));
    CHECK(net.cost(CostKind::Macs).value().get(0) == static_cast<double>(want.macs));
  }
  // Under softmax the cost is the theta-weighted mean of the branches' and carries a gradient
  // to every alpha.
  net.selection().mode = SelectionMode::Softmax;
  net.set_training(true);
  for (Variable a : net.arch_parameters()) a.value().fill(0.0);
  net(x);
  Variable cost = net.cost(CostKind::Macs);
  cost.backward();
  for (const Variable& a : net.arch_parameters()) {
    double norm = 0.0;
    for (int64_t j = 0; j < a.grad().numel(); ++j) norm += std::abs(a.grad().get(j));
    CHECK(norm > 0.0);
  }
}

}  // namespace

TEST_CASE(
    "graph SuperNet: one-hot forward equals the plain network of that choice, cost its arch_cost") {
  for (const std::string name : {"resnet_block", "mbv2_block"}) {
    CAPTURE(name);
    check_one_hot(imported(name));
  }
  // A unit reading an earlier layer than the one before it (the projection comes first), and one
  // without BatchNorm (a conv with bias, then hard-swish).
  const ArchSpec graph = parse_arch(R"({"graph": 1, "input": [2, 8, 8], "classes": 3, "layers": [
    {"name": "c1", "op": "conv", "out": 4, "kernel": [3, 3], "pad": [1, 1]},
    {"name": "bn1", "op": "batchnorm"},
    {"name": "r1", "op": "relu"},
    {"name": "proj", "op": "conv", "out": 6, "kernel": [1, 1], "stride": [2, 2], "bias": true},
    {"name": "c2", "op": "conv", "out": 6, "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1],
     "inputs": ["r1"]},
    {"name": "bn2", "op": "batchnorm"},
    {"name": "add", "op": "add", "inputs": ["bn2", "proj"]},
    {"name": "c3", "op": "conv", "out": 6, "kernel": [3, 3], "pad": [1, 1], "bias": true},
    {"name": "h3", "op": "hswish"},
    {"name": "gap", "op": "global_avgpool"},
    {"name": "fc", "op": "linear", "out": 3, "bias": true}]})");
  const std::vector<GraphUnit> units = graph_units(graph);
  REQUIRE(units.size() == 3);
  CHECK((units[1].conv == "c2" && units[1].input == 2 && units[1].first == 4));
  CHECK((units[2].conv == "c3" && !units[2].batchnorm && units[2].inner == Activation::Hardswish));
  check_one_hot(graph);
  // A BatchNorm read by its activation and by an add ends the unit: the activation stays.
  const ArchSpec shared = parse_arch(R"({"graph": 1, "input": [2, 6, 6], "classes": 3, "layers": [
    {"name": "c1", "op": "conv", "out": 4, "kernel": [3, 3], "pad": [1, 1]},
    {"name": "bn1", "op": "batchnorm"},
    {"name": "r1", "op": "relu6"},
    {"name": "add", "op": "add", "inputs": ["r1", "bn1"]},
    {"name": "gap", "op": "global_avgpool"},
    {"name": "fc", "op": "linear", "out": 3, "bias": true}]})");
  const std::vector<GraphUnit> one = graph_units(shared);
  REQUIRE(one.size() == 1);
  CHECK((one[0].last == 1 && !one[0].activation && one[0].inner == Activation::ReLU6));
  check_one_hot(shared);
}

TEST_CASE(
    "graph SuperNet: the exported argmax graph goes through text, checkpoint, training, int8") {
  const ArchSpec seed = imported("resnet_block");
  GraphSuperNetwork net(seed, parse_candidates("plinio"));
  randomize(net, 5);
  choose(net, {2, 3, 1, 2, 0});  // ds, skip, cv:k5, ds, cv:k3
  const DnasExport ex = export_graph_supernet(net);
  CHECK(parse_arch(to_text(ex.arch)) == ex.arch);  // the checkpoint's and --arch's text
  CHECK(parse_graph(to_graph_json(ex.arch)) == ex.arch);
  CHECK(format_layer_table(ex.arch).find(net.units()[0].dw) != std::string::npos);  // `info`
  // A piconas-model checkpoint of it loads to the same logits (`info`, `train --init`, `export`).
  Checkpoint ck;
  ck.meta = {{"format", "piconas-model"},
             {"version", 1},
             {"arch", to_text(ex.arch)},
             {"input", {seed.input.c, seed.input.h, seed.input.w}},
             {"classes", seed.num_classes},
             {"normalization",
              {{"mean", std::vector<float>(3, 0.5f)}, {"std", std::vector<float>(3, 0.25f)}}}};
  for (const auto& [n, t] : ex.state) ck.tensors.emplace_back(n, t);
  train::LoadedModel loaded = train::load_model(ck, "supernet export");
  net.selection().mode = SelectionMode::Argmax;
  net.set_training(false);
  const Variable x = images(seed.input, 4, 9);
  Tensor want;
  {
    autograd::NoGradGuard guard;
    want = net(x).value();
    CHECK(gap((*loaded.module)(x).value(), want) == 0.0);
  }
  // int8 export: the folded float graph computes the network, and quantizes.
  CHECK(deploy::int8_problems(ex.arch).empty());
  const deploy::Graph g = deploy::lower_network(ex.arch, *loaded.module);
  CHECK(max_rel_diff(deploy::run_float(g, x.value()), want) < 1e-5);
  const deploy::QuantizedModel q = deploy::quantize_graph(g, x.value(), loaded.normalization);
  const deploy::MemoryPlan plan = deploy::plan_memory(g, deploy::PlanOptions{});
  const auto input = deploy::to_nhwc_int8(q.tensors[0], x.value());
  CHECK(deploy::run_int8(q, plan, input.data(), 4).size() == 4u * seed.num_classes);
  // Fine-tuning (the loop of `piconas train` and `dnas`) moves its weights.
  data::Dataset d;
  d.count = 32;
  d.channels = static_cast<int>(seed.input.c);
  d.height = static_cast<int>(seed.input.h);
  d.width = static_cast<int>(seed.input.w);
  d.num_classes = seed.num_classes;
  for (int c = 0; c < d.num_classes; ++c) d.class_names.push_back(std::to_string(c));
  Rng rng(1);
  for (int64_t i = 0; i < d.count * d.image_size(); ++i)
    d.images.push_back(static_cast<uint8_t>(rng.uniform_int(0, 255)));
  for (int64_t i = 0; i < d.count; ++i)
    d.labels.push_back(static_cast<int32_t>(rng.uniform_int(0, seed.num_classes - 1)));
  TrainData train_data{&d, {}, loaded.normalization};
  for (int64_t i = 0; i < d.count; ++i) train_data.indices.push_back(i);
  FinetuneOptions fo;
  fo.epochs = 1;
  fo.batch_size = 8;
  finetune(*loaded.module, train_data, fo);
  loaded.module->set_training(false);
  autograd::NoGradGuard guard;
  CHECK(gap((*loaded.module)(x).value(), want) > 1e-4);
}

TEST_CASE("graph SuperNet: named errors") {
  // No replaceable layer: 1x1 convs only.
  const char* const pointwise = R"({"graph": 1, "input": [2, 4, 4], "classes": 3, "layers": [
    {"name": "c1", "op": "conv", "out": 4, "kernel": [1, 1]},
    {"name": "r1", "op": "relu"},
    {"name": "gap", "op": "global_avgpool"},
    {"name": "fc", "op": "linear", "out": 3, "bias": true}]})";
  CHECK_THROWS_WITH_AS(graph_units(parse_arch(pointwise)),
                       doctest::Contains("no layer of the graph network can be replaced"), Error);
  RunOptions o;
  o.seed_arch = pointwise;
  o.out_dir = "unused";
  o.method = DnasMethod::SuperNet;
  CHECK_THROWS_WITH_AS(run_dnas(o, [](const std::string&) {}),
                       doctest::Contains("no layer of the graph network can be replaced"), Error);
  o.seed_arch = to_text(imported("resnet_block"));
  o.candidates = "ds:k3,ir:k3e2";
  CHECK_THROWS_WITH_AS(run_dnas(o, [](const std::string&) {}),
                       doctest::Contains("candidate 'ir:k3e2' does not replace a layer"), Error);
  o.candidates = "";
  o.method = DnasMethod::PitSuperNet;
  CHECK_THROWS_WITH_AS(run_dnas(o, [](const std::string&) {}),
                       doctest::Contains("use --method pit-after-supernet"), Error);
}
