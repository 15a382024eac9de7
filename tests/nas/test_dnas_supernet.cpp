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
DnasConfig supernet_config(const std::string& candidates, bool pit) {
  DnasConfig c;
  c.supernet = !candidates.empty();
  c.pit = pit;
  if (!candidates.empty()) c.candidates = parse_candidates(candidates);
  return c;
}

Variable images(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  return Variable(testing::random_tensor(shape, rng, DType::F32));
}

void randomize(DnasNetwork& net, uint64_t seed) {
  Rng rng(seed);
  net.initialize(rng);
  for (auto& [name, t] : net.state())
    if (name.find("running_var") != std::string::npos || name.find("gamma") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); ++i) t.set(i, rng.uniform(0.5, 1.5));
    else if (name.find("running_mean") != std::string::npos ||
             name.find("beta") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); ++i) t.set(i, rng.uniform(-0.5, 0.5));
}

// Max |supernet(x) - exported(x)| in eval mode under the argmax selection.
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
}  // namespace

TEST_CASE("candidate lists parse, print and reject nonsense") {
  const auto c = parse_candidates("ds:k3,ir:k5e2,cn:k7e4,skip");
  REQUIRE(c.size() == 4);
  CHECK(candidate_name(c[0]) == "ds:k3");
  CHECK(candidate_name(c[1]) == "ir:k5e2");
  CHECK(candidate_name(c[2]) == "cn:k7e4");
  CHECK(c[3].identity);
  CHECK_THROWS_AS(parse_candidates("ds:k3,conv5"), Error);
  CHECK_THROWS_AS(parse_cost_kind("flops"), Error);
}

TEST_CASE("cost regularizer by hand on a tiny supernet") {
  // stem 1->2 1x1 on 4x4; one block 2->2 s1 with candidates ds:k3, ds:k5, skip; classifier 2->2.
  const ArchSpec seed =
      parse_blocks("blocks:in=1x4x4,classes=2,act=relu,stem=2k1s1|ds:k3s1c2|head=0");
  DnasNetwork net(seed, supernet_config("ds:k3,ds:k5,skip", false));
  REQUIRE(net.blocks()[0]->size() == 3);
  net(images({1, 1, 4, 4}, 1));
  // params: stem 2 + BN 4; ds:k3 18+4+4+4 = 30; ds:k5 50+4+4+4 = 62; classifier 4+2.
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(12.0 + (30.0 + 62.0) / 3));
  // MACs: stem 32; ds:k3 (18+4)*16 = 352; ds:k5 (50+4)*16 = 864; classifier 4.
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(36.0 + (352.0 + 864.0) / 3));
  // d cost / d alpha_i = theta_i (c_i - mean cost) / T with theta = 1/3.
  net.selection().temperature = 2.0;
  net(images({1, 1, 4, 4}, 1));
  Variable cost = net.cost(CostKind::Params);
  cost.backward();
  const Tensor& g = net.blocks()[0]->alpha().grad();
  const double mean = (30.0 + 62.0 + 0.0) / 3;
  CHECK(g.get(0) == doctest::Approx((30.0 - mean) / 3 / 2));
  CHECK(g.get(1) == doctest::Approx((62.0 - mean) / 3 / 2));
  CHECK(g.get(2) == doctest::Approx((0.0 - mean) / 3 / 2));
  // ICV of a uniform choice: (1/3) / (0 + 1e-3).
  CHECK(net.icv_total().value().get(0) == doctest::Approx(1000.0 / 3));
}

TEST_CASE("hard gumbel selections are one-hot in the network") {
  const ArchSpec seed =
      parse_blocks("blocks:in=1x6x6,classes=3,act=relu,stem=4k3s1|ds:k3s1c4|ds:k3s2c8|head=0");
  DnasNetwork net(seed, supernet_config("ds:k3,ds:k5,ir:k3e2,skip", false));
  Rng rng(3), noise(4);
  net.initialize(rng);
  net.selection().mode = SelectionMode::HardGumbel;
  net.selection().rng = &noise;
  for (int rep = 0; rep < 5; ++rep) {
    net(images({2, 1, 6, 6}, 5));
    for (const auto& b : net.blocks()) {
      double total = 0.0;
      for (double v : b->theta().value().to_vector()) {
        CHECK((v == 0.0 || v == 1.0));
        total += v;
      }
      CHECK(total == 1.0);
    }
  }
  CHECK(net.blocks()[1]->size() == 3);  // skip does not fit a stride-2 block
}

TEST_CASE("supernet output gradient matches finite differences through alpha") {
  const ArchSpec seed =
      parse_blocks("blocks:in=1x4x4,classes=2,act=relu,stem=2k3s1|ds:k3s1c2|head=0");
  DnasNetwork net(seed, supernet_config("ds:k3,ir:k3e2,skip", false));
  randomize(net, 9);
  net.set_training(false);
  const Variable x = images({2, 1, 4, 4}, 2);
  const Tensor alpha0 = Tensor::from_values({3}, {0.3, -0.2, 0.1});
  auto f = [&](const Tensor& a) {
    net.blocks()[0]->alpha().value().copy_from(a);
    return testing::weighted_total(net(x), 8);
  };
  net.blocks()[0]->alpha().zero_grad();
  f(alpha0).backward();
  const Tensor g = net.blocks()[0]->alpha().grad().clone();
  for (int64_t i = 0; i < 3; ++i) {
    Tensor p = alpha0.clone(), m = alpha0.clone();
    p.set(i, alpha0.get(i) + 1e-2);
    m.set(i, alpha0.get(i) - 1e-2);
    const double fd = (f(p).value().get(0) - f(m).value().get(0)) / 2e-2;
    CHECK(g.get(i) == doctest::Approx(fd).epsilon(2e-3));
  }
}

TEST_CASE("export of a supernet equals the supernet under the argmax selection") {
  const ArchSpec seed = parse_blocks(
      "blocks:in=2x8x8,classes=3,act=relu6,stem=8k3s1|ir:k3e2s1c8|ds:k3s2c16|ir:k3e2s1c16|head=12");
  DnasNetwork net(seed, supernet_config("ds:k3,ds:k5,ir:k3e2,ir:k5e4,skip", false));
  randomize(net, 11);
  const std::vector<std::vector<double>> alphas{{0, 0, 0, 1, 0}, {0, 0, 2, 0}, {0, 0, 0, 0, 3}};
  for (size_t i = 0; i < alphas.size(); ++i)
    net.blocks()[i]->alpha().value().copy_from(
        Tensor::from_values({static_cast<int64_t>(alphas[i].size())}, alphas[i]));
  const DnasExport ex = export_network(net);
  CHECK(to_text(ex.arch) ==
        "blocks:in=2x8x8,classes=3,act=relu6,stem=8k3s1|ir:k5e4s1c8|ir:k3e2s2c16|head=12");
  CHECK(ex.choices == std::vector<int64_t>{3, 2, 4});
  CHECK(export_gap(net, ex, images({3, 2, 8, 8}, 4)) < 1e-4);
  // The hard cost is the exported network's analytic cost.
  net(images({1, 2, 8, 8}, 4));
  CHECK(net.cost(CostKind::Params).value().get(0) == doctest::Approx(arch_cost(ex.arch).params));
  CHECK(net.cost(CostKind::Macs).value().get(0) == doctest::Approx(arch_cost(ex.arch).macs));
}
