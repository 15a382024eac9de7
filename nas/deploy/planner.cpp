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
    BufferPlacement a = place_buffers(buffers, PlanStrategy::GreedyBySize);
    BufferPlacement b = place_buffers(buffers, PlanStrategy::FirstFit);
    return b.arena_bytes < a.arena_bytes ? b : a;
  }
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (strategy == PlanStrategy::GreedyBySize) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return buffers[a].first < buffers[b].first; });
  }
  return place_in_order(buffers, order, strategy);
}

int64_t scratch_bytes(const Graph& graph, const Layer& l) {
  if (l.kind != OpKind::Conv) return 0;
  const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
  const Shape3 out = graph.tensors[static_cast<size_t>(l.output)];
  piconas_conv_params p{};
  p.input_offset = 0;
  p.output_offset = 0;
  p.stride = {l.stride, l.stride};
  p.padding = {l.padding, l.padding};
  p.dilation = {1, 1};
  p.activation = {-128, 127};
  const piconas_dims in_d{1, static_cast<int32_t>(in.h), static_cast<int32_t>(in.w), static_cast<int32_t>(in.c)};
  const piconas_dims f_d{static_cast<int32_t>(out.c), l.kernel, l.kernel, static_cast<int32_t>(in.c)};
  const piconas_dims out_d{1, static_cast<int32_t>(out.h), static_cast<int32_t>(out.w), static_cast<int32_t>(out.c)};
  const int32_t bytes = piconas_conv2d_s8_get_buffer_size(&p, &in_d, &f_d, &out_d);
  PICONAS_CHECK(bytes >= 0, "deploy: layer '" << l.name << "' has shapes the int8 conv refuses");
  return bytes;
}

MemoryPlan plan_memory(const Graph& graph, PlanStrategy strategy) {
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
  plan.scratch_offset.assign(graph.layers.size(), -1);
  plan.scratch_size.assign(graph.layers.size(), 0);
  std::vector<int> scratch_layer;
  for (int i = 0; i < steps; ++i) {
    const int64_t bytes = scratch_bytes(graph, graph.layers[static_cast<size_t>(i)]);
    plan.scratch_size[static_cast<size_t>(i)] = bytes;
    if (bytes > 0) {
      buffers.push_back(Buffer{bytes, i, i});
      scratch_layer.push_back(i);
    }
  }
  const BufferPlacement placed = place_buffers(buffers, strategy);
  plan.tensor_offset.assign(placed.offsets.begin(), placed.offsets.begin() + static_cast<std::ptrdiff_t>(count));
  for (size_t k = 0; k < scratch_layer.size(); ++k)
    plan.scratch_offset[static_cast<size_t>(scratch_layer[k])] = placed.offsets[count + k];
  plan.arena_bytes = placed.arena_bytes;
  plan.strategy = placed.strategy;
  for (const Buffer& b : buffers) plan.naive_bytes += align4(b.size);
  for (int i = 0; i < steps; ++i) {
    int64_t live = 0;
    for (const Buffer& b : buffers)
      if (b.first <= i && i <= b.last) live += align4(b.size);
    plan.max_live_bytes = std::max(plan.max_live_bytes, live);
  }
  plan.buffers = std::move(buffers);
  return plan;
}

int64_t peak_sram(const ArchSpec& spec) { return plan_memory(lower_arch(spec)).arena_bytes; }

int64_t flash_bytes(const ArchSpec& spec) { return constant_bytes(lower_arch(spec)); }

}  // namespace piconas::nas::deploy
