// MobileNetV3 support: the ir block options (":se", own activation) in the text
// form, the squeeze-and-excitation rows of the lowering, the builder, the int8
// graph, and the reference network mobilenetv3-small with counts computed by
// hand; the ir options as genes of the blocks search space.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "autograd/functions.h"
#include "core/error.h"
#include "core/rng.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/graph.h"
#include "nas/search/blocks_space.h"

using namespace piconas;
using namespace piconas::nas;

namespace {
const std::string kBase = "blocks:in=3x32x32,classes=10,act=hswish,stem=16k3s2|";
}  // namespace

TEST_CASE(
    "ir options: :se and the block's activation parse, print "
    "canonically, round-trip") {
  const std::string text = kBase + "ir:k3e1s2c16:se:relu|ir:k5e6s1c16:se|ir:k3e4s1c24:relu6|head=0";
  const ArchSpec a = parse_arch(text);
  REQUIRE(a.blocks.size() == 3);
  CHECK(a.blocks[0].se);
  CHECK(a.blocks[0].activation == Activation::ReLU);
  CHECK(a.blocks[1].se);
  CHECK(!a.blocks[1].activation);
  CHECK(!a.blocks[2].se);
  CHECK(a.blocks[2].activation == Activation::ReLU6);
  CHECK(to_text(a) == text);
  CHECK(parse_arch(to_text(a)) == a);
  // Without options the text and the spec are those of before.
  CHECK(to_text(parse_arch(kBase + "ir:k3e6s1c16|head=0")) == kBase + "ir:k3e6s1c16|head=0");
}

TEST_CASE("ir options: errors name the problem") {
  auto fails = [](const std::string &t, const std::string &part) {
    CAPTURE(t);
    try {
      parse_arch(t);
      FAIL("accepted");
    } catch (const Error &e) {
      CHECK_MESSAGE(std::string(e.what()).find(part) != std::string::npos, e.what());
    }
  };
  fails(kBase + "ds:k3s1c16:se|head=0", "takes no options");
  fails(kBase + "ir:k3e6s1c16:gelu|head=0", "cannot use gelu");
  fails(kBase + "ir:k3e6s1c16:hswish|head=0", "is the network's");
  fails(kBase + "ir:k3e6s1c16:relu:se|head=0", "expected '|'");
  fails(kBase + "ir:k3e6s1c16:sx|head=0", "unknown activation 'sx'");
}

TEST_CASE("se_channels: MobileNetV3's make_divisible(hidden / 4, 8)") {
  // torchvision's _make_divisible(v, 8): max(8, int(v + 4) // 8 * 8), + 8 if
  // below 0.9 v.
  CHECK(se_channels(16) == 8);    // 4 -> 8 (the minimum)
  CHECK(se_channels(96) == 24);   // 24
  CHECK(se_channels(144) == 40);  // 36 -> 40
  CHECK(se_channels(240) == 64);  // 60 -> 64
  CHECK(se_channels(288) == 72);
  CHECK(se_channels(576) == 144);
  CHECK(se_channels(152) == 40);  // 38 -> 40
  CHECK(se_channels(300) == 72);  // 75 -> 72 (not below 0.9 * 75 = 67.5)
  CHECK(se_channels(336) == 88);  // 84 -> 88
  CHECK(se_channels(40) == 16);   // 10 -> 8, below 0.9 * 10 = 9: 16
}

TEST_CASE(
    "lowering: the SE rows, their module paths and the channel "
    "multiply's inputs") {
  const ArchSpec a = parse_arch(kBase + "ir:k3e4s1c16:se|head=0");
  const std::vector<LayerInfo> rows = arch_layers(a);
  // input, stem conv/bn/act, then the block: expand/bn/act, dw/bn/act, 6 SE
  // rows, project/bn, add.
  auto find = [&](const std::string &name) {
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].name == name) return static_cast<int>(i);
    FAIL("no row " << name);
    return -1;
  };
  const int dw_act = find("b0.dw.act"), pool = find("b0.se.pool"), scale = find("b0.se.scale");
  CHECK(pool == dw_act + 1);
  CHECK(scale == pool + 5);
  CHECK(rows[static_cast<size_t>(pool)].kind == LayerKind::GlobalAvgPool);
  CHECK(rows[static_cast<size_t>(pool)].path == "blocks.0.body.6.0");
  const LayerInfo &reduce = rows[static_cast<size_t>(find("b0.se.reduce"))];
  CHECK(reduce.path == "blocks.0.body.6.1");
  CHECK(reduce.output == Shape3{16, 1, 1});  // se_channels(64) = 16
  CHECK(reduce.bias);
  CHECK(reduce.params == 64 * 16 + 16);
  CHECK(reduce.macs == 64 * 16);
  const LayerInfo &gate = rows[static_cast<size_t>(find("b0.se.gate"))];
  CHECK(gate.activation == Activation::Hardsigmoid);
  CHECK(gate.output == Shape3{64, 1, 1});
  const LayerInfo &mul = rows[static_cast<size_t>(scale)];
  CHECK(mul.kind == LayerKind::ChannelMul);
  CHECK(mul.path == "blocks.0.body.6");
  CHECK(mul.skip == dw_act);
  CHECK(mul.output == Shape3{64, 16, 16});
  CHECK(rows[static_cast<size_t>(find("b0.project"))].path == "blocks.0.body.7");
  CHECK(rows[static_cast<size_t>(find("b0.expand.act"))].activation == Activation::Hardswish);
}

TEST_CASE(
    "builder: an SE network trains through both inputs of the channel "
    "multiply") {
  const ArchSpec a = parse_arch(kBase + "ir:k3e4s1c16:se:relu|head=0");
  auto net = build_network(a);
  Rng rng(3);
  net->initialize(rng);
  Tensor x({2, 3, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, rng.uniform(-1.0, 1.0));
  autograd::Variable logits = (*net)(autograd::Variable(x));
  CHECK(logits.shape() == Shape{2, 10});
  autograd::sum(logits).backward();
  for (const auto &[name, p] : net->named_parameters()) {
    if (name.find("blocks.0.body.6.") == std::string::npos) continue;
    double norm = 0;
    for (int64_t i = 0; i < p.grad().numel(); ++i) norm += std::abs(p.grad().get(i));
    CAPTURE(name);
    CHECK(norm > 0);  // the gate path gets a gradient
  }
}

// mobilenetv3-small counted by hand from MobileNetV3-Small (Howard et al. 2019,
// Table 2) as defined in arch_spec.h (3x96x96, 2 classes, stem 16, 11 bnecks,
// head 576, se_channels of the hidden width), params with BN gamma/beta and the
// SE convs' biases:
//   stem 432 + 32; b0 (16, e1, SE 8) 144 + 32 + 136 + 144 + 256 + 32; ...; head
//   55,296 + 1,152; classifier 1,154: 928,226 in all. MACs at 48, 24, 12, 6, 3
//   pixels per side: 10,412,608.
// (An independent script summed the same formulas: params 928,226, MACs
// 10,412,608.)
TEST_CASE("mobilenetv3-small: structure and counts") {
  const ArchSpec m = parse_arch("mobilenetv3-small");
  CHECK(m == mobilenetv3_small());
  CHECK(m.activation == Activation::Hardswish);
  REQUIRE(m.blocks.size() == 11);
  int se = 0, relu = 0;
  for (const BlockSpec &b : m.blocks) {
    se += b.se;
    relu += b.activation == Activation::ReLU;
  }
  CHECK(se == 9);
  CHECK(relu == 3);
  const ArchCost c = arch_cost(m);
  CHECK(c.params == 928226);
  CHECK(c.macs == 10412608);
  const std::vector<LayerInfo> rows = arch_layers(m);
  CHECK(rows[rows.size() - 2].input == Shape3{576, 3, 3});
  // The int8 graph: a Hardswish layer per hswish activation, a ChannelMul per
  // SE block.
  const deploy::Graph g = deploy::lower_arch(m);
  int hswish = 0, mul = 0;
  for (const deploy::Layer &l : g.layers) {
    hswish += l.kind == LayerKind::Hardswish;
    mul += l.kind == LayerKind::ChannelMul;
  }
  CHECK(mul == 9);
  CHECK(hswish == 1 + 8 * 2 + 1);  // stem, expand + dw of the 8 hswish blocks, head
  CHECK(deploy::int8_problems(m).empty());
}

TEST_CASE("blocks space: ir blocks with options pass the range checks") {
  const ArchSpec a = parse_arch(kBase + "ir:k3e4s2c16:se:relu|ir:k5e6s1c32:se|head=0");
  CHECK(blocks_space_problems(a).empty());
}

TEST_CASE(
    "int8 graph: the folded float graph (hard-sigmoid in the expand "
    "conv) equals the network") {
  const ArchSpec a =
      parse_arch(kBase + "ir:k3e1s1c16:se:relu|ir:k3e4s2c24:se|ir:k5e3s1c24:se|head=32");
  auto net = build_network(a);
  Rng rng(11);
  net->initialize(rng);
  net->set_training(false);
  Tensor x({3, 3, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, rng.uniform(-2.0, 2.0));
  const Tensor want = (*net)(autograd::Variable(x)).value();
  const deploy::Graph g = deploy::lower_network(a, *net);
  const Tensor got = deploy::run_float(g, x);
  REQUIRE(got.numel() == want.numel());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    worst = std::max(worst, std::abs(got.get(i) - want.get(i)));
    scale = std::max(scale, std::abs(want.get(i)));
  }
  CHECK(scale > 1e-3);
  CHECK(worst <= 1e-4 * std::max(1.0, scale));
}

namespace {
search::SpaceOptions hswish_base(bool ir_options) {
  search::SpaceOptions o;
  o.input = {3, 32, 32};
  o.num_classes = 10;
  o.activation = Activation::Hardswish;
  o.stem = {16, 3, 2};
  o.head_channels = 0;
  o.min_blocks = 1;
  o.max_blocks = 3;
  o.ir_options = ir_options;
  return o;
}
}  // namespace

TEST_CASE("blocks space: ir options are genes; parsed, kept and round-tripped") {
  const search::BlocksSpace space(hswish_base(false));
  const std::string text = kBase + "ir:k3e4s2c16:se:relu|ir:k5e6s1c32:se|ir:k3e2s1c32:relu6|head=0";
  const search::Candidate c = space.parse(text);
  CHECK(c.text == text);
  // [kind, kernel, expansion, stride, out_channels, se, activation (1 relu, 2 relu6, 3 hswish)]
  CHECK(c.genes == std::vector<int>{0, 3, 4, 2, 16, 1, 1, 0, 5, 6, 1, 32, 1, 0, 0, 3, 2, 1, 32, 0, 2});
  CHECK(space.from_genes(c.genes).text == text);
  CHECK(*c.arch == parse_arch(text));
  // An activation gene equal to the network's (hswish: 3) is not a member: it is written without.
  CHECK_THROWS_WITH_AS(space.from_genes({0, 3, 4, 2, 16, 0, 3}), doctest::Contains("the network's"),
                       Error);
  CHECK_THROWS_WITH_AS(space.from_genes({1, 3, 1, 2, 16, 1, 0}),
                       doctest::Contains("only ir blocks"), Error);
  CHECK_THROWS_WITH_AS(space.from_genes({0, 3, 4, 2, 16, 2, 0}), doctest::Contains("se gene 2"),
                       Error);
  // Without ir_options mutation never touches se or the activation, but keeps them; a kind
  // change away from ir clears them.
  Rng rng(3);
  int kept = 0, cleared = 0;
  for (int i = 0; i < 300; ++i) {
    const search::Candidate m = space.mutate(c, rng);
    REQUIRE(space.problems(m).empty());
    const size_t shared = std::min(m.genes.size(), c.genes.size());
    for (size_t b = 0; b < shared; b += search::kBlockGenes) {
      if (m.genes[b] == c.genes[b]) {
        kept += m.genes[b + 5] == c.genes[b + 5] && m.genes[b + 6] == c.genes[b + 6];
        CHECK(m.genes[b + 5] == c.genes[b + 5]);
        CHECK(m.genes[b + 6] == c.genes[b + 6]);
      } else {
        cleared += m.genes[b + 5] == 0 && m.genes[b + 6] == 0;
        CHECK(m.genes[b + 5] == 0);
        CHECK(m.genes[b + 6] == 0);
      }
    }
  }
  CHECK(kept > 0);
  CHECK(cleared > 0);
}

TEST_CASE("blocks space: ir options and MobileNetV3 values are drawn with ir_options only") {
  // (That the draws without ir_options are value for value those of the space before the se and
  // activation genes is checked by tests/regression: its search output stays byte-identical.)
  const search::BlocksSpace off(hswish_base(false)), on(hswish_base(true));
  Rng a(21), b(21);
  int se_on = 0, act_on = 0, wide_on = 0;
  for (int i = 0; i < 200; ++i) {
    const search::Candidate x = off.sample(a);
    for (size_t g = 0; g < x.genes.size(); g += search::kBlockGenes) {
      CHECK(x.genes[g + 5] == 0);
      CHECK(x.genes[g + 6] == 0);
    }
    const search::Candidate y = on.sample(b);
    CHECK(on.problems(y).empty());
    CHECK(deploy::int8_problems(*y.arch).empty() ==
          (y.text.find("cn:") == std::string::npos));
    for (size_t g = 0; g < y.genes.size(); g += search::kBlockGenes) {
      se_on += y.genes[g + 5];
      act_on += y.genes[g + 6] != 0;
      wide_on += y.genes[g + 4] == 24 || y.genes[g + 4] == 40 || y.genes[g + 4] == 48;
    }
    CHECK(on.problems(on.mutate(y, b)).empty());
  }
  CHECK(se_on > 0);
  CHECK(act_on > 0);
  CHECK(wide_on > 0);
  // The rl encoding: two more decisions per block slot with ir_options.
  CHECK(on.decision_sizes().size() == 1 + 3 * 7);
  CHECK(off.decision_sizes().size() == 1 + 3 * 5);
}

TEST_CASE("blocks space: mobilenetv3-small seeds a search with ir_options") {
  search::SpaceOptions o = hswish_base(true);
  o.input = {3, 96, 96};
  o.num_classes = 2;
  o.head_channels = 576;
  o.max_blocks = 11;
  const search::BlocksSpace space(o);
  const search::Candidate c = space.parse("mobilenetv3-small");
  CHECK(c.text == reference_text("mobilenetv3-small"));
  CHECK(space.cost(c).params == 928226);
  CHECK(space.cost(c).int8_deployable);
  // Without the option its widths 24, 40, 48 and expansions 1, 3 are outside the space.
  o.ir_options = false;
  CHECK_THROWS_WITH_AS(search::BlocksSpace(o).parse("mobilenetv3-small"),
                       doctest::Contains("output channels 24 not in the blocks space"), Error);
  // mobilenetv3-large has hidden widths and an fc layer, which the space's genes lack.
  o.input = {3, 224, 224};
  o.num_classes = 1000;
  o.head_channels = 960;
  o.max_blocks = 15;
  o.ir_options = true;
  CHECK_THROWS_WITH_AS(search::BlocksSpace(o).parse("mobilenetv3-large"),
                       doctest::Contains("the blocks space has no hidden classifier layer"), Error);
}
