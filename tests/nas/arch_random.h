// Random architecture descriptions for the nas/arch tests (fixed seeds, valid by construction).
#pragma once
#include <array>

#include "core/rng.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas::test {

inline int pick(Rng& rng, std::initializer_list<int> values) {
  const auto i = rng.uniform_int(0, static_cast<int64_t>(values.size()) - 1);
  return *(values.begin() + i);
}

inline Activation random_activation(Rng& rng) {
  return static_cast<Activation>(rng.uniform_int(0, 3));
}

// A structurally valid blocks-space spec (0..12 blocks, any kinds), random header.
inline ArchSpec random_blocks_spec(Rng& rng) {
  while (true) {
    ArchSpec s;
    s.input = {pick(rng, {1, 3}), rng.uniform_int(8, 160), rng.uniform_int(8, 160)};
    s.num_classes = static_cast<int>(rng.uniform_int(1, 1000));
    s.activation = random_activation(rng);
    s.stem = {static_cast<int>(rng.uniform_int(1, 64)), pick(rng, {1, 3, 5, 7}), pick(rng, {1, 2})};
    const int n = static_cast<int>(rng.uniform_int(0, 12));
    for (int i = 0; i < n; ++i) {
      BlockSpec b;
      b.kind = static_cast<BlockKind>(rng.uniform_int(0, 2));
      b.kernel = pick(rng, {3, 5, 7});
      b.expansion = b.kind == BlockKind::DepthwiseSeparable ? 1 : pick(rng, {2, 4, 6});
      b.stride = pick(rng, {1, 1, 2});
      b.out_channels = pick(rng, {16, 32, 64, 96, 160, 320});
      s.blocks.push_back(b);
    }
    s.head_channels = pick(rng, {0, 0, 256, 1280});
    if (blocks_space_problems(s).empty()) return s;
  }
}

// A random point of the mbv2 space with a fixed base (3x96x96, 2 classes, stem 16 s2).
inline Mbv2Spec random_mbv2_spec(Rng& rng) {
  Mbv2Spec m;
  for (auto& stage : m.stages) {
    stage.depth = static_cast<int>(rng.uniform_int(1, kMbv2MaxDepth));
    stage.expansion = static_cast<int>(rng.uniform_int(1, kMbv2MaxExpansion));
    stage.channels = kMbv2Channels[rng.uniform_int(0, kMbv2Channels.size() - 1)];
  }
  return m;
}

}  // namespace piconas::nas::test
