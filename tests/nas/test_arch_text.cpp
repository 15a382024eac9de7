#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "nas/arch/arch_text.h"
#include "nas/arch_random.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* kExample =
    "blocks:in=3x96x96,classes=2,act=relu6,stem=16k3s2|ir:k3e6s1c16|ds:k5s2c32|cn:k7e4s1c64|head=0";

}  // namespace

TEST_CASE("arch text: the documented blocks example parses to the expected spec and back") {
  const ArchSpec s = parse_blocks(kExample);
  CHECK(s.input == Shape3{3, 96, 96});
  CHECK(s.num_classes == 2);
  CHECK(s.activation == Activation::ReLU6);
  CHECK(s.stem == StemSpec{16, 3, 2});
  REQUIRE(s.blocks.size() == 3);
  CHECK(s.blocks[0] == plain_block(BlockKind::InvertedResidual, 3, 6, 1, 16));
  CHECK(s.blocks[1] == plain_block(BlockKind::DepthwiseSeparable, 5, 1, 2, 32));
  CHECK(s.blocks[2] == plain_block(BlockKind::ConvNeXt, 7, 4, 1, 64));
  CHECK(s.head_channels == 0);
  CHECK(to_text(s) == kExample);
  const ArchSpec empty = parse_blocks("blocks:in=1x28x28,classes=10,act=hswish,stem=8k1s1|head=32");
  CHECK(empty.blocks.empty());
  CHECK(empty.activation == Activation::Hardswish);
  CHECK(empty.head_channels == 32);
}

TEST_CASE("arch text: blocks round trip exactly over random specs") {
  Rng rng(11);
  for (int i = 0; i < 500; ++i) {
    const ArchSpec spec = test::random_blocks_spec(rng);
    const std::string text = to_text(spec);
    CHECK(parse_blocks(text) == spec);
    CHECK(to_text(parse_blocks(text)) == text);
    CHECK(canonical_text(text) == text);
  }
}

TEST_CASE("arch text: mbv2 round trip exactly over random specs") {
  Rng rng(12);
  for (int i = 0; i < 500; ++i) {
    Mbv2Spec spec = test::random_mbv2_spec(rng);
    spec.activation = test::random_activation(rng);
    spec.head_channels = test::pick(rng, {0, 1280});
    const std::string text = to_text(spec);
    CHECK(parse_mbv2(text) == spec);
    CHECK(to_text(parse_mbv2(text)) == text);
  }
  CHECK(to_text(mbv2_bench()) ==
        "mbv2:in=3x96x96,classes=2,act=relu6,stem=16k3s2|n1e6c16|n2e6c24|n3e6c32|n4e6c64|"
        "n3e6c96|n3e6c160|n1e6c320|head=0");
}

TEST_CASE("arch text: reference names resolve, standard MobileNetV2 is expressible") {
  CHECK(reference_text("tiny-bench") ==
        "blocks:in=1x28x28,classes=10,act=relu,stem=8k3s1|ds:k3s1c16|ds:k3s2c32|ds:k3s1c32|"
        "ds:k3s2c64|head=0");
  CHECK(parse_arch("tiny-bench") == tiny_bench());
  CHECK(parse_arch("mbv2-bench") == expand_mbv2(mbv2_bench()));
  CHECK(canonical_text("mbv2-bench") == to_text(mbv2_bench()));
  const std::string standard =
      "mbv2:in=3x224x224,classes=1000,act=relu6,stem=32k3s2|n1e1c16|n2e6c24|n3e6c32|n4e6c64|"
      "n3e6c96|n3e6c160|n1e6c320|head=1280";
  CHECK(reference_text("mobilenetv2") == standard);
  const ArchSpec expanded = parse_arch(standard);
  CHECK(expanded.blocks.size() == 17);
  CHECK(expanded.blocks[0] == plain_block(BlockKind::InvertedResidual, 3, 1, 1, 16));
  CHECK(expanded.blocks[1] == plain_block(BlockKind::InvertedResidual, 3, 6, 2, 24));
  CHECK(expanded.blocks[2] == plain_block(BlockKind::InvertedResidual, 3, 6, 1, 24));
  CHECK(expanded.blocks[16] == plain_block(BlockKind::InvertedResidual, 3, 6, 1, 320));
  CHECK(
      contains(error_of([] { parse_arch("resnet18"); }),
               "unknown architecture name 'resnet18' (known: mbv2-bench, mobilenetv2, tiny-bench"));
  CHECK(contains(error_of([] { parse_arch(""); }), "unknown architecture name ''"));
}

TEST_CASE("arch text: errors name the token and its position") {
  CHECK(
      error_of([] { parse_blocks("blocks:in=3x96x96,classes=2,act=relu7,stem=16k3s2|head=0"); }) ==
      "architecture text: unknown activation 'relu7' (known: relu, relu6, gelu, hswish) "
      "at position 32 in \"blocks:in=3x96x96,classes=2,act=relu7,stem=16k3s2|head=0\"");
  const std::string base = "blocks:in=3x96x96,classes=2,act=relu6,stem=16k3s2|";  // 50 chars
  CHECK(contains(error_of([&] { parse_blocks(base + "xx:k3s1c16|head=0"); }),
                 "unknown block kind 'xx' (known: ir, ds, cn, rb, cv) at position 50"));
  CHECK(contains(error_of([&] { parse_blocks(base + "IR:k3e6s1c16|head=0"); }),
                 "unknown block kind 'IR' (known: ir, ds, cn, rb, cv) at position 50"));
  CHECK(contains(error_of([&] { parse_blocks(base + "ir:k3s1c16|head=0"); }),
                 "expected 'e', found 's1c16' at position 55"));
  CHECK(contains(error_of([&] { parse_blocks(base + "ir:k03e6s1c16|head=0"); }),
                 "kernel '03' has a leading zero at position 54"));
  CHECK(contains(error_of([&] { parse_blocks(base + "ds:k3s1c1234567890|head=0"); }),
                 "channels '1234567890' is too large at position 58"));
  CHECK(contains(error_of([&] { parse_blocks(base + "ds:k3s1c|head=0"); }),
                 "expected channels (a number), found '|head=0' at position 58"));
  CHECK(contains(error_of([&] { parse_blocks(base + "head=0x"); }),
                 "unexpected trailing text 'x' at position 56"));
  CHECK(contains(error_of([&] { parse_blocks(base + "ds:k3s1c16"); }),
                 "expected '|', found end of text at position 60"));
  CHECK(contains(error_of([] { parse_blocks("blocks: in=3x96x96"); }),
                 "expected 'in=', found ' in=3x96x96' at position 7"));
  CHECK(contains(error_of([] { parse_arch("foo:in=3x96x96"); }),
                 "unknown search space 'foo' (known: blocks, mbv2) at position 0"));
  const std::string mbv2 = "mbv2:in=3x96x96,classes=2,act=relu6,stem=16k3s2";  // 47 chars
  CHECK(contains(error_of([&] {
                   parse_mbv2(mbv2 + "|n1e6c16|n2e6c24|n3e6c32|n4e6c64|n3e6c96|n3e6c160|head=0");
                 }),
                 "expected 7 stages, found fewer at position 97"));
  CHECK(contains(
      error_of([&] {
        parse_mbv2(mbv2 +
                   "|n1e6c16|n2e6c24|n3e6c32|n4e6c64|n3e6c96|n3e6c160|n1e6c320|n1e6c320|head=0");
      }),
      "expected 'head=' after 7 stages, found 'n1e6c320' at position 106"));
}

TEST_CASE("arch text: parse_arch rejects structurally invalid descriptions with reasons") {
  CHECK(contains(
      error_of([] { parse_arch("blocks:in=3x96x96,classes=2,act=relu,stem=16k16s2|head=0"); }),
      "invalid architecture: stem: kernel 16 not in 1..15"));
  CHECK(contains(
      error_of([] { parse_arch("blocks:in=3x96x96,classes=2,act=relu,stem=16k3s2|ds:k4s1c16|head=0"); }),
      "invalid architecture: block 0: kernel 4 must be odd"));
  CHECK(contains(error_of([] {
                   parse_arch(
                       "mbv2:in=3x96x96,classes=2,act=relu6,stem=16k3s2|n1e6c16|n2e6c24|"
                       "n3e6c33|n4e6c64|n3e6c96|n3e6c160|n5e6c320|head=0");
                 }),
                 "stage 3: channels 33 not in the mbv2 space"));
  // Syntax-only parsers accept what validity rejects, so invalid specs still round-trip.
  const std::string odd = "blocks:in=3x96x96,classes=0,act=gelu,stem=0k2s9|ds:k4s3c7|head=0";
  CHECK(to_text(parse_blocks(odd)) == odd);
}

TEST_CASE("activation and stem flags are read by the architecture text's own readers") {
  CHECK(parse_activation("hswish") == Activation::Hardswish);
  CHECK(parse_stem("24k5s1") == StemSpec{24, 5, 1});
  CHECK_THROWS_WITH_AS(parse_activation("relu7", "--activation"),
                       doctest::Contains("--activation: unknown activation 'relu7'"), Error);
  CHECK_THROWS_WITH_AS(parse_stem("16x3s2", "--stem"), doctest::Contains("--stem: expected 'k'"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_stem("16k3s2y"), doctest::Contains("unexpected trailing text"), Error);
  // Non-square kernels and strides: height x width; a square one has the one spelling "3".
  CHECK(parse_stem("64k10x4s2") == StemSpec{64, {10, 4}, 2});
  CHECK(parse_stem("8k3s2x1") == StemSpec{8, 3, {2, 1}});
  CHECK_THROWS_WITH_AS(parse_stem("16k3x3s2"),
                       doctest::Contains("stem kernel 3x3 is square: write 3 at position 3"), Error);
  CHECK_THROWS_WITH_AS(parse_stem("16k3s2x"),
                       doctest::Contains("expected stem stride width (a number)"), Error);
}
