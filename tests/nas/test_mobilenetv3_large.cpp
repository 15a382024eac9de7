// MobileNetV3-Large: the ir hidden width (h<N>) and the hidden classifier layer (fc=N) of the
// text form, the reference network mobilenetv3-large with its published counts, and the
// options of a reference name (,in= ,classes= ,width=).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "core/error.h"
#include "core/rng.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/graph.h"
#include "nas/search/search_space.h"

using namespace piconas;
using namespace piconas::nas;

namespace {
const std::string kBase = "blocks:in=3x32x32,classes=10,act=hswish,stem=16k3s2|";
}  // namespace

TEST_CASE("ir hidden width and fc: parse, print canonically, round-trip, count") {
  const std::string text = kBase + "ir:k3h40s1c16:se|ir:k3e1s2c24|head=0,fc=32";
  const ArchSpec a = parse_arch(text);
  REQUIRE(a.blocks.size() == 2);
  CHECK(a.blocks[0].hidden == 40);
  CHECK(a.blocks[0].expansion == 1);
  CHECK(a.classifier_hidden == 32);
  CHECK(to_text(a) == text);
  CHECK(parse_arch(to_text(a)) == a);
  // Params by hand: stem 3*9*16 + 32 = 464; b0 expand 16*40 + 80, dw 40*9 + 80, SE (squeeze
  // se_channels(40) = 16) 40*16 + 16 + 16*40 + 40, project 40*16 + 32 = 3,168; b1 (e1: no expand)
  // dw 16*9 + 32, project 16*24 + 48 = 608; fc 24*32 + 32 = 800; classifier 32*10 + 10 = 330.
  const ArchCost c = arch_cost(a);
  CHECK(c.params == 464 + 3168 + 608 + 800 + 330);
  // MACs: stem 432 * 16*16; b0 at 16x16: 640 + 360 + 640 per pixel and 2*640 for SE; b1 dw at
  // 8x8: 144, project 384 per pixel; fc 768; classifier 320.
  CHECK(c.macs == 432 * 256 + (640 + 360 + 640) * 256 + 1280 + (144 + 384) * 64 + 768 + 320);
  const std::vector<LayerInfo> rows = arch_layers(a);
  REQUIRE(rows.size() >= 4);
  CHECK(rows[rows.size() - 3].path == "fc.0");
  CHECK(rows[rows.size() - 2].path == "fc.1");
  CHECK(rows[rows.size() - 2].activation == Activation::Hardswish);
  // A hidden width equal to the input is e1: no expand conv.
  CHECK(arch_cost(parse_arch(kBase + "ir:k3h16s1c16|head=0")).params ==
        arch_cost(parse_arch(kBase + "ir:k3e1s1c16|head=0")).params);
}

TEST_CASE("ir hidden width and fc: malformed or invalid texts are refused") {
  CHECK_THROWS_WITH_AS(parse_arch(kBase + "ir:k3h0s1c16|head=0"),
                       doctest::Contains("hidden width 0"), Error);
  CHECK_THROWS_WITH_AS(parse_arch(kBase + "ds:k3h8s1c16|head=0"), doctest::Contains("'s'"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_arch(kBase + "ir:k3e1s1c16|head=0,fc=0"),
                       doctest::Contains("fc=0"), Error);
  ArchSpec a = parse_arch(kBase + "ir:k3h40s1c16|head=0");
  a.blocks[0].expansion = 4;
  CHECK_THROWS_WITH_AS(check_arch(a), doctest::Contains("expansion must be 1"), Error);
  // Outside the blocks search space.
  const auto p = blocks_space_problems(parse_arch(kBase + "ir:k3h40s1c16|head=0,fc=32"));
  std::string all;
  for (const std::string& problem : p) all += problem + "\n";
  CHECK(all.find("hidden width 40 (the blocks space has expansions only)") != std::string::npos);
  CHECK(all.find("fc=32 (the blocks space has no hidden classifier layer)") != std::string::npos);
}

// mobilenetv3-large at width 1.0, 3x224x224, 1000 classes is torchvision's mobilenet_v3_large
// (Howard et al. 2019, Table 1). Its published counts:
// - params 5,483,032: torchvision's model card (num_params of MobileNet_V3_Large_Weights), which
//   counts what piconas counts (conv weights without bias before BN, BN gamma and beta, the SE
//   convs' and both linear layers' biases); the paper's Table 3 rounds it to 5.4 M;
// - MACs 216,589,760: the Keras MobileNetV3Large table quotes 217 M (conv and linear
//   multiply-adds); the paper's Table 3 says 219 M (it does not say what the extra 2.4 M are;
//   piconas counts SE's channel multiply, hard-swish and adds as 0).
// An independent Python script following torchvision's mobilenetv3.py (_make_divisible,
// adjust_channels, the SE squeeze _make_divisible(hidden // 4, 8)) printed the same params and
// MACs, and these for the other settings below.
TEST_CASE("mobilenetv3-large: structure and published counts") {
  const ArchSpec m = parse_arch("mobilenetv3-large");
  CHECK(m == mobilenetv3_large());
  CHECK(m.input == Shape3{3, 224, 224});
  CHECK(m.num_classes == 1000);
  REQUIRE(m.blocks.size() == 15);
  int se = 0, relu = 0, hidden = 0;
  for (const BlockSpec& b : m.blocks) {
    se += b.se;
    relu += b.activation == Activation::ReLU;
    hidden += b.hidden != 0;
  }
  CHECK(se == 8);
  CHECK(relu == 6);
  CHECK(hidden == 3);  // 200 and 184 (twice) after 80 channels
  CHECK(m.blocks[7].hidden == 200);
  CHECK(m.blocks[2].expansion == 3);  // 72 = 24 x 3
  CHECK(m.head_channels == 960);
  CHECK(m.classifier_hidden == 1280);
  const ArchCost c = arch_cost(m);
  CHECK(c.params == 5483032);
  CHECK(c.macs == 216589760);
  const std::vector<LayerInfo> rows = arch_layers(m);
  CHECK(rows[rows.size() - 4].input == Shape3{960, 7, 7});  // the pool
  // Int8: a Hardswish layer per hswish activation, a ChannelMul per SE block, two linear layers.
  const deploy::Graph g = deploy::lower_arch(m);
  int hswish = 0, mul = 0, fc = 0;
  for (const deploy::Layer& l : g.layers) {
    hswish += l.kind == LayerKind::Hardswish;
    mul += l.kind == LayerKind::ChannelMul;
    fc += l.kind == LayerKind::FullyConnected;
  }
  CHECK(mul == 8);
  CHECK(hswish == 1 + 9 * 2 + 1 + 1);  // stem, expand + dw of the 9 hswish blocks, head, fc
  CHECK(fc == 2);
  CHECK(deploy::int8_problems(m).empty());
}

TEST_CASE("mobilenetv3-large: width multiplier and input options") {
  // The independent script's counts (torchvision's width rule).
  const ArchCost w075 = arch_cost(parse_arch("mobilenetv3-large,width=0.75"));
  CHECK(w075.params == 3377576);
  CHECK(w075.macs == 140033816);
  const ArchSpec small = parse_arch("mobilenetv3-large,in=1x28x28,classes=10,width=0.35");
  CHECK(small.input == Shape3{1, 28, 28});
  CHECK(small.num_classes == 10);
  CHECK(small.stem.out_channels == 8);
  CHECK(small.classifier_hidden == 448);
  const ArchCost c = arch_cost(small);
  CHECK(c.params == 552410);
  CHECK(c.macs == 966712);
  CHECK(parse_arch("mobilenetv3-large,in=3x96x96,classes=2") ==
        parse_arch(canonical_text("mobilenetv3-large,in=3x96x96,classes=2")));
  CHECK(arch_cost(parse_arch("mobilenetv3-large,in=3x96x96,classes=2")).macs == 41782720);
  CHECK(parse_arch("mobilenetv3-large,width=1.0") == mobilenetv3_large());
  // Other names take in= and classes= too.
  CHECK(parse_arch("resnet8,classes=12").num_classes == 12);
  CHECK_THROWS_WITH_AS(parse_arch("resnet8,width=0.5"),
                       doctest::Contains("only mobilenetv3-small and mobilenetv3-large take a width"), Error);
  CHECK_THROWS_WITH_AS(parse_arch("mobilenetv3-large,width=0"), doctest::Contains("not in (0, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_arch("mobilenetv3-large,width=0.5,classes=3"),
                       doctest::Contains("in this order"), Error);
  CHECK_THROWS_WITH_AS(parse_arch("mobilenetv3-large,depth=2"), doctest::Contains("in this order"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_arch("mobilenetv3-huge"), doctest::Contains("mobilenetv3-large"),
                       Error);
}

TEST_CASE("mobilenetv3-small: width multiplier is torchvision's mobilenet_v3_small") {
  // Params 2,542,856: torchvision's model card (num_params of mobilenet_v3_small, counted as
  // piconas counts). The other numbers come from an independent PyTorch script written from
  // torchvision's mobilenetv3.py (_make_divisible(w * width, 8) for every stem, hidden and output
  // width; head 6 x the last output; Linear to _make_divisible(1024 * width, 8), hard-swish, Linear
  // to the classes), parameters summed and MACs hooked per conv and linear module; the same script
  // gives mobilenetv3-large's 5,483,032 and 3,377,576 above.
  const ArchCost w1 = arch_cost(parse_arch("mobilenetv3-small,in=3x224x224,classes=1000,width=1"));
  CHECK(w1.params == 2542856);
  CHECK(w1.macs == 56510400);
  const ArchCost w075 = arch_cost(parse_arch("mobilenetv3-small,in=3x224x224,classes=1000,width=0.75"));
  CHECK(w075.params == 1653920);
  CHECK(w075.macs == 39115576);
  const ArchSpec vww = parse_arch("mobilenetv3-small,width=0.5");  // keeps 3x96x96, 2 classes
  CHECK(vww.input == Shape3{3, 96, 96});
  CHECK(vww.num_classes == 2);
  CHECK(arch_cost(vww).params == 405290);
  CHECK(arch_cost(vww).macs == 3607280);
  const ArchSpec fm = parse_arch("mobilenetv3-small,in=1x28x28,classes=10,width=0.5");
  CHECK(arch_cost(fm).params == 409250);
  CHECK(arch_cost(fm).macs == 592856);
  // The exact hidden widths of Table 2: 72 after 16 and 88 after 24 channels are `h`; 16 after
  // 16 is e1 (no expand conv); fc 1024.
  const ArchSpec t = parse_arch("mobilenetv3-small,width=1.0");
  REQUIRE(t.blocks.size() == 11);
  CHECK(t.blocks[0].expansion == 1);
  CHECK(t.blocks[0].hidden == 0);
  CHECK(t.blocks[1].hidden == 72);
  CHECK(t.blocks[2].hidden == 88);
  CHECK(t.blocks[9].expansion == 6);
  CHECK(t.head_channels == 576);
  CHECK(t.classifier_hidden == 1024);
  CHECK(parse_arch(to_text(t)) == t);
  // Without the option the integer-expansion form stays (its counts in test_mobilenetv3.cpp).
  CHECK(parse_arch("mobilenetv3-small") == mobilenetv3_small());
  CHECK(parse_arch("mobilenetv3-small,classes=10").blocks[1].expansion == 4);
  CHECK(!(t == mobilenetv3_small()));
  CHECK_THROWS_WITH_AS(parse_arch("mobilenetv3-small,width=4.5"), doctest::Contains("not in (0, 4]"),
                       Error);
}

TEST_CASE("mobilenetv3-large: the built network runs, with the fc module between pool and classifier") {
  const ArchSpec a = parse_arch("mobilenetv3-large,in=1x28x28,classes=10,width=0.35");
  auto net = build_network(a);
  Rng rng(5);
  net->initialize(rng);
  int64_t params = 0;
  bool has_fc = false;
  for (const auto& [name, p] : net->named_parameters()) {
    params += p.value().numel();
    has_fc = has_fc || name.rfind("fc.0.", 0) == 0;
  }
  CHECK(params == arch_cost(a).params);
  CHECK(has_fc);
  Tensor x({2, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, rng.uniform(-1.0, 1.0));
  autograd::Variable logits = (*net)(autograd::Variable(x));
  CHECK(logits.shape() == Shape{2, 10});
  // The float graph of the int8 lowering (BN folded) equals the network in eval mode.
  net->set_training(false);
  const Tensor want = (*net)(autograd::Variable(x)).value();
  const Tensor got = deploy::run_float(deploy::lower_network(a, *net), x);
  REQUIRE(got.numel() == want.numel());
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i) worst = std::max(worst, std::abs(got.get(i) - want.get(i)));
  CHECK(worst <= 1e-4);
}

TEST_CASE("mobilenetv3-large: scored in the graph space (fixed networks), refused by the blocks space") {
  search::SpaceOptions o;
  o.input = {1, 28, 28};
  o.num_classes = 10;
  const std::string name = "mobilenetv3-large,in=1x28x28,classes=10,width=0.35";
  const search::Candidate c = search::make_search_space("graph", o)->parse(name);
  CHECK(c.text == canonical_text(name));
  CHECK(search::make_search_space("graph", o)->cost(c).params == 552410);
  o.num_classes = 2;
  CHECK_THROWS_WITH_AS(search::make_search_space("graph", o)->parse(name), doctest::Contains("10 classes"),
                       Error);
}
