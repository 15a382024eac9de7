#include "nas/deploy/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <numeric>

#include "nas/deploy/quantize.h"
#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/conv2d_grouped_s8.h"
#include "ops/int8/conv2d_packed_s8.h"
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

// The root buffer of b's group (itself when it has none).
size_t root_of(const std::vector<Buffer>& buffers, size_t b) {
  return buffers[b].group >= 0 ? static_cast<size_t>(buffers[b].group) : b;
}

BufferPlacement place_in_order(const std::vector<Buffer>& buffers, const std::vector<std::vector<size_t>>& groups,
                               const std::vector<size_t>& order, PlanStrategy strategy) {
  BufferPlacement p;
  p.strategy = strategy;
  p.offsets.assign(buffers.size(), -1);
  std::vector<size_t> placed;
  for (size_t g : order) {
    // Offsets B of the group's root that a member would collide at: the member at B + delta
    // overlaps a placed buffer alive at the same time occupying [begin, end) when
    // begin - delta - size < B < end - delta; as half-open ranges of B, sorted.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t m : groups[g]) {
      const int64_t size = align4(buffers[m].size), delta = buffers[m].delta;
      if (size == 0) continue;
      for (size_t j : placed)
        if (buffers[j].size > 0 && lifetimes_overlap(buffers[m], buffers[j]))
          busy.emplace_back(p.offsets[j] - delta - size + 1, p.offsets[j] + align4(buffers[j].size) - delta);
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > offset) break;  // no range holds offset (the later ones begin later still)
      offset = std::max(offset, end);
    }
    for (size_t m : groups[g]) {
      p.offsets[m] = offset + buffers[m].delta;
      p.arena_bytes = std::max(p.arena_bytes, p.offsets[m] + align4(buffers[m].size));
      placed.push_back(m);
    }
  }
  return p;
}

}  // namespace

BufferPlacement place_buffers(const std::vector<Buffer>& buffers, PlanStrategy strategy) {
  for (size_t b = 0; b < buffers.size(); ++b) {
    const Buffer& x = buffers[b];
    PICONAS_CHECK(x.size >= 0 && x.first <= x.last && x.delta >= 0 && x.delta % 4 == 0,
                  "place_buffers: bad buffer size " << x.size << " lifetime [" << x.first << ", " << x.last
                                                    << "] delta " << x.delta);
    PICONAS_CHECK(x.group < 0 || (static_cast<size_t>(x.group) < buffers.size() && x.group != static_cast<int>(b) &&
                                  buffers[static_cast<size_t>(x.group)].group < 0),
                  "place_buffers: buffer " << b << " names group " << x.group << ", which is not a root buffer");
  }
  if (strategy == PlanStrategy::Best) {
    BufferPlacement best = place_buffers(buffers, PlanStrategy::GreedyBySize);
    for (PlanStrategy other : {PlanStrategy::FirstFit, PlanStrategy::LongestFirst}) {
      BufferPlacement p = place_buffers(buffers, other);
      if (p.arena_bytes < best.arena_bytes) best = std::move(p);
    }
    return best;
  }
  // Groups (a root and its members) are placed as one: extent, union of lifetimes.
  std::vector<std::vector<size_t>> groups(buffers.size());
  for (size_t b = 0; b < buffers.size(); ++b) groups[root_of(buffers, b)].push_back(b);
  std::vector<Buffer> key(buffers.size());
  std::vector<size_t> order;
  for (size_t g = 0; g < buffers.size(); ++g) {
    if (groups[g].empty()) continue;
    order.push_back(g);
    key[g] = buffers[g];
    for (size_t m : groups[g]) {
      key[g].size = std::max(key[g].size, buffers[m].delta + buffers[m].size);
      key[g].first = std::min(key[g].first, buffers[m].first);
      key[g].last = std::max(key[g].last, buffers[m].last);
    }
  }
  if (strategy == PlanStrategy::GreedyBySize) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a].size > key[b].size; });
  } else if (strategy == PlanStrategy::FirstFit) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a].first < key[b].first; });
  } else {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const int la = key[a].last - key[a].first, lb = key[b].last - key[b].first;
      return la != lb ? la > lb : key[a].size > key[b].size;
    });
  }
  return place_in_order(buffers, groups, order, strategy);
}

int64_t live_bytes(const std::vector<Buffer>& buffers, int step) {
  // Per group, the span from the lowest start to the highest end of its members alive at step.
  std::vector<std::pair<int64_t, int64_t>> span(buffers.size(), {INT64_MAX, INT64_MIN});
  for (size_t b = 0; b < buffers.size(); ++b) {
    const Buffer& x = buffers[b];
    if (x.first > step || step > x.last || x.size == 0) continue;
    auto& [lo, hi] = span[root_of(buffers, b)];
    lo = std::min(lo, x.delta);
    hi = std::max(hi, x.delta + align4(x.size));
  }
  int64_t live = 0;
  for (const auto& [lo, hi] : span)
    if (hi > lo) live += hi - lo;
  return live;
}

int64_t conv_scratch_bytes(const Graph& graph, const Layer& l, int32_t pad_h, int32_t pad_w, int64_t in_h,
                           int64_t in_w, int64_t out_h, int64_t out_w, bool packed_conv) {
  const int64_t in_c = graph.tensors[static_cast<size_t>(l.input)].c;
  const int64_t out_c = graph.tensors[static_cast<size_t>(l.output)].c;
  piconas_conv_params p{};
  p.input_offset = 0;
  p.output_offset = 0;
  p.stride = {l.stride.h, l.stride.w};
  p.padding = {pad_h, pad_w};
  p.dilation = {1, 1};
  p.activation = {-128, 127};
  const piconas_dims in_d{1, static_cast<int32_t>(in_h), static_cast<int32_t>(in_w), static_cast<int32_t>(in_c)};
  const piconas_dims f_d{static_cast<int32_t>(out_c), l.kernel.h, l.kernel.w, static_cast<int32_t>(in_c / l.groups)};
  const piconas_dims out_d{1, static_cast<int32_t>(out_h), static_cast<int32_t>(out_w), static_cast<int32_t>(out_c)};
  // A grouped conv: its input and output slices and the conv's scratch (conv2d_grouped_s8.h).
  const int32_t bytes = l.groups > 1 ? piconas_conv2d_grouped_s8_get_buffer_size(&p, &in_d, &f_d, &out_d, l.groups)
                                     : piconas_conv2d_s8_get_buffer_size(&p, &in_d, &f_d, &out_d);
  PICONAS_CHECK(bytes >= 0, "deploy: layer '" << l.name << "' has shapes the int8 conv refuses");
  if (l.groups > 1) return bytes;  // never packed
  // packed_conv: room for the packed kernel too (conv2d_packed_s8.h), which the model may run.
  return packed_conv ? std::max<int64_t>(bytes, piconas_conv2d_packed_s8_get_buffer_size(&f_d)) : bytes;
}

int64_t scratch_bytes(const Graph& graph, const Layer& l, bool in_place, bool packed_conv) {
  const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
  if (l.kind == LayerKind::Depthwise && in_place) return in.h * in.w;  // one input channel
  if (l.kind != LayerKind::Conv) return 0;
  const Shape3 out = graph.tensors[static_cast<size_t>(l.output)];
  if (in_place) {  // a strip of output pixels and the conv's scratch (conv2d_1x1_inplace_s8.h)
    piconas_conv_params p{};
    p.stride = {1, 1};
    p.dilation = {1, 1};
    p.activation = {-128, 127};
    const piconas_dims in_d{1, static_cast<int32_t>(in.h), static_cast<int32_t>(in.w), static_cast<int32_t>(in.c)};
    const piconas_dims f_d{static_cast<int32_t>(out.c), 1, 1, static_cast<int32_t>(in.c)};
    const int32_t bytes = piconas_conv2d_1x1_inplace_s8_get_buffer_size(&p, &in_d, &f_d, kInPlaceConvStrip);
    PICONAS_CHECK(bytes >= 0, "deploy: layer '" << l.name << "' has shapes the in-place 1x1 conv refuses");
    return bytes;
  }
  return conv_scratch_bytes(graph, l, l.padding.h, l.padding.w, in.h, in.w, out.h, out.w, packed_conv);
}

namespace {

// Scratch of a conv layer of the patched stage: the largest over the patches.
int64_t patch_scratch_bytes(const Graph& graph, const PatchPlan& patch, size_t i, bool packed_conv) {
  const Layer& l = graph.layers[i];
  if (l.kind != LayerKind::Conv) return 0;
  int64_t bytes = 0;
  for (size_t p = 0; p < patch.region.size(); ++p) {
    const Window& in = patch.input_window[p][i];
    const Window& out = patch.region[p][static_cast<size_t>(l.output)];
    const int32_t pad_h = in.y0 - (out.y0 * l.stride.h - l.padding.h), pad_w = in.x0 - (out.x0 * l.stride.w - l.padding.w);
    bytes = std::max(bytes, conv_scratch_bytes(graph, l, pad_h, pad_w, in.h, in.w, out.h, out.w, packed_conv));
  }
  return bytes;
}

// A layer that may write its output over its input (planner.h): an in-place depthwise or a 1x1
// stride-1 unpadded conv, after the patched stage, not the network output.
bool may_run_in_place(const Graph& graph, const Layer& l, InPlace mode) {
  const Shape3& in = graph.tensors[static_cast<size_t>(l.input)];
  const Shape3& out = graph.tensors[static_cast<size_t>(l.output)];
  if (l.output == graph.output()) return false;
  if (l.kind == LayerKind::Depthwise)
    return (mode == InPlace::Depthwise || mode == InPlace::All) && in.c == out.c && out.h * out.w <= in.h * in.w;
  return (mode == InPlace::Pointwise || mode == InPlace::All) && l.kind == LayerKind::Conv && l.groups == 1 &&
         l.kernel.h == 1 && l.kernel.w == 1 &&
         l.stride.h == 1 && l.stride.w == 1 && l.padding.h == 0 && l.padding.w == 0 && in.h == out.h &&
         in.w == out.w;
}

bool elementwise_in_place(const PlanOptions& options) {
  return options.in_place_depthwise && options.in_place_elementwise;
}

bool is_elementwise(const Layer& l) {
  return l.kind == LayerKind::Add || l.kind == LayerKind::Hardswish ||
         l.kind == LayerKind::Logistic || l.kind == LayerKind::ChannelMul ||
         l.kind == LayerKind::Mul;
}

// The input an elementwise layer (planner.h) may write its output over: one of the same shape
// that dies at this layer, -1 when none. An add prefers its residual input (input2): the output
// then continues the residual stream in that buffer (measured on the blocks space: the main
// branch first gave larger arenas more often). A mul takes its first input, else its second
// (mul_s8.h: the output may alias either; a broadcast gate never has the output's shape
// unless it has one channel, where each output byte still follows its gate byte's read).
int elementwise_in_place_input(const Graph& graph, const Layer& l, const std::vector<Buffer>& buffers, int step) {
  if (l.output == graph.output()) return -1;
  const bool elementwise = is_elementwise(l);
  const auto fits = [&](int t) {
    return t >= 0 && buffers[static_cast<size_t>(t)].last == step &&
           graph.tensors[static_cast<size_t>(t)] == graph.tensors[static_cast<size_t>(l.output)];
  };
  if (!elementwise) return -1;
  if (l.kind == LayerKind::Add && fits(l.input2)) return l.input2;
  if (fits(l.input)) return l.input;
  return l.kind == LayerKind::Mul && fits(l.input2) ? l.input2 : -1;
}

MemoryPlan plan_with(const Graph& graph, PlanStrategy strategy, InPlace in_place_mode, bool elementwise,
                     const PatchPlan& patch, const std::vector<char>& packed_conv = {}) {
  MemoryPlan plan;
  plan.patch = patch;
  plan.in_place_mode = in_place_mode;
  plan.in_place_elementwise = elementwise;
  const int steps = static_cast<int>(graph.layers.size());
  const int stage = patch.layers;
  const size_t count = graph.tensors.size();
  std::vector<Buffer> buffers(count);
  for (size_t t = 0; t < count; ++t)
    buffers[t].size = patch.patch_stored(static_cast<int>(t)) ? patch.patch_bytes[t] : graph.tensor_bytes(static_cast<int>(t));
  buffers[0].first = 0;
  for (int i = 0; i < steps; ++i) {
    const Layer& l = graph.layers[static_cast<size_t>(i)];
    buffers[static_cast<size_t>(l.output)].first = i;
    buffers[static_cast<size_t>(l.output)].last = i;
    for (int t : {l.input, l.input2})
      if (t >= 0) buffers[static_cast<size_t>(t)].last = std::max(buffers[static_cast<size_t>(t)].last, i);
  }
  buffers[static_cast<size_t>(graph.output())].last = std::max(steps - 1, 0);
  if (patch.on()) {  // the input is read by every patch, the stage output written by every patch
    buffers[0].last = std::max(buffers[0].last, stage - 1);
    buffers[static_cast<size_t>(patch.output_tensor)].first = 0;
  }
  for (const Buffer& b : buffers) plan.naive_bytes += align4(b.size);
  // In place: the output joins the group of its input's buffer at the offset its kernel needs:
  // depthwise and a 1x1 conv with C_out <= C_in at the input's start; a 1x1 conv with
  // C_out > C_in ending where the input ends (rounded down to 4 bytes; conv2d_1x1_inplace_s8.h).
  // Each tensor keeps its own size and lifetime. A join that would widen the group beyond both
  // the group and the output (a chain of expansions drifting down) is skipped.
  plan.in_place.assign(graph.layers.size(), 0);
  std::vector<int64_t> delta(count, 0);  // relative to the group root, may go negative here
  std::vector<size_t> root(count);
  std::iota(root.begin(), root.end(), size_t{0});
  auto extent = [&](size_t r, int64_t extra_lo, int64_t extra_hi) {
    int64_t lo = extra_lo, hi = extra_hi;
    for (size_t t = 0; t < count; ++t)
      if (root[t] == r && buffers[t].size > 0) {
        lo = std::min(lo, delta[t]);
        hi = std::max(hi, delta[t] + align4(buffers[t].size));
      }
    return hi - lo;
  };
  for (int i = stage; i < steps; ++i) {
    const Layer& l = graph.layers[static_cast<size_t>(i)];
    int input = elementwise ? elementwise_in_place_input(graph, l, buffers, i) : -1;
    if (input < 0 && may_run_in_place(graph, l, in_place_mode) && buffers[static_cast<size_t>(l.input)].last == i)
      input = l.input;
    if (input < 0) continue;
    const size_t x = static_cast<size_t>(input), o = static_cast<size_t>(l.output), r = root[x];
    const int64_t in_bytes = buffers[x].size, out_bytes = buffers[o].size;
    const int64_t d = out_bytes > in_bytes ? delta[x] + ((in_bytes - out_bytes) & ~int64_t{3}) : delta[x];
    const int64_t before = extent(r, delta[x], delta[x]);
    if (extent(r, d, d + align4(out_bytes)) > std::max(before, align4(out_bytes))) continue;
    root[o] = r;
    delta[o] = d;
    plan.in_place[static_cast<size_t>(i)] = 1;
  }
  std::vector<int64_t> lowest(count, 0);
  for (size_t t = 0; t < count; ++t) lowest[root[t]] = std::min(lowest[root[t]], delta[t]);
  for (size_t t = 0; t < count; ++t) {
    buffers[t].group = root[t] == t ? -1 : static_cast<int>(root[t]);
    buffers[t].delta = delta[t] - lowest[root[t]];
  }
  // Per-layer buffers after the tensors: kernel scratch, copied input windows, the stage
  // output's patch buffer; (layer, kind) of each, kind 0 scratch, 1 window, 2 output patch.
  plan.scratch_offset.assign(graph.layers.size(), -1);
  plan.scratch_size.assign(graph.layers.size(), 0);
  plan.window_offset.assign(graph.layers.size(), -1);
  std::vector<std::pair<int, int>> extra;
  auto add_extra = [&](int layer, int kind, int64_t bytes) {
    buffers.push_back(Buffer{bytes, layer, layer});
    extra.emplace_back(layer, kind);
    plan.naive_bytes += align4(bytes);
  };
  for (int i = 0; i < steps; ++i) {
    const size_t li = static_cast<size_t>(i);
    // An in-place conv runs piconas_conv2d_s8 on its strips, never the packed kernel.
    const bool packed = li < packed_conv.size() && packed_conv[li] != 0 && plan.in_place[li] == 0;
    const int64_t bytes = i < stage ? patch_scratch_bytes(graph, patch, li, packed)
                                    : scratch_bytes(graph, graph.layers[li], plan.in_place[li] != 0, packed);
    plan.scratch_size[li] = bytes;
    if (bytes > 0) add_extra(i, 0, bytes);
    if (i < stage && patch.copy_input[li]) add_extra(i, 1, patch.window_bytes[li]);
  }
  if (patch.on()) add_extra(stage - 1, 2, patch.output_patch_bytes);
  const BufferPlacement placed = place_buffers(buffers, strategy);
  plan.tensor_offset.resize(count);
  for (size_t t = 0; t < count; ++t) plan.tensor_offset[t] = placed.offsets[t];
  for (size_t k = 0; k < extra.size(); ++k) {
    const size_t layer = static_cast<size_t>(extra[k].first);
    const int64_t offset = placed.offsets[count + k];
    if (extra[k].second == 0) plan.scratch_offset[layer] = offset;
    if (extra[k].second == 1) plan.window_offset[layer] = offset;
    if (extra[k].second == 2) plan.output_patch_offset = offset;
  }
  plan.arena_bytes = placed.arena_bytes;
  plan.strategy = placed.strategy;
  for (int i = 0; i < steps; ++i) plan.max_live_bytes = std::max(plan.max_live_bytes, live_bytes(buffers, i));
  plan.buffers = std::move(buffers);
  plan.packed_conv = packed_conv;
  plan.packed_conv.resize(graph.layers.size(), 0);
  for (size_t i = 0; i < plan.packed_conv.size(); ++i)
    if (plan.in_place[i]) plan.packed_conv[i] = 0;
  return plan;
}

// The default plan (no budget) with elementwise layers in place where that costs no instruction
// (planner.h): the same plan re-made with them in place is kept only when every other layer
// runs the same kernel (the same depthwise / 1x1 layers in place, the same convs packed by
// with_packed_conv, as the export and the latency model apply it) and the arena, packed
// scratch included, is smaller.
MemoryPlan with_free_elementwise(const Graph& graph, const PlanOptions& options, const MemoryPlan& plan) {
  if (!elementwise_in_place(options) || std::none_of(graph.layers.begin(), graph.layers.end(), is_elementwise))
    return plan;
  MemoryPlan aliased = plan_with(graph, options.strategy, plan.in_place_mode, true, plan.patch);
  if (aliased.arena_bytes >= plan.arena_bytes) return plan;
  for (size_t i = 0; i < graph.layers.size(); ++i)
    if (!is_elementwise(graph.layers[i]) && aliased.in_place[i] != plan.in_place[i]) return plan;
  const MemoryPlan packed = with_packed_conv(graph, plan, options.strategy);
  const MemoryPlan aliased_packed = with_packed_conv(graph, aliased, options.strategy);
  if (aliased_packed.packed_conv != packed.packed_conv || aliased_packed.arena_bytes >= packed.arena_bytes)
    return plan;
  return aliased;
}

// The plan with the in-place kinds `mode`, and with elementwise layers in place too when the
// options allow it and that lowers the arena (the placement is a heuristic: aliasing can also
// raise it). Elementwise in place costs no instruction: the same kernel on the same pointers.
MemoryPlan plan_kinds(const Graph& graph, const PlanOptions& options, InPlace mode, const PatchPlan& patch) {
  MemoryPlan plan = plan_with(graph, options.strategy, mode, false, patch);
  if (!elementwise_in_place(options) || std::none_of(graph.layers.begin(), graph.layers.end(), is_elementwise))
    return plan;
  MemoryPlan elementwise = plan_with(graph, options.strategy, mode, true, patch);
  return elementwise.arena_bytes < plan.arena_bytes ? elementwise : plan;
}

// Without a budget: the smaller of the plans out of place and with in-place depthwise (as the
// options allow; in-place 1x1 convs only under a budget, plan_for_budget).
MemoryPlan plan_fixed(const Graph& graph, const PlanOptions& options, const PatchPlan& patch) {
  if (options.in_place_depthwise && !options.in_place_only_if_smaller)
    return plan_with(graph, options.strategy, InPlace::Depthwise, elementwise_in_place(options), patch);
  MemoryPlan out_of_place = plan_kinds(graph, options, InPlace::None, patch);
  if (!options.in_place_depthwise) return out_of_place;
  MemoryPlan in_place = plan_kinds(graph, options, InPlace::Depthwise, patch);
  return in_place.arena_bytes < out_of_place.arena_bytes ? in_place : out_of_place;
}

// Under a budget: the first of the in-place kinds (fastest first) whose plan fits, else the
// smallest of them.
MemoryPlan plan_tiers(const Graph& graph, const PlanOptions& options, const PatchPlan& patch, int64_t max_sram) {
  MemoryPlan best = plan_kinds(graph, options, InPlace::None, patch);
  if (best.arena_bytes <= max_sram || !options.in_place_depthwise) return best;
  for (InPlace mode : {InPlace::Pointwise, InPlace::Depthwise, InPlace::All}) {
    MemoryPlan plan = plan_kinds(graph, options, mode, patch);
    if (plan.arena_bytes <= max_sram) return plan;
    if (plan.arena_bytes < best.arena_bytes) best = std::move(plan);
  }
  return best;
}

}  // namespace

PatchOptions choose_patching(const Graph& graph, const PlanOptions& options, int64_t max_sram) {
  PICONAS_CHECK(options.max_extra_macs >= 0, "patching: the recomputed-MAC limit must be >= 0, got "
                                                  << options.max_extra_macs);
  const double limit = options.max_extra_macs * static_cast<double>(graph_macs(graph));
  struct Candidate {
    PatchOptions patch;
    int64_t arena = 0, extra = 0;
  };
  std::vector<Candidate> candidates;
  const Candidate none{PatchOptions{}, plan_fixed(graph, options, PatchPlan{}).arena_bytes, 0};
  for (int layers : patchable_layers(graph)) {
    const Shape3& out = graph.tensors[static_cast<size_t>(graph.layers[static_cast<size_t>(layers - 1)].output)];
    PatchOptions last{};
    for (int g = 2; g <= 8; ++g) {
      const PatchOptions p{layers, static_cast<int>(std::min<int64_t>(g, out.h)),
                           static_cast<int>(std::min<int64_t>(g, out.w))};
      if (p.grid_h * p.grid_w < 2 || (p.grid_h == last.grid_h && p.grid_w == last.grid_w)) continue;
      last = p;
      const PatchPlan patch = plan_patches(graph, p);
      if (static_cast<double>(patch.extra_macs) > limit) continue;
      candidates.push_back({p, plan_fixed(graph, options, patch).arena_bytes, patch.extra_macs});
    }
  }
  const auto smaller = [](const Candidate& a, const Candidate& b) {
    return a.arena != b.arena ? a.arena < b.arena : a.extra < b.extra;
  };
  if (max_sram > 0) {
    const Candidate* fastest = nullptr;
    for (const Candidate& c : candidates)
      if (c.arena <= max_sram && (!fastest || c.extra < fastest->extra || (c.extra == fastest->extra && c.arena < fastest->arena)))
        fastest = &c;
    if (fastest) return fastest->patch;
  }
  Candidate best = none;
  for (const Candidate& c : candidates)
    if (smaller(c, best)) best = c;
  return best.patch;
}

namespace {
int64_t parse_count(const std::string& text, const char* flag, int64_t lo, int64_t hi) {
  int64_t v = 0;
  size_t used = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  PICONAS_CHECK(used > 0 && used == text.size() && text[0] != '+' && v >= lo && v <= hi,
                flag << " '" << excerpt(text, 40) << "' must be an integer in [" << lo << ", " << hi << "]");
  return v;
}
}  // namespace

void parse_patch_layers(const std::string& text, PlanOptions& options) {
  options.patch_auto = text == "auto";
  options.patch_if_needed = text == "if-needed";
  options.patch.layers = 0;
  if (options.patch_auto || options.patch_if_needed) return;
  options.patch.layers = static_cast<int>(parse_count(text, "--patch-layers (or 'auto', 'if-needed')", 0, 100000));
}

void parse_patch_grid(const std::string& text, PlanOptions& options) {
  const size_t x = text.find('x');
  PICONAS_CHECK(x != std::string::npos, "--patch-grid '" << excerpt(text, 40) << "' must be HxW, e.g. 4x4");
  options.patch.grid_h = static_cast<int>(parse_count(text.substr(0, x), "--patch-grid height", 1, 64));
  options.patch.grid_w = static_cast<int>(parse_count(text.substr(x + 1), "--patch-grid width", 1, 64));
}

void parse_patch_max_extra_macs(const std::string& text, PlanOptions& options) {
  double v = -1;
  size_t used = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  PICONAS_CHECK(used > 0 && used == text.size() && std::isfinite(v) && v >= 0 && v <= 1000,
                "--patch-max-extra-macs '" << excerpt(text, 40)
                                           << "' must be a number in [0, 1000] (recomputed MACs / network MACs)");
  options.max_extra_macs = v;
}

std::string patch_layers_text(const PlanOptions& options) {
  if (options.patch_auto) return "auto";
  if (options.patch_if_needed) return "if-needed";
  return std::to_string(options.patch.layers);
}

std::string patch_grid_text(const PlanOptions& options) {
  return std::to_string(options.patch.grid_h) + "x" + std::to_string(options.patch.grid_w);
}

MemoryPlan plan_memory(const Graph& graph, const PlanOptions& options) {
  const PatchOptions patch = options.patch_auto ? choose_patching(graph, options) : options.patch;
  return plan_fixed(graph, options, plan_patches(graph, patch));
}

MemoryPlan plan_for_budget(const Graph& graph, const PlanOptions& options, int64_t max_sram) {
  PICONAS_CHECK(max_sram >= 0, "plan_for_budget: the SRAM budget must be >= 0 (0: none), got " << max_sram);
  if (max_sram == 0) {  // elementwise layers in place only where it costs no instruction (planner.h)
    PlanOptions speed_first = options;
    speed_first.in_place_elementwise = false;
    return with_free_elementwise(graph, options, plan_memory(graph, speed_first));
  }
  MemoryPlan plan = plan_tiers(graph, options, PatchPlan{}, max_sram);
  if (plan.arena_bytes <= max_sram) return plan;
  const bool automatic = options.patch_auto || (options.patch_if_needed && options.patch.layers == 0);
  if (!automatic && options.patch.layers == 0) return plan;
  const PatchPlan patch = plan_patches(graph, automatic ? choose_patching(graph, options, max_sram) : options.patch);
  MemoryPlan patched = plan_tiers(graph, options, patch, max_sram);
  return patched.arena_bytes <= max_sram || patched.arena_bytes < plan.arena_bytes ? patched : plan;
}

PlanOptions without_patching(PlanOptions options) {
  options.patch = PatchOptions{};
  options.patch_auto = false;
  options.patch_if_needed = false;
  return options;
}

MemoryPlan plan_smallest(const Graph& graph, const PlanOptions& options) {
  MemoryPlan plan = plan_memory(graph, options);
  if (!options.in_place_depthwise) return plan;
  MemoryPlan all = plan_kinds(graph, options, InPlace::All, plan.patch);
  return all.arena_bytes < plan.arena_bytes ? all : plan;
}

namespace {
// A conv the packed kernel may run (a grouped conv runs piconas_conv2d_grouped_s8 unpacked).
bool is_packable(const Layer& l) { return l.kind == LayerKind::Conv && l.groups == 1; }
}  // namespace

MemoryPlan with_packed_conv(const Graph& graph, const MemoryPlan& plan, PlanStrategy strategy,
                            int64_t max_arena) {
  const InPlace in_place = plan.in_place_mode;
  std::vector<char> packed(graph.layers.size(), 0);
  for (size_t i = 0; i < graph.layers.size(); ++i) packed[i] = is_packable(graph.layers[i]);
  MemoryPlan all = plan_with(graph, strategy, in_place, plan.in_place_elementwise, plan.patch, packed);
  int64_t limit = plan.arena_bytes + plan.arena_bytes / 100;
  if (max_arena > 0) limit = std::max(plan.arena_bytes, std::min(limit, max_arena));
  if (all.arena_bytes <= limit) return all;
  // Layer by layer, in order: keep the larger scratch where the arena does not grow.
  MemoryPlan best = plan;
  std::fill(packed.begin(), packed.end(), 0);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    if (!is_packable(graph.layers[i])) continue;
    packed[i] = 1;
    MemoryPlan trial = plan_with(graph, strategy, in_place, plan.in_place_elementwise, plan.patch, packed);
    if (trial.arena_bytes <= plan.arena_bytes) {
      best = std::move(trial);
    } else {
      packed[i] = 0;
    }
  }
  return best;
}

int64_t peak_sram(const ArchSpec& spec, const PlanOptions& options, int64_t max_sram) {
  return plan_for_budget(lower_arch(spec), options, max_sram).arena_bytes;
}

int64_t flash_bytes(const ArchSpec& spec) { return constant_bytes(lower_arch(spec)); }

}  // namespace piconas::nas::deploy
