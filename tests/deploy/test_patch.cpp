// Patch-based execution of the leading layers (nas/deploy/patch.h): geometry, memory and logits
// byte-identical to whole-tensor execution on the host executor and in the emitted C.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "deploy/deploy_helpers.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/patch.h"
#include "nas/deploy/planner.h"
#include "nas/search/cost_model.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

// Inverted residual blocks with and without residual adds, a stride-2 5x5 depthwise and a
// depthwise-separable block: stages ending inside and after residual blocks.
const char* kResidualNet =
    "blocks:in=3x20x20,classes=5,act=relu6,stem=8k3s2|ir:k3e3s1c8|ir:k5e2s2c12|"
    "ir:k3e2s1c12|ds:k3s1c16|head=0";
// Basic blocks with projection shortcuts (a 1x1 stride-2 conv reads a narrower window than the
// 3x3 beside it: copied windows inside the stage).
const char* kTinyResNet =
    "blocks:in=3x12x12,classes=4,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s2c16|head=0";

struct Model {
  Graph graph;
  QuantizedModel q;
  std::vector<int8_t> input;
  int64_t batch = 0;
};

Model make(const char* arch, int64_t batch, uint64_t seed) {
  const ArchSpec spec = parse_arch(arch);
  auto net = make_model(spec, seed);
  const auto norm = fashion_normalization(static_cast<int>(spec.input.c));
  Model m;
  m.graph = lower_network(spec, *net);
  m.q = quantize_graph(m.graph, synthetic_images(spec.input, 16, seed + 1, norm), norm);
  m.input = to_nhwc_int8(m.q.tensors[0], synthetic_images(spec.input, batch, seed + 2, norm));
  m.batch = batch;
  return m;
}

PlanOptions patched(int layers, int grid_h, int grid_w) {
  PlanOptions o;
  o.patch = PatchOptions{layers, grid_h, grid_w};
  return o;
}

}  // namespace

TEST_CASE("patching: the cells tile the stage output and every window lies in its stored region") {
  const Graph g = lower_arch(parse_arch("mbv2-bench"));
  const std::vector<int> valid = patchable_layers(g);
  REQUIRE(valid.size() > 5);
  CHECK(valid.front() == 1);
  for (int layers : {valid[2], valid[5]}) {
    const PatchPlan p = plan_patches(g, PatchOptions{layers, 3, 2});
    REQUIRE(p.patches() == 6);
    const Shape3& out = g.tensors[static_cast<size_t>(p.output_tensor)];
    std::vector<int> covered(static_cast<size_t>(out.h * out.w), 0);
    for (size_t k = 0; k < p.region.size(); ++k) {
      const Window& cell = p.region[k][static_cast<size_t>(p.output_tensor)];
      for (int32_t y = cell.y0; y < cell.y0 + cell.h; ++y)
        for (int32_t x = cell.x0; x < cell.x0 + cell.w; ++x)
          ++covered[static_cast<size_t>(y * out.w + x)];
      for (int i = 0; i < layers; ++i) {
        const Layer& l = g.layers[static_cast<size_t>(i)];
        const Window& w = p.input_window[k][static_cast<size_t>(i)];
        const Window& s = p.region[k][static_cast<size_t>(l.input)];
        CHECK(w.y0 >= s.y0);
        CHECK(w.x0 >= s.x0);
        CHECK(w.y0 + w.h <= s.y0 + s.h);
        CHECK(w.x0 + w.w <= s.x0 + s.w);
      }
    }
    CHECK(std::count(covered.begin(), covered.end(), 1) == static_cast<long>(covered.size()));
    CHECK(p.extra_macs > 0);
    CHECK(p.macs == graph_macs(g) + p.extra_macs);
  }
  // One patch recomputes nothing and stores every tensor whole.
  const PatchPlan one = plan_patches(g, PatchOptions{valid[3], 1, 1});
  CHECK(one.extra_macs == 0);
  for (int t = 1; t < one.output_tensor; ++t)
    CHECK(one.patch_bytes[static_cast<size_t>(t)] == g.tensor_bytes(t));
  // Hand-checked halo: the stem (3x3 s2 p1) computing output rows [0, 24) of 48 reads input rows
  // [0, 48) of 96, rows [24, 48) read [47, 96).
  const PatchPlan stem = plan_patches(g, PatchOptions{1, 2, 1});
  CHECK(stem.input_window[0][0] == Window{0, 0, 48, 96});
  CHECK(stem.input_window[1][0] == Window{47, 0, 49, 96});
  CHECK(stem.extra_macs == 0);  // the stem's own output is not recomputed
}

TEST_CASE("patching: invalid stages and grids are refused with the option named") {
  const Graph g = lower_arch(parse_arch("mbv2-bench"));
  const std::vector<int> valid = patchable_layers(g);
  // Inside a residual block (the block input is still needed by the add).
  int inside = 1;
  while (std::find(valid.begin(), valid.end(), inside) != valid.end()) ++inside;
  CHECK_THROWS_WITH_AS(plan_patches(g, PatchOptions{inside, 2, 2}),
                       doctest::Contains("--patch-layers"), Error);
  CHECK_THROWS_WITH_AS(plan_patches(g, PatchOptions{static_cast<int>(g.layers.size()), 2, 2}),
                       doctest::Contains("--patch-layers"), Error);
  CHECK_THROWS_WITH_AS(plan_patches(g, PatchOptions{1, 49, 1}), doctest::Contains("grid 49x1"),
                       Error);
  CHECK_THROWS_WITH_AS(plan_patches(g, PatchOptions{1, 0, 1}), doctest::Contains("grid 0x1"),
                       Error);
}

TEST_CASE("patching: host executor logits are byte-identical to whole-tensor execution") {
  for (const char* arch : {kResidualNet, kTinyResNet}) {
    CAPTURE(arch);
    const Model m = make(arch, 6, 31);
    const std::vector<int8_t> whole = run_int8(m.q, plan_memory(m.graph), m.input.data(), m.batch);
    const std::vector<int> valid = patchable_layers(m.graph);
    int runs = 0, copied = 0;
    for (int layers : valid) {
      const Shape3& out =
          m.graph
              .tensors[static_cast<size_t>(m.graph.layers[static_cast<size_t>(layers - 1)].output)];
      for (auto [gh, gw] : {std::pair{2, 2}, std::pair{3, 1}, std::pair{1, 3}, std::pair{4, 3}}) {
        if (gh > out.h || gw > out.w) continue;
        CAPTURE(layers);
        CAPTURE(gh);
        CAPTURE(gw);
        const MemoryPlan plan = plan_memory(m.graph, patched(layers, gh, gw));
        CHECK(plan.patch.on());
        copied += std::count(plan.patch.copy_input.begin(), plan.patch.copy_input.end(), 1) > 1;
        CHECK(run_int8(m.q, plan, m.input.data(), m.batch) == whole);
        ++runs;
      }
    }
    CHECK(runs >= 6);
    // kTinyResNet's 1x1 stride-2 shortcut reads a narrower window than the 3x3 conv beside it.
    if (arch == kTinyResNet) CHECK(copied > 0);
  }
}

TEST_CASE("patching: the emitted C reproduces the host executor byte for byte") {
  const Model m = make(kResidualNet, 8, 7);
  const std::vector<int> valid = patchable_layers(m.graph);
  REQUIRE(valid.size() >= 4);
  // A stage with a residual add (per-row add calls) and one of only the stem (no add).
  for (int layers : {valid[3], valid[0]}) {
    CAPTURE(layers);
    TempDir dir;
    const MemoryPlan plan = plan_memory(m.graph, patched(layers, 3, 2));
    const std::vector<int8_t> expected = run_int8(m.q, plan, m.input.data(), m.batch);
    CHECK(expected == run_int8(m.q, plan_memory(m.graph), m.input.data(), m.batch));
    EmitOptions o;
    o.arch_text = kResidualNet;
    emit_c(m.q, plan, o, dir.str());
    write_bytes(dir.str() + "/in.bin", m.input);
    std::ofstream(dir.str() + "/main.c")
        << "#include <stdio.h>\n#include \"model.h\"\nint main(void) {\n"
           "  FILE *in = fopen(\"in.bin\", \"rb\"), *out = fopen(\"out.bin\", \"wb\");\n"
           "  int8_t x[MODEL_INPUT_SIZE], y[MODEL_NUM_CLASSES];\n  if (!in || !out) return 1;\n"
           "  while (fread(x, 1, sizeof x, in) == sizeof x) {\n    if (model_invoke(x, y) != 0) "
           "return 2;\n"
           "    fwrite(y, 1, sizeof y, out);\n  }\n  fclose(in);\n  fclose(out);\n  return 0;\n}\n";
    std::string log;
    const std::string cmd = std::string("cd ") + dir.str() + " && " + PICONAS_TEST_CC +
                            " -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. main.c model.c "
                            "piconas_runtime/*.c -o prog"
                            " && ./prog";
    REQUIRE_MESSAGE(run_command(cmd, &log) == 0, log);
    CHECK(read_bytes(dir.str() + "/out.bin") == expected);
  }
}

TEST_CASE("patching: the reference networks' peak SRAM, and the automatic choice") {
  const Graph g = lower_arch(parse_arch("mbv2-bench"));
  const int64_t out_of_place = plan_memory(g, PlanOptions{PlanStrategy::Best, false}).arena_bytes;
  CHECK(out_of_place == 479232);
  PlanOptions automatic;
  automatic.patch_auto = true;
  const MemoryPlan plan = plan_memory(g, automatic);
  REQUIRE(plan.patch.on());
  CHECK(static_cast<double>(plan.patch.extra_macs) <= 0.2 * static_cast<double>(graph_macs(g)));
  MESSAGE("mbv2-bench patched: " << plan.arena_bytes << " B ("
                                 << static_cast<double>(plan.arena_bytes) / 479232.0
                                 << "x), layers " << plan.patch.layers << ", grid "
                                 << plan.patch.grid_h << "x" << plan.patch.grid_w << ", extra MACs "
                                 << plan.patch.extra_macs << " of " << graph_macs(g));
  CHECK(plan.arena_bytes <= 479232 / 4);
  CHECK(plan.arena_bytes >= plan.max_live_bytes);
  // No recomputation allowed: no patching with halos.
  PlanOptions exact = automatic;
  exact.max_extra_macs = 0;
  CHECK(plan_memory(g, exact).patch.extra_macs == 0);
}

TEST_CASE(
    "one memory model: the budget picks the fastest plan that fits, and the search cost agrees") {
  const ArchSpec spec = parse_arch("mbv2-bench");
  const Graph g = lower_arch(spec);
  PlanOptions all;
  all.patch_auto = true;
  const int64_t out_of_place = plan_memory(g, PlanOptions{PlanStrategy::Best, false}).arena_bytes;
  const int64_t in_place = plan_memory(g).arena_bytes;
  const int64_t patched = plan_memory(g, all).arena_bytes;
  REQUIRE(patched < in_place);
  REQUIRE(in_place < out_of_place);
  // No budget: the smallest arena the options allow.
  CHECK(plan_for_budget(g, all, 0).arena_bytes == patched);
  PlanOptions no_budget;  // no budget: elementwise layers in place only at no instruction (planner.h)
  no_budget.in_place_elementwise = false;
  CHECK(plan_for_budget(g, PlanOptions{}, 0).arena_bytes < plan_memory(g, no_budget).arena_bytes);
  CHECK(plan_for_budget(g, PlanOptions{}, 0).in_place_mode == plan_memory(g, no_budget).in_place_mode);
  CHECK(plan_memory(g, no_budget).arena_bytes > in_place);
  // A budget the out-of-place plan meets: neither in place nor patched (faster kernels).
  const MemoryPlan roomy = plan_for_budget(g, all, out_of_place);
  CHECK(roomy.arena_bytes == out_of_place);
  CHECK(!roomy.patch.on());
  CHECK(std::count(roomy.in_place.begin(), roomy.in_place.end(), 1) == 0);
  // Between: in place, not patched.
  const MemoryPlan middle = plan_for_budget(g, all, in_place);
  CHECK(!middle.patch.on());
  CHECK(std::count(middle.in_place.begin(), middle.in_place.end(), 1) > 0);
  // Below the in-place arena: only patching fits, with the fewest recomputed MACs that fit.
  const int64_t tight = (in_place + patched) / 2;
  const MemoryPlan fits = plan_for_budget(g, all, tight);
  CHECK(fits.patch.on());
  CHECK(fits.arena_bytes <= tight);
  CHECK(fits.patch.extra_macs <
        plan_memory(g, all).patch.extra_macs);  // the fastest that fits, not the smallest
  // Without patching (--patch-layers 0) the budget is missed, and the search sees the same.
  PlanOptions never;
  never.patch_if_needed = false;
  CHECK(plan_for_budget(g, never, tight).arena_bytes > tight);
  CHECK(search::estimate_cost(spec, never, tight).peak_sram > tight);
  // The default (--patch-layers if-needed) patches as 'auto' does, because the budget needs it;
  // above the unpatched arena it plans exactly as without patching.
  const MemoryPlan by_default = plan_for_budget(g, PlanOptions{}, tight);
  CHECK(by_default.patch.on());
  CHECK((by_default.patch.layers == fits.patch.layers && by_default.patch.grid_h == fits.patch.grid_h &&
         by_default.patch.grid_w == fits.patch.grid_w && by_default.arena_bytes == fits.arena_bytes));
  CHECK(search::estimate_cost(spec, PlanOptions{}, tight).peak_sram == fits.arena_bytes);
  for (int64_t roomy_budget : {in_place, out_of_place}) {
    const MemoryPlan a = plan_for_budget(g, PlanOptions{}, roomy_budget), b = plan_for_budget(g, never, roomy_budget);
    CHECK(!a.patch.on());
    CHECK((a.arena_bytes == b.arena_bytes && a.tensor_offset == b.tensor_offset && a.in_place == b.in_place));
  }
  CHECK(plan_for_budget(g, PlanOptions{}, 0).tensor_offset == plan_for_budget(g, never, 0).tensor_offset);
  const search::CostEstimate cost = search::estimate_cost(spec, all, tight);
  CHECK(cost.peak_sram == fits.arena_bytes);
  // The latency estimate is that of the patched plan: recomputed halos cost instructions (next to
  // the same kernels unpatched; the in-place plan can be slower still).
  const auto m4 = static_cast<size_t>(McuTarget::CortexM4);
  CHECK(cost.mcu_instructions[m4] ==
        doctest::Approx(estimate_latency(g, fits, McuTarget::CortexM4, builtin_latency_table(), tight)
                            .instructions));
  CHECK(cost.mcu_instructions[m4] >
        search::estimate_cost(spec, PlanOptions{}, out_of_place).mcu_instructions[m4]);
  MESSAGE("mbv2-bench under " << tight << " B: patched " << fits.patch.layers << " layers "
                              << fits.patch.grid_h << "x" << fits.patch.grid_w << ", arena "
                              << fits.arena_bytes << " B, extra MACs " << fits.patch.extra_macs);
}

TEST_CASE(
    "patching: mbv2-bench's automatic patching is byte-identical on the host and in the emitted "
    "C") {
  TempDir dir;
  const Model m = make("mbv2-bench", 1, 3);
  PlanOptions automatic;
  automatic.patch_auto = true;
  const MemoryPlan plan = plan_memory(m.graph, automatic);
  REQUIRE(plan.patch.patches() > 1);
  const std::vector<int8_t> expected = run_int8(m.q, plan, m.input.data(), m.batch);
  CHECK(expected == run_int8(m.q, plan_memory(m.graph), m.input.data(), m.batch));
  EmitOptions o;
  o.arch_text = "mbv2-bench";
  emit_c(m.q, plan, o, dir.str());
  write_bytes(dir.str() + "/in.bin", m.input);
  std::ofstream(dir.str() + "/main.c")
      << "#include <stdio.h>\n#include \"model.h\"\nstatic int8_t x[MODEL_INPUT_SIZE], "
         "y[MODEL_NUM_CLASSES];\n"
         "int main(void) {\n  FILE *in = fopen(\"in.bin\", \"rb\"), *out = fopen(\"out.bin\", "
         "\"wb\");\n"
         "  if (!in || !out) return 1;\n"
         "  while (fread(x, 1, sizeof x, in) == sizeof x) {\n    if (model_invoke(x, y) != 0) "
         "return 2;\n"
         "    fwrite(y, 1, sizeof y, out);\n  }\n  fclose(in);\n  fclose(out);\n  return 0;\n}\n";
  std::string log;
  const std::string cmd =
      std::string("cd ") + dir.str() + " && " + PICONAS_TEST_CC +
      " -std=c99 -Wall -Wextra -Werror -pedantic -O0 -I. main.c model.c piconas_runtime/*.c -o prog"
      " && ./prog";
  REQUIRE_MESSAGE(run_command(cmd, &log) == 0, log);
  CHECK(read_bytes(dir.str() + "/out.bin") == expected);
}
