// PIT on graph networks (nas/dnas/graph_pit.h): channel spaces, equivalence of
// the export, cost equal to arch_cost of the export, and the named refusal of
// PIT and SuperNet at once on a graph seed.
#include <doctest/doctest.h>

#include <cmath>

#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/dnas/dnas_run.h"
#include "nas/dnas/graph_pit.h"
#include "nas/dnas_test_util.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::dnas;
using autograd::Variable;

namespace {
// conv-bn-relu, a depthwise residual (the add joins its space to c1's), a 1x1
// conv feeding a grouped conv (both fixed), a max pool, conv-bn-hswish, an
// average pool and a classifier on a 2x2 map.
const char *const kSeed =
    R"({"graph": 1, "input": [2, 8, 8], "classes": 3, "layers": [
  {"name": "c1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1]},
  {"name": "bn1", "op": "batchnorm"},
  {"name": "r1", "op": "relu"},
  {"name": "dw", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1], "groups": 8, "bias": true},
  {"name": "bn2", "op": "batchnorm"},
  {"name": "add1", "op": "add", "inputs": ["bn2", "r1"]},
  {"name": "r2", "op": "relu6"},
  {"name": "c2", "op": "conv", "out": 6, "kernel": [1, 1], "bias": true},
  {"name": "gc", "op": "conv", "out": 4, "kernel": [3, 3], "pad": [1, 1], "groups": 2},
  {"name": "mp", "op": "maxpool", "kernel": [2, 2], "stride": [2, 2]},
  {"name": "c3", "op": "conv", "out": 5, "kernel": [3, 3], "pad": [1, 1], "bias": true},
  {"name": "bn3", "op": "batchnorm"},
  {"name": "hs", "op": "hswish"},
  {"name": "ap", "op": "avgpool", "kernel": [2, 2], "stride": [2, 2]},
  {"name": "fc", "op": "linear", "out": 3, "bias": true}]})";

void randomize(autograd::Module &net, uint64_t seed) {
  Rng rng(seed);
  net.initialize(rng);
  for (auto &[name, t] : net.state()) {
    const bool var = name.find("running_var") != std::string::npos;
    const bool centred = name.find("running_mean") != std::string::npos ||
                         (name.rfind("bn", 0) == 0 && name.find(".bias") != std::string::npos);
    for (int64_t i = 0; var && i < t.numel(); ++i) t.set(i, rng.uniform(0.5, 1.5));
    for (int64_t i = 0; centred && i < t.numel(); ++i) t.set(i, rng.uniform(-0.5, 0.5));
  }
}

void kill(GraphPitNetwork &net, const std::vector<std::vector<int64_t>> &dead) {
  REQUIRE(dead.size() == net.groups().size());
  for (size_t g = 0; g < dead.size(); ++g) {
    Tensor &t = net.groups()[g]->gamma.value();
    t.fill(0.8);
    for (int64_t c : dead[g]) t.set(c, 0.2);
  }
}

double gap(const Tensor &a, const Tensor &b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a.get(i) - b.get(i)));
  return worst;
}

Variable images(const Shape &shape, uint64_t seed) {
  Rng rng(seed);
  return Variable(testing::random_tensor(shape, rng, DType::F32));
}
}  // namespace

TEST_CASE(
    "graph PIT: adds join channel spaces, grouped convs and the input "
    "are fixed") {
  GraphPitNetwork net(parse_arch(kSeed));
  REQUIRE(net.groups().size() == 2);
  CHECK(net.groups()[0]->name == "c1");
  CHECK(net.groups()[1]->name == "c3");
  const auto &rows = net.rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].name);
    const std::string &n = rows[i].name;
    if (n == "dw" || n == "add1" || n == "r2") CHECK(net.group_of(i) == net.groups()[0]);
    if (n == "c2" || n == "gc" || n == "mp" || n == "input" || n == "fc") CHECK(!net.group_of(i));
    if (n == "ap") CHECK(net.group_of(i) == net.groups()[1]);
  }
  CHECK(net.arch_parameters().size() == 2);
  // Same module names as build_network: a checkpoint of the seed loads as is.
  auto plain = build_network(parse_arch(kSeed));
  randomize(*plain, 4);
  net.load_state(plain->state());
  plain->set_training(false);
  net.set_training(false);
  const Variable x = images({2, 2, 8, 8}, 9);
  autograd::NoGradGuard guard;
  CHECK(gap(net(x).value(), (*plain)(x).value()) == 0.0);  // all channels alive
}

TEST_CASE("graph PIT export removes masked channels, keeps the logits and the cost") {
  GraphPitNetwork net(parse_arch(kSeed));
  randomize(net, 17);
  kill(net, {{0, 3, 7}, {1, 2, 3, 4}});
  const DnasExport ex = export_graph_network(net);
  CHECK(ex.choices.empty());
  const std::vector<GraphLayer> &l = ex.arch.graph;
  CHECK((l[0].name == "c1" && l[0].out_channels == 5));
  CHECK((l[3].name == "dw" && l[3].out_channels == 5 && l[3].groups == 5));
  CHECK((l[7].name == "c2" && l[7].out_channels == 6));  // feeds the grouped conv: fixed
  CHECK((l[8].name == "gc" && l[8].out_channels == 4 && l[8].groups == 2));
  CHECK((l[10].name == "c3" && l[10].out_channels == 1));
  auto plain = build_network(ex.arch);
  plain->load_state(ex.state);
  plain->set_training(false);
  net.set_training(false);
  const Variable x = images({3, 2, 8, 8}, 5);
  {
    autograd::NoGradGuard guard;
    CHECK(gap(net(x).value(), (*plain)(x).value()) < 1e-5);
  }
  const ArchCost want = arch_cost(ex.arch);
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(want.params));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(want.macs));
  // The cost carries a gradient to every gamma (straight-through masks).
  net(x);
  net.cost(CostKind::Macs).backward();
  for (const auto &g : net.groups())
    for (int64_t c = 0; c < g->gamma.value().numel(); ++c) CHECK(g->gamma.grad().get(c) > 0.0);
}

TEST_CASE("dnas: PIT and SuperNet at once on a graph seed is a named refusal") {
  // SuperNet alone, and PIT after it, search a graph seed (nas/dnas/graph_supernet.h).
  RunOptions o;
  o.seed_arch = to_text(parse_arch(kSeed));
  o.out_dir = "unused";
  o.method = DnasMethod::PitSuperNet;
  CHECK_THROWS_WITH_AS(run_dnas(o, [](const std::string &) {}),
                       doctest::Contains("method 'pitsupernet' needs a block architecture, and "
                                         "the seed is a graph network"),
                       Error);
}
