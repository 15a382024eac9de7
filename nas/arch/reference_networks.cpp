// The named reference networks declared in arch_spec.h: the benchmarks, the MLPerf Tiny networks
// and MobileNetV2/V3 (docs/reference_networks.md gives their params, MACs and sources).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "core/error.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas {

Mbv2Spec mbv2_bench() {
  Mbv2Spec m;
  m.input = {3, 96, 96};
  m.num_classes = 2;
  m.activation = Activation::ReLU6;
  m.stem = {16, 3, 2};
  const std::array<int, kMbv2Stages> depth{1, 2, 3, 4, 3, 3, 1};
  const std::array<int, kMbv2Stages> channels{16, 24, 32, 64, 96, 160, 320};
  for (int s = 0; s < kMbv2Stages; ++s) m.stages[s] = {depth[s], 6, channels[s]};
  m.head_channels = 0;
  return m;
}

Mbv2Spec mobilenetv2_standard() {
  Mbv2Spec m = mbv2_bench();
  m.input = {3, 224, 224};
  m.num_classes = 1000;
  m.stem = {32, 3, 2};
  m.stages[0].expansion = 1;
  m.head_channels = 1280;
  return m;
}

ArchSpec tiny_bench() {
  ArchSpec a;
  a.input = {1, 28, 28};
  a.num_classes = 10;
  a.activation = Activation::ReLU;
  a.stem = {8, 3, 1};
  const BlockKind ds = BlockKind::DepthwiseSeparable;
  for (const auto& [stride, channels] : {std::pair{1, 16}, {2, 32}, {1, 32}, {2, 64}})
    a.blocks.push_back(plain_block(ds, 3, 1, stride, channels));
  a.head_channels = 0;
  return a;
}

ArchSpec resnet8() {
  ArchSpec a;
  a.input = {3, 32, 32};
  a.num_classes = 10;
  a.activation = Activation::ReLU;
  a.stem = {16, 3, 1};
  const BlockKind rb = BlockKind::Basic;
  a.blocks = {plain_block(rb, 3, 1, 1, 16), plain_block(rb, 3, 1, 2, 32),
              plain_block(rb, 3, 1, 2, 64)};
  a.head_channels = 0;
  return a;
}

ArchSpec dscnn() {
  ArchSpec a;
  a.input = {1, 49, 10};
  a.num_classes = 12;
  a.activation = Activation::ReLU;
  a.stem = {64, {10, 4}, 2};
  const BlockKind ds = BlockKind::DepthwiseSeparable;
  a.blocks.assign(4, plain_block(ds, 3, 1, 1, 64));
  a.head_channels = 0;
  return a;
}

ArchSpec mobilenetv1_025() {
  ArchSpec a;
  a.input = {3, 96, 96};
  a.num_classes = 2;
  a.activation = Activation::ReLU;
  a.stem = {8, 3, 2};
  const BlockKind ds = BlockKind::DepthwiseSeparable;
  // MobileNetV1's (channels, stride) pattern at width 1.0, scaled by 0.25.
  const std::array<std::pair<int, int>, 13> pattern{{{64, 1},
                                                     {128, 2},
                                                     {128, 1},
                                                     {256, 2},
                                                     {256, 1},
                                                     {512, 2},
                                                     {512, 1},
                                                     {512, 1},
                                                     {512, 1},
                                                     {512, 1},
                                                     {512, 1},
                                                     {1024, 2},
                                                     {1024, 1}}};
  for (const auto& [channels, stride] : pattern)
    a.blocks.push_back(plain_block(ds, 3, 1, stride, channels / 4));
  a.head_channels = 0;
  return a;
}

ArchSpec mobilenetv3_small() {
  ArchSpec a;
  a.input = {3, 96, 96};
  a.num_classes = 2;
  a.activation = Activation::Hardswish;
  a.stem = {16, 3, 2};
  const BlockKind ir = BlockKind::InvertedResidual;
  const std::optional<Activation> re = Activation::ReLU, hs;  // hs: the network's hswish
  a.blocks = {{ir, 3, 1, 2, 16, true, re},  {ir, 3, 4, 2, 24, false, re},
              {ir, 3, 4, 1, 24, false, re}, {ir, 5, 4, 2, 40, true, hs},
              {ir, 5, 6, 1, 40, true, hs},  {ir, 5, 6, 1, 40, true, hs},
              {ir, 5, 3, 1, 48, true, hs},  {ir, 5, 3, 1, 48, true, hs},
              {ir, 5, 6, 2, 96, true, hs},  {ir, 5, 6, 1, 96, true, hs},
              {ir, 5, 6, 1, 96, true, hs}};
  a.head_channels = 576;
  return a;
}

namespace {
// One bneck row of Howard et al. 2019, Tables 1 and 2 (torchvision's mobilenetv3.py): kernel,
// exp size (hidden width), #out, SE, NL (true: RE), s.
struct Bneck {
  int kernel, hidden, out;
  bool se, relu;
  int stride;
};

// torchvision's _mobilenet_v3 at width multiplier `width`: every stem, hidden and output width w
// becomes make_divisible(w * width, 8), the head 6 x the last output, fc make_divisible(last *
// width, 8). A hidden width that is an integer multiple of the block input is an expansion (1: no
// expand conv, as torchvision skips it when exp == in), otherwise `h`.
ArchSpec mobilenetv3_scaled(const char* name, double width, std::span<const Bneck> table, int last) {
  PICONAS_CHECK(width > 0 && width <= 4, name << ": width " << width << " not in (0, 4]");
  auto scaled = [&](int channels) { return static_cast<int>(make_divisible8(channels * width)); };
  ArchSpec a;
  a.input = {3, 224, 224};
  a.num_classes = 1000;
  a.activation = Activation::Hardswish;
  a.stem = {scaled(16), 3, 2};
  int in = a.stem.out_channels;
  for (const Bneck& t : table) {
    BlockSpec b = plain_block(BlockKind::InvertedResidual, t.kernel, 1, t.stride, scaled(t.out));
    b.se = t.se;
    if (t.relu) b.activation = Activation::ReLU;
    const int hidden = scaled(t.hidden);
    if (hidden % in == 0 && hidden / in <= 16)
      b.expansion = hidden / in;
    else
      b.hidden = hidden;
    a.blocks.push_back(b);
    in = b.out_channels;
  }
  a.head_channels = 6 * in;
  a.classifier_hidden = scaled(last);
  return a;
}
}  // namespace

ArchSpec mobilenetv3_small(double width) {
  // Table 2 (torchvision's mobilenet_v3_small).
  static constexpr std::array<Bneck, 11> table{{{3, 16, 16, true, true, 2},
                                                {3, 72, 24, false, true, 2},
                                                {3, 88, 24, false, true, 1},
                                                {5, 96, 40, true, false, 2},
                                                {5, 240, 40, true, false, 1},
                                                {5, 240, 40, true, false, 1},
                                                {5, 120, 48, true, false, 1},
                                                {5, 144, 48, true, false, 1},
                                                {5, 288, 96, true, false, 2},
                                                {5, 576, 96, true, false, 1},
                                                {5, 576, 96, true, false, 1}}};
  ArchSpec a = mobilenetv3_scaled("mobilenetv3-small", width, table, 1024);
  a.input = {3, 96, 96};  // the input and classes of mobilenetv3_small() (Visual Wake Words)
  a.num_classes = 2;
  return a;
}

ArchSpec mobilenetv3_large(double width) {
  // Table 1 (torchvision's mobilenet_v3_large).
  static constexpr std::array<Bneck, 15> table{{{3, 16, 16, false, true, 1},
                                                {3, 64, 24, false, true, 2},
                                                {3, 72, 24, false, true, 1},
                                                {5, 72, 40, true, true, 2},
                                                {5, 120, 40, true, true, 1},
                                                {5, 120, 40, true, true, 1},
                                                {3, 240, 80, false, false, 2},
                                                {3, 200, 80, false, false, 1},
                                                {3, 184, 80, false, false, 1},
                                                {3, 184, 80, false, false, 1},
                                                {3, 480, 112, true, false, 1},
                                                {3, 672, 112, true, false, 1},
                                                {5, 672, 160, true, false, 2},
                                                {5, 960, 160, true, false, 1},
                                                {5, 960, 160, true, false, 1}}};
  return mobilenetv3_scaled("mobilenetv3-large", width, table, 1280);
}

}  // namespace piconas::nas
