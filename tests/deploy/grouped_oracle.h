// The oracle of the grouped int8 conv (ops/int8/conv2d_grouped_s8.h) at model level: the graph
// with each grouped conv turned into the dense conv whose weights are zero outside each output
// channel's group (what the exporter ran before the grouped kernel). Quantized with the same
// ranges, both give the same int8 weights per channel (zeros do not change a channel's max), so
// their int8 outputs must be identical byte for byte.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "nas/deploy/graph.h"

namespace piconas::nas::deploy::testing {

inline Graph dense_of_grouped(Graph g) {
  for (Layer& l : g.layers) {
    if (l.kind != LayerKind::Conv || l.groups == 1) continue;
    const int64_t in_c = g.tensors[static_cast<size_t>(l.input)].c;
    const int64_t out_c = g.tensors[static_cast<size_t>(l.output)].c;
    const int64_t kk = int64_t{l.kernel.h} * l.kernel.w;
    const int64_t group_in = in_c / l.groups, group_out = out_c / l.groups;
    std::vector<float> dense(static_cast<size_t>(out_c * in_c * kk), 0.0f);
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t i = 0; i < group_in; ++i)
        std::copy_n(l.weight.begin() + (o * group_in + i) * kk, kk,
                    dense.begin() + (o * in_c + o / group_out * group_in + i) * kk);
    l.weight = std::move(dense);
    l.groups = 1;
  }
  return g;
}

}  // namespace piconas::nas::deploy::testing
