#include <doctest/doctest.h>

#include <cmath>

#include "deploy/deploy_helpers.h"
#include "nas/deploy/graph.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {
// IR blocks with and without expansion, residual adds, a DS block and a head conv.
const char* kMixedArch = "blocks:in=3x20x20,classes=5,act=relu6,stem=8k3s2|ir:k3e1s1c8|ir:k5e4s1c8|"
                         "ir:k3e6s2c16|ds:k3s1c24|ir:k3e2s1c24|head=40";

// Basic residual blocks: identity, width-change projection, stride projection (resnet8's kinds).
const char* kTinyResNet =
    "blocks:in=3x12x12,classes=4,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s1c16|rb:k3s2c24|head=0";

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, std::fabs(a.get(i) - b.get(i)));
  return d;
}
}  // namespace

TEST_CASE("lowered graph: layer list of tiny-bench") {
  Graph g = lower_arch(tiny_bench());
  // stem + 4 DS blocks * (dw + pw) + pool + classifier
  REQUIRE(g.layers.size() == 11);
  CHECK(g.layers[0].name == "stem.0");
  CHECK(g.layers[1].kind == LayerKind::Depthwise);
  CHECK(g.layers[1].name == "blocks.0.0");
  CHECK(g.layers[2].name == "blocks.0.3");
  CHECK(g.layers[9].kind == LayerKind::GlobalAvgPool);
  CHECK(g.layers[10].kind == LayerKind::FullyConnected);
  CHECK(g.tensors[static_cast<size_t>(g.output())] == Shape3{10, 1, 1});
  CHECK(g.tensors[static_cast<size_t>(g.layers[4].output)] == Shape3{32, 14, 14});
  CHECK(g.layers[0].weight.empty());
}

TEST_CASE("lowered graph: residual adds read the block input") {
  Graph g = lower_arch(parse_arch(kMixedArch));
  int adds = 0;
  for (const Layer& l : g.layers)
    if (l.kind == LayerKind::Add) {
      ++adds;
      CHECK(l.input < l.input2);
      CHECK(g.tensors[static_cast<size_t>(l.input)] == g.tensors[static_cast<size_t>(l.input2)]);
    }
  CHECK(adds == 3);
}

TEST_CASE("folded float graph equals the module in eval mode") {
  for (const std::string& text :
       {to_text(tiny_bench()), std::string(kMixedArch), std::string(kTinyResNet)}) {
    INFO(text);
    const ArchSpec spec = parse_arch(text);
    auto net = make_model(spec, 3);
    const Tensor x = synthetic_images(spec.input, 4, 11, fashion_normalization(static_cast<int>(spec.input.c)));
    Graph g = lower_network(spec, *net);
    const Tensor ref = (*net)(autograd::Variable(x)).value();
    const Tensor got = run_float(g, x);
    REQUIRE(got.shape() == ref.shape());
    CHECK(max_abs_diff(got, ref) < 1e-4);
    // The check can fail: a BN left unfolded changes the logits.
    for (float& b : g.layers[0].bias) b += 0.5f;
    CHECK(max_abs_diff(run_float(g, x), ref) > 1e-3);
  }
}

TEST_CASE("lowered graph: a basic block's projection reads the block input, its add fuses ReLU") {
  Graph g = lower_arch(parse_arch(kTinyResNet));
  std::vector<std::string> names;
  for (const Layer& l : g.layers) names.push_back(l.name);
  // stem, identity block (2 convs, add), projected blocks (shortcut, 2 convs, add) x 2, pool, fc
  REQUIRE(g.layers.size() == 14);
  const Layer& shortcut = g.layers[4];
  CHECK(shortcut.name == "blocks.1.shortcut");
  CHECK(shortcut.kernel == Size2(1));
  CHECK(shortcut.activation == FusedActivation::None);
  const Layer& conv1 = g.layers[5];
  CHECK(conv1.name == "blocks.1.body.0");
  CHECK(conv1.input == shortcut.input);  // both read the block input
  CHECK(conv1.input == g.layers[3].output);
  const Layer& add = g.layers[7];
  CHECK(add.kind == LayerKind::Add);
  CHECK(add.input == shortcut.output);
  CHECK(add.input2 == g.layers[6].output);
  CHECK(add.activation == FusedActivation::ReLU);
  CHECK(g.layers[3].kind == LayerKind::Add);  // identity block: add(block input, body)
  CHECK(g.layers[3].input == g.layers[0].output);
  CHECK(g.tensors[static_cast<size_t>(g.layers[11].output)] == Shape3{24, 6, 6});
}

TEST_CASE("run_float observes every tensor once, in order") {
  const ArchSpec spec = parse_arch(kMixedArch);
  auto net = make_model(spec, 5);
  Graph g = lower_network(spec, *net);
  std::vector<int> seen;
  run_float(g, synthetic_images(spec.input, 2, 1, fashion_normalization(3)),
            [&](int t, const Tensor& v) {
              seen.push_back(t);
              const Shape3 s = g.tensors[static_cast<size_t>(t)];
              CHECK(v.numel() == 2 * s.c * s.h * s.w);
            });
  REQUIRE(seen.size() == g.tensors.size());
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == static_cast<int>(i));
}

TEST_CASE("ConvNeXt blocks and GELU are refused naming the layer; Hardswish is a layer of its own") {
  const ArchSpec cn = parse_arch("blocks:in=3x16x16,classes=4,act=relu,stem=16k3s1|ds:k3s1c16|cn:k7e4s1c16|head=0");
  try {
    lower_arch(cn);
    FAIL("ConvNeXt accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("blocks.1") != std::string::npos);
    CHECK(msg.find("LayerNorm") != std::string::npos);
  }
  ArchSpec gelu = tiny_bench();
  gelu.activation = Activation::GELU;
  CHECK_THROWS_WITH_AS(lower_arch(gelu), doctest::Contains("stem"), Error);
  CHECK_THROWS_WITH_AS(lower_arch(gelu), doctest::Contains("gelu"), Error);
  ArchSpec hs = tiny_bench();
  hs.activation = Activation::Hardswish;
  const Graph g = lower_arch(hs);
  int hswish = 0;
  for (const Layer& l : g.layers) {
    hswish += l.kind == LayerKind::Hardswish;
    if (l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise) CHECK(l.activation == FusedActivation::None);
  }
  CHECK(hswish == 1 + 2 * 4);  // stem, and dw + pw of the four ds blocks
}

TEST_CASE("a module that does not match the spec is refused") {
  auto net = make_model(tiny_bench(), 1);
  ArchSpec other = tiny_bench();
  other.blocks[0].kernel = 5;
  CHECK_THROWS_WITH_AS(lower_network(other, *net), doctest::Contains("blocks.0.0"), Error);
}

TEST_CASE("lowered graph: dscnn's 10x4 stride-2 stem keeps TensorFlow's 'same' padding") {
  const Graph g = lower_arch(parse_arch("dscnn"));
  const Layer& stem = g.layers[0];
  CHECK(stem.kernel == Size2(10, 4));
  CHECK(stem.stride == Size2(2));
  CHECK(stem.padding == Size2(4, 1));  // 4 rows above (5 below), 1 column left (1 right)
  CHECK(g.tensors[static_cast<size_t>(stem.output)] == Shape3{64, 25, 5});
  // The folded float graph computes what the training network computes, and the check can
  // fail: the padding of the 'same' 10x4 kernel shifted by one row changes the logits. (The stem
  // alone: behind dscnn's random blocks the logits hardly depend on the input.)
  const ArchSpec spec = parse_arch("blocks:in=1x49x10,classes=12,act=relu,stem=8k10x4s2|head=0");
  auto net = make_model(spec, 3);
  const Tensor x = synthetic_images(spec.input, 4, 11, fashion_normalization(1));
  Graph folded = lower_network(spec, *net);
  const Tensor ref = (*net)(autograd::Variable(x)).value();
  CHECK(max_abs_diff(run_float(folded, x), ref) < 1e-4);
  folded.layers[0].padding = Size2(5, 1);
  CHECK(max_abs_diff(run_float(folded, x), ref) > 1e-3);
}
