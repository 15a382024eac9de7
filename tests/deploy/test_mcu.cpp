// MCU tests: the exported model runs under qemu-system-arm on every Cortex-M target of
// nas/deploy/mcu_target.h through check_mcu (the code behind `piconas verify --target`) and
// must write exactly the host executor's bytes, with instructions per inference and per layer.
// The per-board SysTick factors are re-measured with nas/deploy/mcu/calibrate.c.
// Registered as the ctest `deploy_mcu` only when arm-none-eabi-gcc and qemu-system-arm exist
// (the cases are skipped in the plain host run).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/dataset.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/export.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/mcu_target.h"
#include "nas/deploy/verify.h"
#include "nas/search/cost_model.h"
#include "nas/search/search.h"
#include "nas/search/search_space.h"

#if defined(PICONAS_ARM_GCC) && defined(PICONAS_QEMU_ARM) && defined(PICONAS_ARM_SIZE)

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

// A small residual network (stem, depthwise-separable block, two inverted residual blocks, one
// with a residual add) whose arena fits the micro:bit's 16 KB of RAM.
const char* kSmallArch = "blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ds:k3s1c16|ir:k3e2s2c16|"
                         "ir:k3e2s1c16|head=0";

// The first n Fashion-MNIST test images when the dataset is installed, else synthetic ones.
Tensor test_images(const ArchSpec& spec, const data::Normalization& norm, int64_t n) {
  if (spec.input.c == 1 && spec.input.h == 28 &&
      std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    data::DatasetSpec ds;
    ds.split = data::Split::Test;
    return normalized_images(data::load_dataset(ds), norm, n);
  }
  return synthetic_images(spec.input, n, 77, norm);
}

struct McuRun {
  TargetCheck check;
  int64_t arena = 0, layers = 0, in_place_layers = 0, patched_layers = 0;
  int64_t in_place_convs = 0;  // 1x1 convs among the in-place layers
  int64_t in_place_adds = 0;   // residual adds among them
  size_t add_layer = 0;        // the last residual add
  bool identical_to_whole = false;  // the host's logits equal those of the whole-tensor plan
};

McuRun run_on(McuTarget target, const std::string& arch, int64_t batch, const PlanOptions& plan_options = {},
              int64_t max_sram = 0) {
  TempDir dir;
  const ArchSpec spec = parse_arch(arch);
  auto net = make_model(spec, 13);
  const auto norm = fashion_normalization();
  const Graph g = lower_network(spec, *net);
  const QuantizedModel q = quantize_graph(g, synthetic_images(spec.input, 32, 5, norm), norm);
  // As the exporter plans: the packed conv kernel where its scratch fits (planner.h). Without a
  // budget the options' own plan (plan_for_budget would keep elementwise layers out of place).
  const MemoryPlan plan = with_packed_conv(
      g, max_sram > 0 ? plan_for_budget(g, plan_options, max_sram) : plan_memory(g, plan_options),
      plan_options.strategy);
  const auto input = to_nhwc_int8(q.tensors[0], test_images(spec, norm, batch));
  McuRun r;
  r.in_place_layers = std::count(plan.in_place.begin(), plan.in_place.end(), 1);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    r.in_place_convs += plan.in_place[i] && g.layers[i].kind == LayerKind::Conv;
    r.in_place_adds += plan.in_place[i] && g.layers[i].kind == LayerKind::Add;
    if (g.layers[i].kind == LayerKind::Add) r.add_layer = i;
  }
  r.patched_layers = plan.patch.layers;
  const std::vector<int8_t> expected = run_int8(q, plan, input.data(), batch);
  r.identical_to_whole = expected == run_int8(q, plan_memory(g, PlanOptions{}), input.data(), batch);
  EmitOptions o;
  o.arch_text = arch;
  o.input_lut = input_lut(q.tensors[0], norm);
  r.arena = emit_c(q, plan, o, dir.str() + "/export").peak_sram;
  r.layers = static_cast<int64_t>(q.layers.size());
  r.check = check_mcu(target, dir.str() + "/export", dir.str() + "/work", input, expected, batch);
  return r;
}

// Byte-identical logits, every layer timed, the layers adding up to the inference.
void check_run(McuTarget target, const std::string& what, const McuRun& r, int64_t batch) {
  const TargetCheck& c = r.check;
  REQUIRE_MESSAGE(c.ran, c.skipped);
  CHECK(c.images == batch);
  CHECK(c.matching == batch);
  CHECK(c.identical);
  CHECK(c.instructions_per_tick == mcu_board(target).instructions_per_tick);
  REQUIRE(static_cast<int64_t>(c.layer_instructions.size()) == r.layers);
  double sum = 0;
  for (double l : c.layer_instructions) {
    CHECK(l > 0);
    sum += l;
  }
  // The hooks and the input / output copies lie outside the layers; one tick of rounding per layer.
  CHECK(sum <= c.instructions_per_inference + c.instructions_per_tick * static_cast<double>(r.layers));
  CHECK(sum >= 0.9 * c.instructions_per_inference);
  CHECK(c.ram_bytes >= r.arena);
  CHECK(c.ram_bytes <= mcu_board(target).ram_bytes - 2048);
  MESSAGE(c.target << " " << what << ": flash " << c.flash_bytes << " B, RAM " << c.ram_bytes << " B (arena "
                   << r.arena << " B); " << static_cast<int64_t>(c.instructions_per_inference)
                   << " instructions per inference (mean of " << c.images << " images, " << c.instructions_per_tick
                   << " per SysTick tick)");
}

}  // namespace

TEST_SUITE("mcu" * doctest::skip()) {
  TEST_CASE("every board's instructions per SysTick tick is the committed, measured factor") {
    const std::string mcu = PICONAS_MCU_DIR;
    for (McuTarget target : mcu_targets()) {
      const McuBoard& b = mcu_board(target);
      CAPTURE(std::string(b.name));
      TempDir dir;
      std::string log;
      const std::string compile = "cd " + dir.str() + " && " + PICONAS_ARM_GCC + " " + b.gcc_flags +
                                  " -std=c99 -Wall -Wextra -Werror -O2 -nostdlib -I" + mcu + " -L" + mcu + " -T " +
                                  b.linker_script + " " + mcu + "/startup.c " + mcu + "/calibrate.c -lgcc -o cal.elf";
      REQUIRE_MESSAGE(run_command(compile, &log) == 0, compile << "\n" << log);
      const std::string qemu = "cd " + dir.str() + " && timeout 60 " + PICONAS_QEMU_ARM + " " + b.qemu_args +
                               " -nographic -monitor none -semihosting-config enable=on,target=native"
                               " -icount shift=0 -kernel cal.elf";
      REQUIRE_MESSAGE(run_command(qemu, &log) == 0, qemu << "\n" << log);
      long long instructions = 0, ticks = 0;
      REQUIRE_MESSAGE(std::sscanf(log.c_str(), "loop instructions %lld ticks %lld", &instructions, &ticks) == 2, log);
      REQUIRE(ticks > 0);
      CHECK(instructions == 4000000);
      CHECK(static_cast<double>(instructions) / static_cast<double>(ticks) == b.instructions_per_tick);
    }
  }

  TEST_CASE("Cortex-M4 (mps2-an386): tiny-bench on Fashion-MNIST images, byte-identical to the host") {
    const McuRun r = run_on(McuTarget::CortexM4, to_text(tiny_bench()), 8);
    check_run(McuTarget::CortexM4, "tiny-bench", r, 8);
  }

  TEST_CASE("the small residual network is byte-identical to the host on every target") {
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun r = run_on(target, kSmallArch, 8);
      check_run(target, "small residual net", r, 8);
    }
  }

  TEST_CASE("graph network with max / average pools, a grouped conv and a flattened classifier") {
    // As tests/deploy/test_graph_int8.cpp: the pool kernels and the grouped conv kernel
    // (piconas_conv2d_grouped_s8) give the host executor's bytes on every target.
    const char* arch = testing::kPoolGraphArch;
    const Graph g = lower_arch(parse_arch(arch));
    const MemoryPlan plan = with_packed_conv(g, plan_memory(g), PlanOptions{}.strategy);
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun r = run_on(target, arch, 8);
      check_run(target, "pool graph net", r, 8);
      // Layer 2, g1: 8 -> 8 channels in 2 groups, 3x3 on 8x8; the latency model prices it as
      // twice the 4 -> 4 conv (docs/latency.md).
      REQUIRE(g.layers[2].groups == 2);
      REQUIRE(r.check.layer_instructions.size() == g.layers.size());
      const double measured = r.check.layer_instructions[2];
      if (!builtin_latency_table().calibrated(target)) continue;
      const double predicted = estimate_latency(g, plan, target).layers[2].instructions;
      MESSAGE(std::string(mcu_board(target).name)
              << ": grouped conv g1 " << measured << " instructions, predicted " << predicted
              << " (" << (predicted / measured - 1) * 100 << " %)");
    }
  }

  TEST_CASE("graph network with elementwise and pixel-gate muls, out of place and in place") {
    // tests/deploy/test_graph_mul_int8.cpp on the MCU: piconas_mul_s8 and piconas_pixel_mul_s8
    // give the host executor's bytes on every target, also writing over a dying input.
    PlanOptions always;
    always.in_place_only_if_smaller = false;
    PlanOptions never;
    never.in_place_elementwise = false;
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun apart = run_on(target, testing::kGatedGraphArch, 8, never);
      CHECK(apart.in_place_layers == 0);
      check_run(target, "gated graph net", apart, 8);
      // Layers 2 and 4: the elementwise and the pixel-gate mul, 8x6x6 outputs each (the
      // latency model's mul rows: docs/latency.md).
      REQUIRE(apart.check.layer_instructions.size() == 8);
      MESSAGE(std::string(mcu_board(target).name) << ": mul " << apart.check.layer_instructions[2]
                                     << " instructions, pixel-gate mul "
                                     << apart.check.layer_instructions[4] << " (288 elements)");
      const McuRun over = run_on(target, testing::kGatedGraphArch, 8, always);
      CHECK(over.in_place_layers == 3);  // both muls and the add
      CHECK(over.identical_to_whole);
      check_run(target, "gated graph net, muls and add in place", over, 8);
    }
  }

  TEST_CASE("graph network with sigmoid gates (Logistic tables), out of place and in place") {
    // tests/deploy/test_graph_sigmoid_int8.cpp on the MCU: the emitted logistic tables and
    // piconas_logistic_s8 give the host executor's bytes on every target, also over a dying input.
    PlanOptions always;
    always.in_place_only_if_smaller = false;
    PlanOptions never;
    never.in_place_elementwise = false;
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun apart = run_on(target, testing::kSigmoidGraphArch, 8, never);
      CHECK(apart.in_place_layers == 0);
      check_run(target, "sigmoid graph net", apart, 8);
      // Layers 2, 5 and 10: the logistic lookups of 288, 36 and 8 elements.
      REQUIRE(apart.check.layer_instructions.size() == 15);
      MESSAGE(std::string(mcu_board(target).name)
              << ": logistic " << apart.check.layer_instructions[2] << " / "
              << apart.check.layer_instructions[5] << " / " << apart.check.layer_instructions[10]
              << " instructions (288 / 36 / 8 elements)");
      const McuRun over = run_on(target, testing::kSigmoidGraphArch, 8, always);
      CHECK(over.in_place_layers >= 3);  // the three lookups, and muls / the add
      CHECK(over.identical_to_whole);
      check_run(target, "sigmoid graph net, elementwise layers in place", over, 8);
    }
  }

  TEST_CASE("in-place depthwise and add: byte-identical to the host on every target, and out of place") {
    PlanOptions always;
    always.in_place_only_if_smaller = false;
    PlanOptions never;
    never.in_place_depthwise = false;
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun in_place = run_on(target, kSmallArch, 4, always);
      CHECK(in_place.in_place_layers == 4);  // three depthwise layers and the residual add
      CHECK(in_place.in_place_adds == 1);
      CHECK(in_place.identical_to_whole);
      check_run(target, "small residual net, in-place depthwise and add", in_place, 4);
      // The in-place add runs the same kernel on the same bytes: its instructions are those of
      // the add out of place, to the timer's resolution (the layers' other arena offsets differ,
      // so their immediates do: the totals may differ by a few instructions).
      PlanOptions add_apart = always;
      add_apart.in_place_elementwise = false;
      const McuRun apart = run_on(target, kSmallArch, 4, add_apart);
      CHECK(apart.in_place_adds == 0);
      check_run(target, "small residual net, in-place depthwise, add out of place", apart, 4);
      const double tick = mcu_board(target).instructions_per_tick;
      REQUIRE(apart.add_layer == in_place.add_layer);
      const double add_in_place = in_place.check.layer_instructions[in_place.add_layer];
      const double add_apart_count = apart.check.layer_instructions[apart.add_layer];
      CHECK(std::abs(add_in_place - add_apart_count) <= tick);
      CHECK(std::abs(in_place.check.instructions_per_inference - apart.check.instructions_per_inference) <= tick);
      MESSAGE(std::string(mcu_board(target).name) << ": residual add " << add_in_place << " instructions in place, "
                                     << add_apart_count << " out of place");
      const McuRun out_of_place = run_on(target, kSmallArch, 4, never);
      CHECK(out_of_place.in_place_layers == 0);
      check_run(target, "small residual net, out-of-place depthwise", out_of_place, 4);
    }
  }

  TEST_CASE("in-place 1x1 conv and depthwise: byte-identical to the host and to out of place on every target") {
    // An SRAM budget below every plan, patching off: the smallest, with every in-place kind
    // (planner.h).
    PlanOptions unpatched;
    unpatched.patch_if_needed = false;
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun r = run_on(target, kSmallArch, 4, unpatched, 1);
      CHECK(r.in_place_convs >= 3);
      CHECK(r.in_place_layers > r.in_place_convs);
      CHECK(r.identical_to_whole);  // the host executor: the same logits as the default plan
      check_run(target, "small residual net, in-place 1x1 conv and depthwise", r, 4);
    }
  }

  TEST_CASE("patch-based execution: byte-identical to the host and to whole-tensor execution on every target") {
    PlanOptions patched;  // every layer before the pooling (the residual add too), 2x3 patches
    patched.patch = PatchOptions{10, 2, 3};
    for (McuTarget target : mcu_targets()) {
      CAPTURE(std::string(mcu_board(target).name));
      const McuRun r = run_on(target, kSmallArch, 4, patched);
      CHECK(r.patched_layers == 10);
      CHECK(r.identical_to_whole);
      check_run(target, "small residual net, patched", r, 4);
    }
  }

  TEST_CASE("a search under a latency budget returns only networks measured within it") {
    // The budget is the median guarded prediction (latency.h, budget_instructions) of random
    // draws, so about half the space is refused; the score prefers more MACs, so the search
    // returns networks near the budget's edge. Each returned network, exported as the exporter
    // plans it, measures (instructions / MHz) within the budget: the held-out margin covers the
    // model's under-prediction.
    const McuTarget target = McuTarget::CortexM4;
    const double mhz = 120;
    search::SpaceOptions so;
    so.int8_block_kinds_only = true;
    so.max_blocks = 5;
    const auto space = search::make_search_space("blocks", so);
    Rng rng(21);
    std::vector<double> guarded_ms;
    for (int i = 0; i < 24; ++i) {
      const search::CostEstimate cost = space->cost(space->sample(rng));
      guarded_ms.push_back(latency_ms(
          budget_instructions(cost.mcu_instructions[static_cast<size_t>(target)], target), mhz));
    }
    std::nth_element(guarded_ms.begin(), guarded_ms.begin() + 12, guarded_ms.end());
    search::SearchSettings s;
    s.population = 8;
    s.sample_size = 3;
    s.steps = 12;
    s.seed = 5;
    s.top_k = 3;
    s.metrics = {{"naswot", 1.0}, {"logsynflow", 1.0}};
    s.constraints.max_latency_ms = guarded_ms[12];
    s.constraints.mcu_mhz = mhz;
    s.constraints.latency_target = target;
    const search::SearchResult r =
        run_search(*space, s, [&](const search::Candidate& c) -> search::MetricValues {
          const search::CostEstimate cost = space->cost(c);
          return {{"naswot", std::log1p(static_cast<double>(cost.macs))},
                  {"logsynflow", std::log1p(static_cast<double>(cost.params))}};
        });
    int64_t refused_for_latency = 0;
    for (const search::HistoryEntry& e : r.state.history)
      for (const std::string& v : search::constraint_violations(e.cost, s.constraints))
        refused_for_latency += v.rfind("latency_ms", 0) == 0;
    CHECK(refused_for_latency > 0);
    REQUIRE(r.top.size() == 3);
    for (int64_t index : r.top) {
      const search::HistoryEntry& e = r.state.history[static_cast<size_t>(index)];
      REQUIRE(e.feasible);
      const McuRun run = run_on(target, e.candidate.text, 1);
      check_run(target, "search winner under a latency budget", run, 1);
      const double measured_ms = latency_ms(run.check.instructions_per_inference, mhz);
      const double predicted = e.cost.mcu_instructions[static_cast<size_t>(target)];
      MESSAGE(e.candidate.text << ": predicted " << latency_ms(predicted, mhz) << " ms, guarded "
                               << latency_ms(budget_instructions(predicted, target), mhz)
                               << " ms, measured " << measured_ms << " ms, budget "
                               << s.constraints.max_latency_ms << " ms");
      // Admitted on the guarded prediction, which holds the measurement: so any budget the
      // search admits a network under is met on the (simulated) board.
      const double guarded_ms = latency_ms(budget_instructions(predicted, target), mhz);
      CHECK(guarded_ms <= s.constraints.max_latency_ms);
      CHECK(run.check.instructions_per_inference <= budget_instructions(predicted, target));
      CHECK(measured_ms <= s.constraints.max_latency_ms);
    }
  }

  TEST_CASE("emitted model compiles for Cortex-M33 with -Werror") {
    TempDir dir;
    const ArchSpec spec = parse_arch(kSmallArch);
    auto net = make_model(spec, 1);
    const auto norm = fashion_normalization();
    const Graph g = lower_network(spec, *net);
    const QuantizedModel q = quantize_graph(g, synthetic_images(spec.input, 8, 5, norm), norm);
    emit_c(q, plan_memory(g), EmitOptions{}, dir.str());
    std::string log;
    const std::string cmd = "cd " + dir.str() + " && " + PICONAS_ARM_GCC +
                            " -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -std=c99 -Wall"
                            " -Wextra -Werror -pedantic -O2 -I. -c model.c piconas_runtime/*.c";
    CHECK_MESSAGE(run_command(cmd, &log) == 0, log);
  }
}

#endif
