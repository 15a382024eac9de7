#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "nas/arch/arch_text.h"
#include "nas/arch_random.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

bool has_reason(const std::vector<std::string>& reasons, const std::string& needle) {
  for (const auto& r : reasons)
    if (r.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("arch spec: reference networks are valid members of their spaces") {
  CHECK(arch_problems(tiny_bench()).empty());
  CHECK(blocks_space_problems(tiny_bench()).empty());
  CHECK(mbv2_problems(mbv2_bench()).empty());
  CHECK(mbv2_problems(mobilenetv2_standard()).empty());
  CHECK_NOTHROW(check_arch(expand_mbv2(mobilenetv2_standard())));
  // mbv2 widths such as 24 lie outside the blocks space, though the network is well formed.
  const ArchSpec bench = expand_mbv2(mbv2_bench());
  CHECK(arch_problems(bench).empty());
  CHECK(has_reason(blocks_space_problems(bench),
                   "block 1: output channels 24 not in the blocks space {16,32,64,96,160,320}"));
}

TEST_CASE("arch spec: structural problems come with reasons") {
  ArchSpec s = tiny_bench();
  s.input = {1, 0, 28};
  s.num_classes = 0;
  s.stem = {0, {4, 16}, 0};  // even kernels are fine in the stem, 16 is too large
  s.head_channels = -1;
  s.blocks[0].expansion = 3;  // DS block
  s.blocks[1].kernel = 9;     // odd, allowed structurally, not in the blocks space
  s.blocks[2].stride = 5;
  const auto p = arch_problems(s);
  CHECK(has_reason(p, "input 1x0x28: channels must be in 1..65536 and height/width in 1..16384"));
  CHECK(has_reason(p, "classes 0 not in 1..1000000"));
  CHECK(has_reason(p, "stem: output channels 0 not in 1..65536"));
  CHECK(has_reason(p, "stem: kernel 4x16 not in 1..15"));
  CHECK(has_reason(p, "stem: stride 0 not in 1..4"));
  CHECK(has_reason(p, "block 0: depthwise-separable block has expansion 3, must be 1"));
  CHECK(has_reason(p, "block 2: stride 5 not in 1..4"));
  CHECK(has_reason(p, "head: channels -1 not in 0..65536"));
  CHECK(!has_reason(p, "block 1"));
  CHECK(has_reason(blocks_space_problems(s), "block 1: kernel 9 not in the blocks space {3,5,7}"));
  CHECK_THROWS_AS(check_arch(s), Error);
}

TEST_CASE("arch spec: a stride-2 layer on a 1x1 map is rejected") {
  ArchSpec s = parse_blocks(
      "blocks:in=3x8x8,classes=2,act=relu,stem=16k3s2|ds:k3s2c16|ds:k3s2c16|"
      "ds:k3s1c32|ds:k3s2c32|head=0");
  // 8 -> 4 (stem) -> 2 -> 1 -> 1 -> stride 2 on 1x1 at block 3.
  const auto p = arch_problems(s);
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "block 3: stride 2 on a 1x1 feature map (spatial size would drop below 1)");
  s.blocks[3].stride = 1;
  CHECK(arch_problems(s).empty());
}

TEST_CASE("arch spec: blocks space membership reasons") {
  ArchSpec s = tiny_bench();
  s.blocks.push_back(plain_block(BlockKind::InvertedResidual, 3, 3, 1, 64));
  s.blocks.push_back(plain_block(BlockKind::ConvNeXt, 5, 4, 1, 48));
  const auto p = blocks_space_problems(s);
  CHECK(p.size() == 2);
  CHECK(has_reason(p, "block 4: expansion 3 not in the blocks space {2,4,6}"));
  CHECK(has_reason(p, "block 5: output channels 48 not in the blocks space {16,32,64,96,160,320}"));
  CHECK(arch_problems(s).empty());
}

TEST_CASE("arch spec: mbv2 space reasons") {
  Mbv2Spec m = mbv2_bench();
  m.stages[0].depth = 5;
  m.stages[2].expansion = 7;
  m.stages[6].channels = 100;
  m.stem.kernel = 16;
  const auto p = mbv2_problems(m);
  CHECK(has_reason(p, "stage 1: depth 5 not in 1..4"));
  CHECK(has_reason(p, "stage 3: expansion 7 not in 1..6"));
  CHECK(has_reason(p,
                   "stage 7: channels 100 not in the mbv2 space "
                   "{8,16,24,32,40,48,64,80,96,112,128,160,192,256,320,384}"));
  CHECK(has_reason(p, "stem: kernel 16 not in 1..15"));
  CHECK_THROWS_AS(check_mbv2(m), Error);
  CHECK_THROWS_AS(expand_mbv2(m), Error);
  // 16x16 input: the stem and stages 2..4 halve it to 1x1, then stage 6 strides the 1x1 map.
  Mbv2Spec small = mbv2_bench();
  small.input = {3, 16, 16};
  CHECK(has_reason(mbv2_problems(small), "stride 2 on a 1x1 feature map"));
}

TEST_CASE("arch spec: mbv2 key encodes the documented characters") {
  CHECK(mbv2_key(mbv2_bench()) == "16126236346636836b16e");
  CHECK(mbv2_key(mobilenetv2_standard()) == "11126236346636836b16e");
  CHECK(mbv2_from_key("16126236346636836b16e", Mbv2Spec{}) == mbv2_bench());
  Mbv2Spec off = mbv2_bench();
  off.stages[3].channels = 100;
  CHECK_THROWS_WITH_AS(
      mbv2_key(off),
      "mbv2_key: stage 4 (depth 4, expansion 6, channels 100) is outside the mbv2 space", Error);
}

TEST_CASE("arch spec: mbv2 key round trip and uniqueness over random samples") {
  Rng rng(31);
  std::map<std::string, Mbv2Spec> seen;
  std::set<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    const Mbv2Spec m = test::random_mbv2_spec(rng);
    const std::string key = mbv2_key(m);
    CHECK(key.size() == kMbv2KeyLength);
    CHECK(mbv2_key_problems(key).empty());
    CHECK(mbv2_from_key(key, Mbv2Spec{}) == m);
    const auto [it, inserted] = seen.emplace(key, m);
    if (!inserted) CHECK(it->second == m);  // equal keys only for equal networks
    texts.insert(to_text(m));
  }
  CHECK(texts.size() == seen.size());  // as many distinct keys as distinct networks
  // Every single-stage gene has its own three characters.
  std::set<std::string> codes;
  Mbv2Spec m = mbv2_bench();
  for (int d = 1; d <= kMbv2MaxDepth; ++d)
    for (int e = 1; e <= kMbv2MaxExpansion; ++e)
      for (int c : kMbv2Channels) {
        m.stages[4] = {d, e, c};
        codes.insert(mbv2_key(m).substr(12, 3));
      }
  CHECK(codes.size() == 4 * 6 * 16);
}

TEST_CASE("arch spec: invalid mbv2 keys are rejected with reasons") {
  CHECK(mbv2_key_problems("1612") ==
        std::vector<std::string>{"mbv2 key '1612' has length 4, expected 21"});
  const auto p = mbv2_key_problems("16126236346636836b56g");
  REQUIRE(p.size() == 2);
  CHECK(p[0] == "mbv2 key '16126236346636836b56g' position 18 (stage 7 depth): '5' not in 1..4");
  CHECK(p[1] ==
        "mbv2 key '16126236346636836b56g' position 20 (stage 7 channels): 'g' is not a lower-case "
        "hex digit");
  CHECK(has_reason(mbv2_key_problems("10126236346636836b16e"),
                   "position 1 (stage 1 expansion): '0' not in 1..6"));
  CHECK(
      has_reason(mbv2_key_problems("16126236346636836B16e"), "'B' is not a lower-case hex digit"));
  CHECK_THROWS_WITH_AS(mbv2_from_key("1612", Mbv2Spec{}),
                       "mbv2 key '1612' has length 4, expected 21", Error);
}
