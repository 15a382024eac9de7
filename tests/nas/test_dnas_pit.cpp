#include <doctest/doctest.h>

#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/dnas/dnas_export.h"
#include "nas/dnas/supernet.h"
#include "nas/dnas_test_util.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::dnas;
using autograd::Variable;

namespace {
Variable images(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  return Variable(testing::random_tensor(shape, rng, DType::F32));
}

void randomize(DnasNetwork& net, uint64_t seed) {
  Rng rng(seed);
  net.initialize(rng);
  for (auto& [name, t] : net.state()) {
    const bool positive =
        name.find("running_var") != std::string::npos || name.find("gamma") != std::string::npos;
    const bool centred =
        name.find("running_mean") != std::string::npos || name.find("beta") != std::string::npos;
    for (int64_t i = 0; positive && i < t.numel(); ++i) t.set(i, rng.uniform(0.5, 1.5));
    for (int64_t i = 0; centred && i < t.numel(); ++i) t.set(i, rng.uniform(-0.5, 0.5));
  }
}

// Sets gamma of every group: channel c alive unless listed in dead[group].
void kill(DnasNetwork& net, const std::vector<std::vector<int64_t>>& dead) {
  REQUIRE(dead.size() == net.groups().size());
  for (size_t g = 0; g < dead.size(); ++g) {
    Tensor& t = net.groups()[g]->gamma.value();
    t.fill(0.8);
    for (int64_t c : dead[g]) t.set(c, 0.2);
  }
}

double export_gap(DnasNetwork& net, const DnasExport& ex, const Variable& x) {
  autograd::NoGradGuard guard;
  net.set_training(false);
  net.selection().mode = SelectionMode::Argmax;
  const Tensor a = net(x).value();
  auto plain = build_network(ex.arch);
  plain->load_state(ex.state);
  plain->set_training(false);
  const Tensor b = (*plain)(x).value();
  REQUIRE(a.shape() == b.shape());
  double gap = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) gap = std::max(gap, std::abs(a.get(i) - b.get(i)));
  return gap;
}

DnasConfig pit_config(const std::string& candidates) {
  DnasConfig c;
  c.pit = true;
  c.supernet = !candidates.empty();
  if (!candidates.empty()) c.candidates = parse_candidates(candidates);
  return c;
}
}  // namespace

TEST_CASE("PIT groups: residual blocks share their input's mask") {
  const ArchSpec seed = parse_blocks(
      "blocks:in=1x8x8,classes=3,act=relu,stem=8k3s1|ir:k3e2s1c16|ir:k3e2s1c16|ds:k3s2c8|head=6");
  DnasNetwork net(seed, pit_config(""));
  REQUIRE(net.groups().size() == 4);  // stem, b0 (shared by b1), b2, head
  CHECK(net.blocks()[1]->in_group() == net.blocks()[1]->out_group());
  CHECK(net.blocks()[0]->in_group() != net.blocks()[0]->out_group());
  CHECK(net.arch_parameters().size() == 4);
  DnasConfig bad = pit_config("");
  CHECK_THROWS_AS(
      DnasNetwork(parse_blocks("blocks:in=1x8x8,classes=3,act=relu,stem=8k3s1|cn:k3e2s1c8|head=0"),
                  bad),
      Error);
}

TEST_CASE("PIT export removes masked channels and keeps the outputs") {
  const ArchSpec seed = parse_blocks(
      "blocks:in=1x8x8,classes=3,act=relu,stem=8k3s1|ir:k3e2s1c16|ir:k3e2s1c16|ds:k3s2c8|ir:"
      "k3e1s1c12|head=6");
  DnasNetwork net(seed, pit_config(""));
  randomize(net, 21);
  // groups: stem(8), b0(16), b2(8), b3(12), head(6)
  kill(net, {{1, 6}, {0, 3, 4, 9, 15}, {2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5}});
  const DnasExport ex = export_network(net);
  CHECK(ex.ghost_channels == 0);
  CHECK(to_text(ex.arch) ==
        "blocks:in=1x8x8,classes=3,act=relu,stem=6k3s1|ir:k3e2s1c11|ir:k3e2s1c11|ds:k3s2c7|ir:"
        "k3e1s1c1|head=5");
  CHECK(export_gap(net, ex, images({2, 1, 8, 8}, 3)) < 1e-4);
  net(images({1, 1, 8, 8}, 3));
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(arch_cost(ex.arch).params));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(arch_cost(ex.arch).macs));
}

TEST_CASE("PIT export keeps a zeroed ghost channel instead of inventing a residual") {
  // 8 -> 16 stride 1 has no residual; pruning both to 5 would create one.
  const ArchSpec seed =
      parse_blocks("blocks:in=1x6x6,classes=2,act=relu6,stem=8k3s1|ir:k3e2s1c16|head=0");
  DnasNetwork net(seed, pit_config(""));
  randomize(net, 5);
  kill(net, {{0, 1, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
  const DnasExport ex = export_network(net);
  CHECK(ex.ghost_channels == 1);
  CHECK(to_text(ex.arch) == "blocks:in=1x6x6,classes=2,act=relu6,stem=5k3s1|ir:k3e2s1c6|head=0");
  CHECK(export_gap(net, ex, images({2, 1, 6, 6}, 8)) < 1e-4);
}

TEST_CASE("PITSuperNet: branches share masks; export is equivalent") {
  const ArchSpec seed = parse_blocks(
      "blocks:in=2x8x8,classes=3,act=relu,stem=8k3s1|ds:k3s1c12|ds:k3s2c16|ds:k3s1c16|head=0");
  DnasNetwork net(seed, pit_config("ds:k3,ds:k5,ir:k3e2,skip"));
  randomize(net, 31);
  net.blocks()[0]->alpha().value().copy_from(Tensor::from_values({3}, {0, 0, 1}));
  net.blocks()[1]->alpha().value().copy_from(Tensor::from_values({3}, {0, 1, 0}));
  net.blocks()[2]->alpha().value().copy_from(Tensor::from_values({4}, {0, 0, 1, 0}));
  // groups: stem(8), b0(12), b1(16, shared by b2)
  kill(net, {{7}, {1, 2, 3}, {0, 5, 6, 7, 8, 9}});
  const DnasExport ex = export_network(net);
  CHECK(to_text(ex.arch) ==
        "blocks:in=2x8x8,classes=3,act=relu,stem=7k3s1|ir:k3e2s1c9|ds:k5s2c10|ir:k3e2s1c10|head=0");
  CHECK(export_gap(net, ex, images({2, 2, 8, 8}, 6)) < 1e-4);
  net(images({1, 2, 8, 8}, 6));
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(arch_cost(ex.arch).params));
}

TEST_CASE("PIT mask gradient: straight-through through the cost and the loss") {
  const ArchSpec seed =
      parse_blocks("blocks:in=1x4x4,classes=2,act=relu,stem=4k1s1|ds:k3s2c6|head=0");
  DnasNetwork net(seed, pit_config(""));
  net(images({1, 1, 4, 4}, 1));
  Variable cost = net.cost(CostKind::Params);
  // params = stem 4 + 2*4 + dw 9*4 + 2*4 + pw 4*6 + 2*6 + classifier 6*2 + 2.
  CHECK(cost.value().get(0) == doctest::Approx(4 + 8 + 36 + 8 + 24 + 12 + 12 + 2));
  cost.backward();
  // d/d n_stem = 1 (stem conv) + 2 + 9 + 2 + 6 (pw) = 20 per stem channel; d/d n_b0 = 4 + 2 + 2
  // = 8.
  for (int64_t c = 0; c < 4; ++c)
    CHECK(net.groups()[0]->gamma.grad().get(c) == doctest::Approx(20.0));
  for (int64_t c = 0; c < 6; ++c)
    CHECK(net.groups()[1]->gamma.grad().get(c) == doctest::Approx(8.0));
}

TEST_CASE("PIT on basic residual blocks (resnet8's kind): export is equivalent, costs match") {
  // b0 identity rb (shares the stem group), b1 a width-change projection, b2 a stride-2 one.
  const ArchSpec seed = parse_blocks(
      "blocks:in=3x8x8,classes=4,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s1c12|rb:k3s2c16|head=0");
  DnasNetwork net(seed, pit_config(""));
  REQUIRE(net.groups().size() == 3);  // stem (= b0), b1, b2
  CHECK(net.blocks()[0]->in_group() == net.blocks()[0]->out_group());
  randomize(net, 41);
  kill(net, {{0, 5}, {1, 2, 3, 11}, {4, 7, 8}});
  const DnasExport ex = export_network(net);
  CHECK(ex.ghost_channels == 0);
  CHECK(to_text(ex.arch) ==
        "blocks:in=3x8x8,classes=4,act=relu,stem=6k3s1|rb:k3s1c6|rb:k3s1c8|rb:k3s2c13|head=0");
  CHECK(export_gap(net, ex, images({2, 3, 8, 8}, 4)) < 1e-4);
  net(images({1, 3, 8, 8}, 4));
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(arch_cost(ex.arch).params));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(arch_cost(ex.arch).macs));
}

TEST_CASE("PIT on a projection rb pruned to equal widths keeps a ghost, not an identity") {
  // 8 -> 12 stride 1 has a projection; pruning both to 6 would turn it into the identity.
  const ArchSpec seed =
      parse_blocks("blocks:in=2x6x6,classes=3,act=relu,stem=8k3s1|rb:k3s1c12|head=0");
  DnasNetwork net(seed, pit_config(""));
  randomize(net, 12);
  kill(net, {{0, 1}, {0, 1, 2, 3, 4, 5}});
  const DnasExport ex = export_network(net);
  CHECK(ex.ghost_channels == 1);
  CHECK(to_text(ex.arch) == "blocks:in=2x6x6,classes=3,act=relu,stem=6k3s1|rb:k3s1c7|head=0");
  CHECK(export_gap(net, ex, images({2, 2, 6, 6}, 9)) < 1e-4);
}

TEST_CASE("the PLiNIO SuperNet {cv:k3, cv:k5, ds:k3, skip} with PIT on an rb seed") {
  CHECK(parse_candidates("plinio") == parse_candidates("cv:k3,cv:k5,ds:k3,skip"));
  CHECK(candidate_name(parse_candidates("cv:k5").at(0)) == "cv:k5");
  const ArchSpec seed = parse_blocks(
      "blocks:in=3x8x8,classes=4,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s2c16|rb:k3s1c16|head=0");
  DnasNetwork net(seed, pit_config("plinio"));
  REQUIRE(net.blocks()[1]->size() == 3);  // no identity where the stride is 2
  net.blocks()[0]->alpha().value().copy_from(Tensor::from_values({4}, {0, 1, 0, 0}));  // cv:k5
  net.blocks()[1]->alpha().value().copy_from(Tensor::from_values({3}, {1, 0, 0}));     // cv:k3
  net.blocks()[2]->alpha().value().copy_from(Tensor::from_values({4}, {0, 0, 1, 0}));  // ds:k3
  randomize(net, 17);
  kill(net, {{3}, {0, 1, 2, 9}});  // groups: stem (= b0), b1 (= b2)
  const DnasExport ex = export_network(net);
  CHECK(to_text(ex.arch) ==
        "blocks:in=3x8x8,classes=4,act=relu,stem=7k3s1|cv:k5s1c7|cv:k3s2c12|ds:k3s1c12|head=0");
  CHECK(export_gap(net, ex, images({2, 3, 8, 8}, 2)) < 1e-4);
  net(images({1, 3, 8, 8}, 2));
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(arch_cost(ex.arch).params));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(arch_cost(ex.arch).macs));
}

TEST_CASE("a basic residual block as a SuperNet candidate (keeps resnet8's block among the choices)") {
  const ArchSpec seed = parse_blocks(
      "blocks:in=2x8x8,classes=3,act=relu,stem=8k3s1|ds:k3s1c12|ds:k3s2c12|ds:k3s1c12|head=0");
  DnasNetwork net(seed, pit_config("cv:k3,ds:k3,rb:k3,skip"));
  net.blocks()[0]->alpha().value().copy_from(Tensor::from_values({3}, {0, 0, 1}));     // rb
  net.blocks()[1]->alpha().value().copy_from(Tensor::from_values({3}, {0, 0, 1}));     // rb s2
  net.blocks()[2]->alpha().value().copy_from(Tensor::from_values({4}, {0, 0, 1, 0}));  // rb id
  randomize(net, 23);
  kill(net, {{2}, {0, 4}, {1, 3, 5}});  // groups: stem, b0, b1 (= b2)
  const DnasExport ex = export_network(net);
  CHECK(to_text(ex.arch) ==
        "blocks:in=2x8x8,classes=3,act=relu,stem=7k3s1|rb:k3s1c10|rb:k3s2c9|rb:k3s1c9|head=0");
  CHECK(export_gap(net, ex, images({2, 2, 8, 8}, 5)) < 1e-4);
  net(images({1, 2, 8, 8}, 5));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(arch_cost(ex.arch).macs));
}
