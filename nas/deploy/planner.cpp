#include "nas/deploy/planner.h"

#include <algorithm>
#include <numeric>

#include "nas/deploy/quantize.h"
#include "ops/int8/conv2d_s8.h"

namespace piconas::nas::deploy {

const char* plan_strategy_name(PlanStrategy strategy) {
  switch (strategy) {
    case PlanStrategy::Best: return "best";
    case PlanStrategy::GreedyBySize: return "greedy-by-size";
    case PlanStrategy::FirstFit: return "first-fit";
    case PlanStrategy::LongestFirst: return "longest-first";
  }
  return "unknown";
}

namespace {

int64_t align4(int64_t v) { return (v + 3) / 4 * 4; }

bool lifetimes_overlap(const Buffer& a, const Buffer& b) { return a.first <= b.last && b.first <= a.last; }

BufferPlacement place_in_order(const std::vector<Buffer>& buffers, const std::vector<size_t>& order,
                               PlanStrategy strategy) {
  BufferPlacement p;
  p.strategy = strategy;
  p.offsets.assign(buffers.size(), -1);
  std::vector<size_t> placed;
  for (size_t i : order) {
    const int64_t size = align4(buffers[i].size);
    // Occupied intervals of the placed buffers that are alive at the same time, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed)
      if (lifetimes_overlap(buffers[i], buffers[j]))
        busy.emplace_back(p.offsets[j], p.offsets[j] + align4(buffers[j].size));
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (begin >= offset + size) break;  // the gap before this interval fits
      offset = std::max(offset, end);
    }
    p.offsets[i] = offset;
    p.arena_bytes = std::max(p.arena_bytes, offset + size);
    placed.push_back(i);
  }
  return p;
}

}  // namespace

BufferPlacement place_buffers(const std::vector<Buffer>& buffers, PlanStrategy strategy) {
  for (const Buffer& b : buffers)
    PICONAS_CHECK(b.size >= 0 && b.first <= b.last,
                  "place_buffers: bad buffer size " << b.size << " lifetime [" << b.first << ", "
                                                    << b.last << "]");
  if (strategy == PlanStrategy::Best) {
    BufferPlacement best = place_buffers(buffers, PlanStrategy::GreedyBySize);
    for (PlanStrategy other : {PlanStrategy::FirstFit, PlanStrategy::LongestFirst}) {
      BufferPlacement p = place_buffers(buffers, other);
      if (p.arena_bytes < best.arena_bytes) best = std::move(p);
    }
    return best;
  }
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (strategy == PlanStrategy::GreedyBySize) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
  } else if (strategy == PlanStrategy::FirstFit) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return buffers[a].first < buffers[b].first; });
  } else {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const int la = buffers[a].last - buffers[a].first, lb = buffers[b].last - buffers[b].first;
      return la != lb ? la > lb : buffers[a].size > buffers[b].size;
    });
  }
  return place_in_order(buffers, order, strategy);
}

int64_t scratch_bytes(const Graph& graph, const Layer& l, bool in_place) {
  const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
  if (l.kind == OpKind::Depthwise && in_place) return in.h * in.w;  // one input channel
  if (l.kind != OpKind::Conv) return 0;
  const Shape3 out = graph.tensors[static_cast<size_t>(l.output)];
  piconas_conv_params p{};
  p.input_offset = 0;
  p.output_offset = 0;
  p.stride = {l.stride.h, l.stride.w};
  p.padding = {l.padding.h, l.padding.w};
  p.dilation = {1, 1};
  p.activation = {-128, 127};
  const piconas_dims in_d{1, static_cast<int32_t>(in.h), static_cast<int32_t>(in.w), static_cast<int32_t>(in.c)};
  const piconas_dims f_d{static_cast<int32_t>(out.c), l.kernel.h, l.kernel.w, static_cast<int32_t>(in.c)};
  const piconas_dims out_d{1, static_cast<int32_t>(out.h), static_cast<int32_t>(out.w), static_cast<int32_t>(out.c)};
  const int32_t bytes = piconas_conv2d_s8_get_buffer_size(&p, &in_d, &f_d, &out_d);
  PICONAS_CHECK(bytes >= 0, "deploy: layer '" << l.name << "' has shapes the int8 conv refuses");
  return bytes;
}

namespace {

MemoryPlan plan_with(const Graph& graph, PlanStrategy strategy, bool in_place_depthwise) {
  MemoryPlan plan;
  const int steps = static_cast<int>(graph.layers.size());
  const size_t count = graph.tensors.size();
  std::vector<Buffer> buffers(count);
  for (size_t t = 0; t < count; ++t) buffers[t].size = graph.tensor_bytes(static_cast<int>(t));
  buffers[0].first = 0;
  for (int i = 0; i < steps; ++i) {
    const Layer& l = graph.layers[static_cast<size_t>(i)];
    buffers[static_cast<size_t>(l.output)].first = i;
    buffers[static_cast<size_t>(l.output)].last = i;
    for (int t : {l.input, l.input2})
      if (t >= 0) buffers[static_cast<size_t>(t)].last = std::max(buffers[static_cast<size_t>(t)].last, i);
  }
  buffers[static_cast<size_t>(graph.output())].last = std::max(steps - 1, 0);
  for (const Buffer& b : buffers) plan.naive_bytes += align4(b.size);
  // In-place depthwise: the output joins its input's buffer (home[t]: the tensor whose buffer
  // holds t), which grows to the larger size and lives until the output's last use.
  plan.in_place.assign(graph.layers.size(), 0);
  std::vector<size_t> home(count);
  std::iota(home.begin(), home.end(), size_t{0});
  for (int i = 0; in_place_depthwise && i < steps; ++i) {
    const Layer& l = graph.layers[static_cast<size_t>(i)];
    const Shape3& in = graph.tensors[static_cast<size_t>(l.input)];
    const Shape3& out = graph.tensors[static_cast<size_t>(l.output)];
    if (l.kind != OpKind::Depthwise || in.c != out.c || out.h * out.w > in.h * in.w ||
        buffers[static_cast<size_t>(l.input)].last != i || l.output == graph.output())
      continue;
    const size_t h = home[static_cast<size_t>(l.input)], o = static_cast<size_t>(l.output);
    home[o] = h;
    buffers[h].size = std::max(buffers[h].size, buffers[o].size);
    buffers[h].last = std::max(buffers[h].last, buffers[o].last);
    buffers[o].size = 0;
    plan.in_place[static_cast<size_t>(i)] = 1;
  }
  // An output that joined a buffer may be the input of a later in-place layer: follow homes.
  for (size_t t = 0; t < count; ++t)
    while (home[t] != home[home[t]]) home[t] = home[home[t]];
  plan.scratch_offset.assign(graph.layers.size(), -1);
  plan.scratch_size.assign(graph.layers.size(), 0);
  std::vector<int> scratch_layer;
  for (int i = 0; i < steps; ++i) {
    const int64_t bytes =
        scratch_bytes(graph, graph.layers[static_cast<size_t>(i)], plan.in_place[static_cast<size_t>(i)] != 0);
    plan.scratch_size[static_cast<size_t>(i)] = bytes;
    if (bytes > 0) {
      buffers.push_back(Buffer{bytes, i, i});
      scratch_layer.push_back(i);
      plan.naive_bytes += align4(bytes);
    }
  }
  const BufferPlacement placed = place_buffers(buffers, strategy);
  plan.tensor_offset.resize(count);
  for (size_t t = 0; t < count; ++t) plan.tensor_offset[t] = placed.offsets[home[t]];
  for (size_t k = 0; k < scratch_layer.size(); ++k)
    plan.scratch_offset[static_cast<size_t>(scratch_layer[k])] = placed.offsets[count + k];
  plan.arena_bytes = placed.arena_bytes;
  plan.strategy = placed.strategy;
  for (int i = 0; i < steps; ++i) {
    int64_t live = 0;
    for (const Buffer& b : buffers)
      if (b.first <= i && i <= b.last) live += align4(b.size);
    plan.max_live_bytes = std::max(plan.max_live_bytes, live);
  }
  plan.buffers = std::move(buffers);
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const Graph& graph, const PlanOptions& options) {
  if (options.in_place_depthwise && !options.in_place_only_if_smaller) return plan_with(graph, options.strategy, true);
  MemoryPlan out_of_place = plan_with(graph, options.strategy, false);
  if (!options.in_place_depthwise) return out_of_place;
  MemoryPlan in_place = plan_with(graph, options.strategy, true);
  return in_place.arena_bytes < out_of_place.arena_bytes ? in_place : out_of_place;
}

int64_t peak_sram(const ArchSpec& spec, const PlanOptions& options) {
  return plan_memory(lower_arch(spec), options).arena_bytes;
}

int64_t flash_bytes(const ArchSpec& spec) { return constant_bytes(lower_arch(spec)); }

}  // namespace piconas::nas::deploy
