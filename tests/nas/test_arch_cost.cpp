#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch_random.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

const LayerInfo& layer(const std::vector<LayerInfo>& layers, const std::string& name) {
  for (const LayerInfo& l : layers)
    if (l.name == name) return l;
  throw Error("no layer " + name);
}

// Independent closed-form cost of an mbv2 network (test oracle, written per stage):
// stem conv+BN; per block [expand 1x1 + BN], dw 3x3 + BN, project 1x1 + BN; [head + BN]; linear.
ArchCost mbv2_oracle(const Mbv2Spec& m) {
  ArchCost c;
  const int64_t k = m.stem.kernel.h, s0 = m.stem.stride.h;
  int64_t h = (m.input.h - 1) / s0 + 1, w = (m.input.w - 1) / s0 + 1, ch = m.stem.out_channels;
  c.params += m.input.c * ch * k * k + 2 * ch;
  c.macs += m.input.c * ch * k * k * h * w;
  for (int s = 0; s < kMbv2Stages; ++s) {
    for (int d = 0; d < m.stages[s].depth; ++d) {
      const int64_t t = m.stages[s].expansion, out = m.stages[s].channels, hid = ch * t;
      const int64_t stride = d == 0 ? kMbv2Strides[s] : 1;
      if (t != 1) {
        c.params += ch * hid + 2 * hid;
        c.macs += ch * hid * h * w;
      }
      h = (h - 1) / stride + 1;
      w = (w - 1) / stride + 1;
      c.params += 9 * hid + 2 * hid + hid * out + 2 * out;
      c.macs += (9 * hid + hid * out) * h * w;
      ch = out;
    }
  }
  if (m.head_channels > 0) {
    c.params += ch * m.head_channels + 2 * m.head_channels;
    c.macs += ch * m.head_channels * h * w;
    ch = m.head_channels;
  }
  c.params += ch * m.num_classes + m.num_classes;
  c.macs += ch * m.num_classes;
  return c;
}

}  // namespace

TEST_CASE("arch cost: G11 MobileNetV2 params and MACs (docs/metrics.md section 6)") {
  Mbv2Spec m = mobilenetv2_standard();
  ArchCost c = arch_cost(expand_mbv2(m));
  CHECK(c.params == 3504872);
  CHECK(c.macs == 300774272);
  m.num_classes = 2;
  c = arch_cost(expand_mbv2(m));
  CHECK(c.params == 2226434);
  CHECK(c.macs == 299496832);
}

TEST_CASE("arch cost: G12 conv 3->16 3x3 pad 1 no bias on 32x32") {
  ArchSpec s;
  s.input = {3, 32, 32};
  s.stem = {16, 3, 1};
  const auto layers = arch_layers(s);
  const LayerInfo& conv = layer(layers, "stem.conv");
  CHECK(conv.kind == LayerKind::Conv);
  CHECK(conv.type == "conv3x3");
  CHECK(conv.output == Shape3{16, 32, 32});
  CHECK(conv.params == 432);
  CHECK(conv.macs == 442368);
  CHECK(layer(layers, "stem.bn").params == 32);
  CHECK(layer(layers, "stem.bn").macs == 0);
}

TEST_CASE("arch cost: tiny-bench hand-computed totals") {
  // 1x28x28 -> stem 3x3 1->8 s1 (28x28): conv 8*1*9 = 72 params, 8*784*9 = 56,448 MACs; BN 16.
  // ds 8->16 s1 (28x28): dw 72 / 8*784*9 = 56,448; BN 16; pw 128 / 16*784*8 = 100,352; BN 32.
  // ds 16->32 s2 (14x14): dw 144 / 16*196*9 = 28,224; BN 32; pw 512 / 32*196*16 = 100,352; BN 64.
  // ds 32->32 s1 (14x14): dw 288 / 32*196*9 = 56,448; BN 64; pw 1024 / 32*196*32 = 200,704; BN 64.
  // ds 32->64 s2 (7x7): dw 288 / 32*49*9 = 14,112; BN 64; pw 2048 / 64*49*32 = 100,352; BN 128.
  // pool -> 64; linear 64->10: 640 + 10 bias = 650 params, 640 MACs.
  // params = 88 + 248 + 752 + 1440 + 2528 + 650 = 5,706
  // MACs = 56448 + (56448 + 100352) + (28224 + 100352) + (56448 + 200704) + (14112 + 100352) + 640
  //      = 714,080
  const ArchCost c = arch_cost(tiny_bench());
  CHECK(c.params == 5706);
  CHECK(c.macs == 714080);
  const auto layers = arch_layers(tiny_bench());
  CHECK(layer(layers, "b3.pw").output == Shape3{64, 7, 7});
  CHECK(layer(layers, "b1.dw").type == "dwconv3x3/s2");
  CHECK(layer(layers, "b1.dw").kind == LayerKind::Depthwise);
  CHECK(layer(layers, "pool").output == Shape3{64, 1, 1});
  CHECK(layer(layers, "classifier").params == 650);
  CHECK(layer(layers, "classifier").output == Shape3{10, 1, 1});
  for (const LayerInfo& l : layers) CHECK(l.kind != LayerKind::Add);  // DS blocks: no residual
}

TEST_CASE("arch cost: mbv2 networks agree with a closed-form oracle") {
  const ArchCost bench = arch_cost(expand_mbv2(mbv2_bench()));
  const ArchCost bench_oracle = mbv2_oracle(mbv2_bench());
  CHECK(bench.params == bench_oracle.params);
  CHECK(bench.macs == bench_oracle.macs);
  CHECK(bench.params == 1815346);  // regression values, equal to the oracle above
  CHECK(bench.macs == 57553408);
  Rng rng(21);
  for (int i = 0; i < 200; ++i) {
    Mbv2Spec m = test::random_mbv2_spec(rng);
    m.head_channels = test::pick(rng, {0, 64, 1280});
    const ArchCost c = arch_cost(expand_mbv2(m));
    const ArchCost o = mbv2_oracle(m);
    CHECK(c.params == o.params);
    CHECK(c.macs == o.macs);
  }
}

TEST_CASE("arch cost: inverted residual and ConvNeXt layer structure") {
  const ArchSpec s = parse_blocks(
      "blocks:in=3x32x32,classes=5,act=relu,stem=16k3s1|ir:k5e1s1c16|cn:k7e4s1c16|cn:k3e2s2c32|"
      "ir:k3e6s1c32|head=64");
  const auto layers = arch_layers(s);
  // ir t=1: no expand conv, residual (16 -> 16, stride 1).
  CHECK_THROWS_AS(layer(layers, "b0.expand"), Error);
  CHECK(layer(layers, "b0.dw").params == 16 * 25);
  CHECK(layer(layers, "b0.add").kind == LayerKind::Add);
  // ConvNeXt 16 -> 16: dw 7x7 with bias, LN (2*16), 1x1 16->64 + bias, GELU, 1x1 64->16 + bias.
  CHECK(layer(layers, "b1.dw").params == 16 * 49 + 16);
  CHECK(layer(layers, "b1.dw").macs == 16 * 49 * 32 * 32);
  CHECK(layer(layers, "b1.ln").params == 32);
  CHECK(layer(layers, "b1.expand").params == 16 * 64 + 64);
  CHECK(layer(layers, "b1.gelu").type == "gelu");
  CHECK(layer(layers, "b1.project").params == 64 * 16 + 16);
  CHECK(layer(layers, "b1.project").macs == 64 * 16 * 32 * 32);
  CHECK(layer(layers, "b1.add").output == Shape3{16, 32, 32});
  // ConvNeXt with stride 2 and a width change: no residual.
  CHECK_THROWS_AS(layer(layers, "b2.add"), Error);
  CHECK(layer(layers, "b2.project").output == Shape3{32, 16, 16});
  // ir t=6 32 -> 32: expand 32->192, dw, project; residual.
  CHECK(layer(layers, "b3.expand").params == 32 * 192);
  CHECK(layer(layers, "b3.expand.bn").params == 384);
  CHECK(layer(layers, "b3.project").macs == 192 * 32 * 16 * 16);
  CHECK(layer(layers, "b3.add").kind == LayerKind::Add);
  CHECK(layer(layers, "head.conv").params == 32 * 64);
  CHECK(layer(layers, "head.act").type == "relu");
  CHECK(layer(layers, "classifier").params == 64 * 5 + 5);
  CHECK_THROWS_WITH_AS(
      arch_cost(parse_blocks("blocks:in=3x32x32,classes=5,act=relu,stem=16k2x16s1|head=0")),
      "invalid architecture: stem: kernel 2x16 not in 1..15", Error);
}

TEST_CASE("arch cost: layer table is aligned and totals match") {
  const std::string table = format_layer_table(tiny_bench());
  std::istringstream in(table);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const size_t n_layers = arch_layers(tiny_bench()).size();
  REQUIRE(lines.size() == n_layers + 4);  // header, rule, layers, rule, total
  CHECK(lines[0] == "layer       type          output    params    MACs");
  CHECK(lines[1] == std::string(lines[0].size(), '-'));
  CHECK(lines[2] == "input       input         1x28x28        0       0");
  CHECK(lines[3] == "stem.conv   conv3x3       8x28x28       72   56448");
  CHECK(lines[n_layers + 3] == "total                                 5706  714080");
  for (size_t i = 2; i < n_layers + 2; ++i) CHECK(lines[i].size() == lines[0].size());
}
