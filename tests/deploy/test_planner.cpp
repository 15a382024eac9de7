#include <doctest/doctest.h>

#include <algorithm>

#include "core/rng.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/search/search_space.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;

namespace {
// Every pair of buffers alive at the same step occupies disjoint byte ranges of the arena.
void check_no_overlap(const std::vector<Buffer>& buffers, const std::vector<int64_t>& offsets,
                      int64_t arena) {
  REQUIRE(offsets.size() == buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    CHECK(offsets[i] % 4 == 0);
    CHECK(offsets[i] + buffers[i].size <= arena);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const bool alive_together = buffers[i].first <= buffers[j].last && buffers[j].first <= buffers[i].last;
      const bool disjoint = offsets[i] + buffers[i].size <= offsets[j] || offsets[j] + buffers[j].size <= offsets[i];
      // Members of one group (an in-place output and its input) share bytes on purpose.
      const auto root = [&](size_t b) { return buffers[b].group >= 0 ? static_cast<size_t>(buffers[b].group) : b; };
      if (alive_together && buffers[i].size > 0 && buffers[j].size > 0 && root(i) != root(j)) CHECK(disjoint);
    }
  }
}
}  // namespace

TEST_CASE("planner: random buffers never overlap while alive, for every strategy") {
  Rng rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<Buffer> buffers(static_cast<size_t>(rng.uniform_int(1, 30)));
    for (Buffer& b : buffers) {
      b.size = rng.uniform_int(0, 5000);
      b.first = static_cast<int>(rng.uniform_int(0, 20));
      b.last = b.first + static_cast<int>(rng.uniform_int(0, 6));
    }
    int64_t total = 0, live_max = 0;
    for (const Buffer& b : buffers) total += (b.size + 3) / 4 * 4;
    for (int step = 0; step < 30; ++step) {
      int64_t live = 0;
      for (const Buffer& b : buffers)
        if (b.first <= step && step <= b.last) live += (b.size + 3) / 4 * 4;
      live_max = std::max(live_max, live);
    }
    for (PlanStrategy s : {PlanStrategy::GreedyBySize, PlanStrategy::FirstFit, PlanStrategy::LongestFirst, PlanStrategy::Best}) {
      const BufferPlacement p = place_buffers(buffers, s);
      check_no_overlap(buffers, p.offsets, p.arena_bytes);
      CHECK(p.arena_bytes <= total);
      CHECK(p.arena_bytes >= live_max);
    }
  }
}

TEST_CASE("planner: a hand-checked chain reuses memory") {
  // a(100) -> b(200) -> c(100): a and c can share bytes, b cannot overlap either.
  std::vector<Buffer> buffers{{100, 0, 1}, {200, 1, 2}, {100, 2, 3}};
  const BufferPlacement p = place_buffers(buffers, PlanStrategy::GreedyBySize);
  CHECK(p.arena_bytes == 300);
  CHECK(p.offsets[1] == 0);
  CHECK(p.offsets[0] == p.offsets[2]);
}

TEST_CASE("planner: reference networks beat the naive plan") {
  for (const char* name : {"tiny-bench", "mbv2-bench"}) {
    const Graph g = lower_arch(parse_arch(name));
    PlanOptions by_default;  // plan_for_budget without a budget: elementwise layers out of place
    by_default.in_place_elementwise = false;
    const MemoryPlan plan = plan_memory(g, by_default);
    check_no_overlap(plan.buffers,
                     [&] {
                       std::vector<int64_t> offsets = plan.tensor_offset;
                       for (size_t i = 0; i < plan.scratch_offset.size(); ++i)
                         if (plan.scratch_offset[i] >= 0) offsets.push_back(plan.scratch_offset[i]);
                       return offsets;
                     }(),
                     plan.arena_bytes);
    CHECK(plan.arena_bytes < plan.naive_bytes);
    CHECK(plan.arena_bytes >= plan.max_live_bytes);
    auto with = [&](PlanStrategy strategy) {
      PlanOptions o = by_default;
      o.strategy = strategy;
      return plan_memory(g, o);
    };
    const MemoryPlan greedy = with(PlanStrategy::GreedyBySize);
    const MemoryPlan first = with(PlanStrategy::FirstFit);
    const MemoryPlan longest = with(PlanStrategy::LongestFirst);
    CHECK(plan.arena_bytes == std::min({greedy.arena_bytes, first.arena_bytes, longest.arena_bytes}));
    MESSAGE(std::string(name) << ": arena " << plan.arena_bytes << " B (" << std::string(plan_strategy_name(plan.strategy))
                 << "; greedy-by-size " << greedy.arena_bytes << ", first-fit " << first.arena_bytes
                 << ", longest-first " << longest.arena_bytes
                 << "), naive " << plan.naive_bytes << " B (" << plan.naive_bytes / double(plan.arena_bytes)
                 << "x), live lower bound " << plan.max_live_bytes << " B, flash constants "
                 << constant_bytes(g) << " B");
    // The search's figure is the default plan's: this one, or smaller where elementwise layers
    // run in place at no instruction (the last test case of this file).
    CHECK(peak_sram(parse_arch(name)) == plan_for_budget(g, PlanOptions{}, 0).arena_bytes);
    CHECK(peak_sram(parse_arch(name)) <= plan.arena_bytes);
    CHECK(flash_bytes(parse_arch(name)) == constant_bytes(g));
  }
}

TEST_CASE("planner: scratch buffers are planned for convolutions and in-place depthwise only") {
  const Graph g = lower_arch(tiny_bench());
  const MemoryPlan plan = plan_memory(g);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    INFO(g.layers[i].name);
    CHECK((plan.scratch_size[i] > 0) == (g.layers[i].kind == LayerKind::Conv || plan.in_place[i]));
    CHECK((plan.scratch_offset[i] >= 0) == (plan.scratch_size[i] > 0));
  }
  // stem 3x3 on 1 channel: the SIMD kernel's im2col of two pixels, 2 x 9 int16.
  CHECK(plan.scratch_size[0] == 36);
  // The exporter's step for the packed conv kernel: its larger scratch (stem: 5 x 12 int16, the
  // depth 9 padded to 12) on every conv layer when the arena grows by at most 1 % (tiny-bench:
  // it does), else only where the arena does not grow (an SRAM budget of exactly the plan).
  const MemoryPlan packed = with_packed_conv(g, plan, PlanStrategy::Best);
  CHECK(packed.arena_bytes <= plan.arena_bytes + plan.arena_bytes / 100);
  const MemoryPlan tight = with_packed_conv(g, plan, PlanStrategy::Best, plan.arena_bytes);
  CHECK(tight.arena_bytes <= plan.arena_bytes);
  CHECK(std::count(tight.packed_conv.begin(), tight.packed_conv.end(), 1) <=
        std::count(packed.packed_conv.begin(), packed.packed_conv.end(), 1));
  int packed_layers = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    INFO(g.layers[i].name);
    CHECK((packed.packed_conv[i] == 0 || g.layers[i].kind == LayerKind::Conv));
    CHECK(packed.scratch_size[i] == scratch_bytes(g, g.layers[i], packed.in_place[i] != 0, packed.packed_conv[i] != 0));
    packed_layers += packed.packed_conv[i];
  }
  CHECK(packed_layers == std::count_if(g.layers.begin(), g.layers.end(),
                                       [](const Layer& l) { return l.kind == LayerKind::Conv; }));
  CHECK(packed.packed_conv[0] == 1);
  CHECK(packed.scratch_size[0] == 120);
}

TEST_CASE("flash estimate counts int8 weights and 12 bytes per output channel") {
  // tiny-bench: stem 8*1*9, ds(8->16): 8*9 + 16*8, ds(16->32): 16*9 + 32*16,
  // ds(32->32): 32*9 + 32*32, ds(32->64): 32*9 + 64*32, classifier 10*64.
  const int64_t weights = 72 + 72 + 128 + 144 + 512 + 288 + 1024 + 288 + 2048 + 640;
  const int64_t channels = 8 + 8 + 16 + 16 + 32 + 32 + 32 + 32 + 64 + 10;
  CHECK(flash_bytes(tiny_bench()) == weights + 12 * channels);
}

TEST_CASE("planner: in-place depthwise aliases a dying input and lowers the reference peaks") {
  for (const char* name : {"tiny-bench", "mbv2-bench", "mobilenetv2"}) {
    INFO(name);
    const Graph g = lower_arch(parse_arch(name));
    const MemoryPlan on = plan_memory(g);
    const MemoryPlan off = plan_memory(g, PlanOptions{PlanStrategy::Best, false});
    int aliased = 0;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const Layer& l = g.layers[i];
      CHECK((off.in_place[i] == 0));
      if (l.kind != LayerKind::Depthwise) continue;  // elementwise layers: the test below
      if (!on.in_place[i]) {
        CHECK(on.tensor_offset[static_cast<size_t>(l.input)] != on.tensor_offset[static_cast<size_t>(l.output)]);
        continue;
      }
      ++aliased;
      CHECK(on.tensor_offset[static_cast<size_t>(l.input)] == on.tensor_offset[static_cast<size_t>(l.output)]);
      CHECK(on.scratch_size[i] == g.tensors[static_cast<size_t>(l.input)].h * g.tensors[static_cast<size_t>(l.input)].w);
      // The input is read by no later layer.
      for (size_t j = i + 1; j < g.layers.size(); ++j)
        CHECK((g.layers[j].input != l.input && g.layers[j].input2 != l.input));
    }
    CHECK(on.arena_bytes <= off.arena_bytes);
    CHECK(on.arena_bytes >= on.max_live_bytes);
    if (std::string(name) != "tiny-bench") {  // tiny-bench's peak is no depthwise: kept out of place
      CHECK(aliased > 0);
      CHECK(on.arena_bytes < off.arena_bytes);
    }
    MESSAGE(name << ": peak SRAM " << on.arena_bytes << " B in place, " << off.arena_bytes << " B without ("
                 << static_cast<double>(on.arena_bytes) / static_cast<double>(off.arena_bytes) << "x); live lower bound "
                 << on.max_live_bytes << " B vs " << off.max_live_bytes << " B");
  }
  // mbv2-bench: 479,232 B out of place (the figure) -> 322,560 B.
  CHECK(plan_memory(lower_arch(parse_arch("mbv2-bench")), PlanOptions{PlanStrategy::Best, false}).arena_bytes == 479232);
  CHECK(plan_memory(lower_arch(parse_arch("mbv2-bench"))).arena_bytes <= 322560);
}

TEST_CASE("planner: in-place 1x1 convs overlap their input as conv2d_1x1_inplace_s8 requires") {
  // (mobilenetv2's peak, at 224x224, is no layer an in-place 1x1 conv helps: kept as it is.)
  for (const char* name : {"tiny-bench", "mbv2-bench"}) {
    INFO(name);
    const Graph g = lower_arch(parse_arch(name));
    const MemoryPlan all = plan_smallest(g, PlanOptions{});
    const MemoryPlan dw = plan_memory(g);
    CHECK(all.arena_bytes < dw.arena_bytes);
    CHECK(all.arena_bytes >= all.max_live_bytes);
    int convs = 0;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const Layer& l = g.layers[i];
      if (!all.in_place[i] || l.kind != LayerKind::Conv) continue;
      ++convs;
      const Shape3& in = g.tensors[static_cast<size_t>(l.input)];
      const Shape3& out = g.tensors[static_cast<size_t>(l.output)];
      CHECK((l.kernel.h == 1 && l.kernel.w == 1 && l.stride.h == 1 && l.padding.h == 0));
      const int64_t x = all.tensor_offset[static_cast<size_t>(l.input)];
      const int64_t y = all.tensor_offset[static_cast<size_t>(l.output)];
      const int64_t n = in.h * in.w;
      // The kernel's rule at the first and last strip end (conv2d_1x1_inplace_s8.h), and the
      // two tensors do overlap.
      const int64_t first = std::min<int64_t>(kInPlaceConvStrip, n);
      CHECK(y + first * out.c <= x + first * in.c);
      CHECK(y + n * out.c <= x + n * in.c);
      CHECK(y < x + n * in.c);
      CHECK(x < y + n * out.c);
      if (out.c <= in.c) CHECK(y == x);
      if (out.c > in.c) CHECK(x + n * in.c - (y + n * out.c) < 4);  // the input at the output's tail
      CHECK(all.scratch_size[i] >= kInPlaceConvStrip * out.c);
      for (size_t j = i + 1; j < g.layers.size(); ++j)
        CHECK((g.layers[j].input != l.input && g.layers[j].input2 != l.input));
    }
    CHECK(convs > 0);
    // Only under a budget: the default plan keeps its convs out of place.
    for (size_t i = 0; i < g.layers.size(); ++i)
      CHECK((!dw.in_place[i] || g.layers[i].kind != LayerKind::Conv));
    CHECK(plan_for_budget(g, PlanOptions{}, all.arena_bytes).arena_bytes <= all.arena_bytes);
    MESSAGE(name << ": " << all.arena_bytes << " B with in-place 1x1 convs and depthwise, " << dw.arena_bytes
                 << " B with in-place depthwise only");
  }
  // The goal: mbv2-bench <= 0.6 x 479,232 B without patching.
  CHECK(plan_smallest(lower_arch(parse_arch("mbv2-bench")), PlanOptions{}).arena_bytes <= 479232 * 6 / 10);
  const MemoryPlan off = plan_smallest(lower_arch(parse_arch("mbv2-bench")), PlanOptions{PlanStrategy::Best, false});
  CHECK(std::count(off.in_place.begin(), off.in_place.end(), 1) == 0);  // --no-in-place
}

TEST_CASE("place_buffers: a group is placed as one piece at its members' deltas") {
  // b (delta 8) in a's group, both alive at step 1; c, alive at step 1, avoids both.
  const std::vector<Buffer> buffers{{100, 0, 1}, {100, 1, 2, 0, 8}, {40, 1, 1}};
  const BufferPlacement p = place_buffers(buffers, PlanStrategy::FirstFit);
  CHECK(p.offsets[1] == p.offsets[0] + 8);
  CHECK((p.offsets[2] >= p.offsets[1] + 100 || p.offsets[2] + 40 <= p.offsets[0]));
  CHECK(p.arena_bytes == 148);
  CHECK_THROWS(place_buffers({{10, 0, 1}, {10, 0, 1, 2, 0}, {10, 0, 1, 1, 0}}, PlanStrategy::FirstFit));
}

TEST_CASE("planner: elementwise layers write over a dying input of their shape when that lowers the arena") {
  // mbv2-bench (residual adds): 322,560 -> 295,296 B in the default plan; mobilenetv3-small
  // (hard-swish, SE channel multiply, adds): 73,728 -> 64,620 B. Elsewhere the arena stays.
  for (const char* name : {"tiny-bench", "mbv2-bench", "mobilenetv3-small", "resnet8"}) {
    INFO(std::string(name));
    const Graph g = lower_arch(parse_arch(name));
    PlanOptions without;
    without.in_place_elementwise = false;
    const MemoryPlan on = plan_memory(g), off = plan_memory(g, without);
    CHECK(on.arena_bytes <= off.arena_bytes);
    CHECK(plan_smallest(g, PlanOptions{}).arena_bytes <= plan_smallest(g, without).arena_bytes);
    // Under a budget: every budget the plans without meet, the plans with meet too.
    for (int64_t budget : {off.arena_bytes - 4, on.arena_bytes, on.arena_bytes / 2}) {
      const int64_t with_ew = plan_for_budget(g, PlanOptions{}, budget).arena_bytes;
      const int64_t without_ew = plan_for_budget(g, without, budget).arena_bytes;
      CHECK((with_ew <= budget || without_ew > budget));
    }
    int aliased = 0;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const Layer& l = g.layers[i];
      CHECK((off.in_place[i] == 0 || l.kind == LayerKind::Depthwise));
      if (!on.in_place[i] || l.kind == LayerKind::Depthwise) continue;
      ++aliased;
      CHECK((l.kind == LayerKind::Add || l.kind == LayerKind::Hardswish || l.kind == LayerKind::ChannelMul ||
             l.kind == LayerKind::Mul));
      CHECK(on.scratch_size[i] == 0);
      // The output starts where an input of its shape starts; that input is read by no later layer.
      const int64_t y = on.tensor_offset[static_cast<size_t>(l.output)];
      int over = -1;
      for (int t : {l.input, l.input2})
        if (t >= 0 && on.tensor_offset[static_cast<size_t>(t)] == y && g.tensors[static_cast<size_t>(t)] == g.tensors[static_cast<size_t>(l.output)])
          over = t;
      REQUIRE(over >= 0);
      for (size_t j = i + 1; j < g.layers.size(); ++j)
        CHECK((g.layers[j].input != over && g.layers[j].input2 != over));
    }
    const std::string n = name;
    if (n == "mbv2-bench" || n == "mobilenetv3-small") {
      CHECK(aliased > 0);
      CHECK(on.arena_bytes < off.arena_bytes);
    }
    if (n == "mbv2-bench") CHECK((off.arena_bytes == 322560 && on.arena_bytes == 295296));
    if (n == "mobilenetv3-small") CHECK((off.arena_bytes == 73728 && on.arena_bytes == 64620));
    MESSAGE(name << ": " << on.arena_bytes << " B with in-place elementwise layers, " << off.arena_bytes << " B without");
  }
  // --no-in-place turns every kind off.
  const MemoryPlan none = plan_memory(lower_arch(parse_arch("mbv2-bench")), PlanOptions{PlanStrategy::Best, false});
  CHECK(std::count(none.in_place.begin(), none.in_place.end(), 1) == 0);
}

TEST_CASE("planner: an elementwise layer never writes over an input a later layer still reads") {
  // x -> conv 1x1 -> a -> hard-swish -> h -> add(h, a) -> y -> pool -> classifier: a outlives the
  // hard-swish (the add reads it), so only the add may run in place (over a, its residual input).
  Graph g;
  g.tensors = {{8, 6, 6}, {8, 6, 6}, {8, 6, 6}, {8, 6, 6}, {8, 1, 1}, {4, 1, 1}};
  const auto layer = [](LayerKind kind, const char* name, int input, int input2, int output) {
    Layer l;
    l.kind = kind;
    l.name = name;
    l.input = input;
    l.input2 = input2;
    l.output = output;
    l.kernel = Size2(1);
    l.stride = Size2(1);
    return l;
  };
  g.layers = {layer(LayerKind::Conv, "conv", 0, -1, 1), layer(LayerKind::Hardswish, "hswish", 1, -1, 2),
              layer(LayerKind::Add, "add", 2, 1, 3), layer(LayerKind::GlobalAvgPool, "pool", 3, -1, 4),
              layer(LayerKind::FullyConnected, "classifier", 4, -1, 5)};
  PlanOptions always;
  always.in_place_only_if_smaller = false;
  const MemoryPlan plan = plan_memory(g, always);
  CHECK(plan.in_place[1] == 0);
  CHECK(plan.tensor_offset[2] != plan.tensor_offset[1]);
  CHECK(plan.in_place[2] == 1);
  CHECK(plan.tensor_offset[3] == plan.tensor_offset[1]);
}

namespace {
// The kernel every layer runs as the export plans it (with_packed_conv): in place or not for a
// depthwise / 1x1 conv, packed or not for a conv. Elementwise layers run one kernel either way.
std::vector<int> kernel_choices(const Graph& g, const MemoryPlan& plan) {
  const MemoryPlan packed = with_packed_conv(g, plan, PlanStrategy::Best);
  std::vector<int> kernels;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const LayerKind k = g.layers[i].kind;
    const bool elementwise = k == LayerKind::Add || k == LayerKind::Hardswish || k == LayerKind::ChannelMul ||
                             k == LayerKind::Mul;
    kernels.push_back(elementwise ? 0 : 1 + 2 * packed.in_place[i] + 4 * packed.packed_conv[i]);
  }
  return kernels;
}
}  // namespace

TEST_CASE("planner: without a budget, elementwise layers run in place only where no kernel changes") {
  // The default plan (plan_for_budget, no budget) against the speed-first plan (elementwise out of
  // place, as before): the same kernel on every other layer, the export's arena (packed scratch
  // included) no larger. mbv2-bench and mobilenetv3-small gain (docs/memory.md).
  PlanOptions off;
  off.in_place_elementwise = false;
  const auto check = [&](const ArchSpec& spec, int& smaller) {
    const Graph g = lower_arch(spec);
    const MemoryPlan speed = plan_memory(g, off), chosen = plan_for_budget(g, PlanOptions{}, 0);
    CHECK(kernel_choices(g, chosen) == kernel_choices(g, speed));
    const int64_t a = with_packed_conv(g, chosen, PlanStrategy::Best).arena_bytes;
    const int64_t b = with_packed_conv(g, speed, PlanStrategy::Best).arena_bytes;
    CHECK(a <= b);
    smaller += a < b;
    return a;
  };
  int smaller = 0;
  for (const char* name : {"mbv2-bench", "mobilenetv3-small"}) {
    INFO(std::string(name));
    const int before = smaller;
    check(parse_arch(name), smaller);
    CHECK(smaller == before + 1);
  }
  // Random MobileNetV3-style networks (hard-swish, SE, residual adds): where the plan with every
  // elementwise layer in place (the budget tiers' choice) would change a kernel, the default
  // plan must not follow it.
  search::SpaceOptions space;
  space.int8_block_kinds_only = true;
  space.ir_options = true;
  space.activation = Activation::Hardswish;
  space.max_blocks = 6;
  Rng rng(21);
  int changed = 0, drawn = 0;
  smaller = 0;
  for (int n = 0; n < 60; ++n) {
    const ArchSpec spec = parse_blocks(search::make_search_space("blocks", space)->sample(rng).text);
    if (!int8_problems(spec).empty()) continue;
    ++drawn;
    INFO(to_text(spec));
    const Graph g = lower_arch(spec);
    changed += kernel_choices(g, plan_memory(g)) != kernel_choices(g, plan_memory(g, off));
    check(spec, smaller);
  }
  MESSAGE(drawn << " networks: " << smaller << " smaller arenas, " << changed
                << " where every elementwise layer in place would change a kernel");
  CHECK(changed > 0);
  CHECK(smaller > 0);
}
