// Calibration of the MCU latency model (nas/deploy/latency.h); driven by
// bench/latency_calibrate.sh, which measures, then fits and validates.
//
//   bench_latency sample COUNT SEED INPUT [TARGET|- [KIND]]
//       COUNT random int8-deployable architectures of the blocks space (seeded;
//       random stems), one text form a line; INPUT "1x28x28" or "3x32x32"; with
//       TARGET (e.g. cortex-m0), only those whose firmware fits that board (RAM
//       for arena + input + logits + a 2 KB stack, flash for the constants, as
//       piconas verify counts). KIND: default; mbv3 (hard-swish,
//       squeeze-and-excitation, own block activations, a head conv on some
//       draws); budget (each line "ARCH<TAB>FLAGS": planner flags, an SRAM
//       budget and maybe --patch-layers auto, under which the plan runs
//       in-place 1x1 convs or patches); patched (budget draws with automatic
//       patching only); tight (patched at the least arena: unpacked convs on
//       cortex-m4/m7); unpacked (patched draws whose budget leaves no room for
//       the packed scratch of a k > 1 conv, the stem: cortex-m4/m7 run it
//       through the unpacked im2col kernel); pool (graph networks with max /
//       average pools, INPUT 1x28x28); gated (graph networks with sigmoid and
//       hard-sigmoid gates: elementwise, per-pixel and squeeze-and-excitation
//       muls, logistic layers; INPUT 1x28x28).
//   bench_latency fit OUT.cpp FIT_LIST HELDOUT_LIST [HELDOUT_JSON]
//       least-squares fit (nas/deploy/latency_fit.h) per target and kernel
//       variant of the per-layer instruction counts in
//       RUN_DIR/verify-<target>/instructions.json for every RUN_DIR listed in
//       FIT_LIST (RUN_DIR/arch holds the architecture text, RUN_DIR/plan the
//       planner flags if any); writes the table source OUT.cpp, then prints
//       predicted vs measured instructions of the HELDOUT_LIST runs with the
//       error distribution per target and plan kind (Markdown); with
//       HELDOUT_JSON, also writes held-out models there (two per target and
//       plan kind, and the reference networks: tests/deploy/test_latency.cpp).
//   bench_latency validate LIST
//       the same validation of the LIST runs against the compiled table (no
//       fit).
//   bench_latency layers LIST [FIT_LIST]
//       per layer of the LIST runs: measured against the compiled table's
//       prediction (or that of a fit on the FIT_LIST runs).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/latency_fit.h"
#include "nas/deploy/mcu_target.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/search/search_space.h"

namespace {

using namespace piconas;
using namespace piconas::nas;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  PICONAS_CHECK(in.good(), "cannot read '" << path << "'");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Whether piconas verify can run spec planned with `plan` on the board: RAM for the arena, one
// input, the logits and a 2 KB stack, flash for the constants and the input
// (nas/deploy/verify.cpp).
bool fits_board(const ArchSpec& spec, const deploy::MemoryPlan& plan,
                const deploy::McuBoard& board) {
  const deploy::Graph graph = deploy::lower_arch(spec);
  const int64_t input = int64_t{spec.input.c} * spec.input.h * spec.input.w;
  return plan.arena_bytes + input + spec.num_classes + 2048 <= board.ram_bytes &&
         deploy::constant_bytes(graph) + input <= board.flash_bytes;
}

// MobileNetV3's options on a sampled architecture: hard-swish as the network's activation (most
// draws), squeeze-and-excitation and a block activation of its own on some ir blocks.
ArchSpec with_mbv3_options(ArchSpec spec, Rng& rng) {
  if (rng.uniform_int(0, 3) > 0) spec.activation = Activation::Hardswish;
  const Activation block_acts[] = {Activation::ReLU, Activation::Hardswish};
  for (BlockSpec& b : spec.blocks) {
    if (b.kind != BlockKind::InvertedResidual) continue;
    b.se = rng.uniform_int(0, 2) > 0;
    const Activation own = block_acts[rng.uniform_int(0, 1)];
    if (rng.uniform_int(0, 3) == 0 && own != spec.activation) b.activation = own;
  }
  if (rng.uniform_int(0, 2) == 0) spec.head_channels = 8 * rng.uniform_int(4, 12);
  return spec;
}

// Planner flags (those of piconas export / verify) under which spec runs
// in-place 1x1 convs or patches, or "" when the draw found none. One of: an
// SRAM budget just under the out-of-place arena (the planner's next tier:
// in-place 1x1 convs and/or depthwise), the smallest unpatched arena, or
// automatic patching under a budget below that. patched_only: always the last
// kind (the "patched" sample kind: the plans whose patched stages the model
// fits least); tightest: at the least patched arena (the "tight" kind: no room
// left for the packed conv scratch, so cortex-m4/m7 run unpacked convs).
std::string budget_flags(const ArchSpec& spec, Rng& rng, bool patched_only = false,
                         bool tightest = false) {
  using namespace deploy;
  const Graph graph = lower_arch(spec);
  const int64_t out_of_place =
      plan_memory(graph, PlanOptions{PlanStrategy::Best, false}).arena_bytes;
  const int64_t smallest = plan_smallest(graph, PlanOptions{}).arena_bytes;
  PlanOptions options;
  int64_t budget = 0;
  switch (patched_only ? 2 : rng.uniform_int(0, 2)) {
    case 0:
      budget = out_of_place - 4;
      break;
    case 1:
      budget = smallest;
      break;
    default: {
      options.patch_auto = true;
      PlanOptions patched = options;
      const int64_t least = plan_memory(graph, patched).arena_bytes;
      if (least >= smallest) return "";
      budget = least + (tightest ? 0 : (smallest - 4 - least) * rng.uniform_int(0, 3) / 4);
    }
  }
  if (budget <= 0 || budget >= out_of_place) return "";
  const MemoryPlan plan = plan_for_budget(graph, options, budget);
  bool in_place_conv = false;
  for (size_t i = 0; i < graph.layers.size(); ++i)
    in_place_conv = in_place_conv || (plan.in_place[i] && graph.layers[i].kind == LayerKind::Conv);
  if (plan.arena_bytes > budget || (!in_place_conv && !plan.patch.on())) return "";
  return "--max-sram " + std::to_string(budget) +
         (options.patch_auto ? " --patch-layers auto" : "");
}

// The plan the export makes for spec under `flags` (budget_flags' form; "" the default plan).
deploy::MemoryPlan plan_of(const ArchSpec& spec, const std::string& flags) {
  deploy::LatencyMeasurement m;
  deploy::parse_plan_flags(flags, m);
  return deploy::plan_for_budget(deploy::lower_arch(spec), m.memory, m.max_sram);
}

// A graph network (nas/arch/graph_text.h) on a 1x28x28 input with two or three
// max / average pools of random windows (2x2 or 3x3, stride 1 or 2, padded or
// not) between convs: the pool kernels' calibration (the blocks space has
// none).
ArchSpec pool_network(Rng& rng) {
  std::string layers;
  const auto add = [&](const std::string& layer) {
    layers += std::string(layers.empty() ? "" : ", ") + layer;
  };
  const auto conv = [&](int index, int out, int kernel, int stride) {
    const std::string i = std::to_string(index), k = std::to_string(kernel);
    const std::string s = std::to_string(stride), p = std::to_string(kernel / 2);
    add("{\"name\": \"c" + i + "\", \"op\": \"conv\", \"out\": " + std::to_string(out) +
        ", \"kernel\": [" + k + ", " + k + "], \"stride\": [" + s + ", " + s + "], \"pad\": [" + p +
        ", " + p + "]}");
    add("{\"name\": \"b" + i + "\", \"op\": \"batchnorm\"}");
    add("{\"name\": \"r" + i + "\", \"op\": \"relu\"}");
  };
  const auto pool = [&](int index) {
    const bool max = rng.uniform_int(0, 1) == 0;
    const int k = rng.uniform_int(2, 3), s = rng.uniform_int(1, 2);
    const int p = k == 3 ? rng.uniform_int(0, 1) : 0;
    const std::string ks = std::to_string(k), ss = std::to_string(s), ps = std::to_string(p);
    add("{\"name\": \"p" + std::to_string(index) + "\", \"op\": \"" +
        (max ? "maxpool" : "avgpool") + "\", \"kernel\": [" + ks + ", " + ks + "], \"stride\": [" +
        ss + ", " + ss + "], \"pad\": [" + ps + ", " + ps + "]" +
        (max ? "" : ", \"count_include_pad\": false") + "}");
  };
  const int widths[] = {4, 8, 12, 16, 24};
  conv(1, widths[rng.uniform_int(0, 4)], 3, rng.uniform_int(1, 2));
  pool(1);
  conv(2, widths[rng.uniform_int(0, 4)], 1 + 2 * rng.uniform_int(0, 1), 1);
  pool(2);
  if (rng.uniform_int(0, 1) == 0) {
    conv(3, widths[rng.uniform_int(0, 4)], 3, 1);
    pool(3);
  }
  add("{\"name\": \"fc\", \"op\": \"linear\", \"out\": 10}");
  return parse_arch("{\"graph\": 1, \"input\": [1, 28, 28], \"classes\": 10, \"layers\": [" +
                    layers + "]}");
}

// A graph network on a 1x28x28 input with gates: after a conv stem (+ BatchNorm, ReLU; stride 1
// or 2), two to four units, each one of: features times a gate of their shape (a conv with bias,
// then a sigmoid or a hard-sigmoid; piconas_mul_s8), times a one-channel gate per pixel (a 1x1
// or 3x3 conv to one channel, then a sigmoid or a hard-sigmoid; piconas_pixel_mul_s8), a
// squeeze-and-excitation scale with a sigmoid gate, a sigmoid on the features themselves, or a
// stride-2 conv; a same-shape product's operands in either order (graph text: a broadcast gate
// comes second). The Mul, PixelMul and Logistic kernels' calibration (the blocks space has none).
ArchSpec gated_network(Rng& rng) {
  std::string layers;
  int index = 0;
  std::string last;  // the features the next unit reads
  const auto add = [&](const std::string& name, const std::string& body) {
    layers += std::string(layers.empty() ? "" : ", ") + "{\"name\": \"" + name + "\", " + body + "}";
    return name;
  };
  const auto conv = [&](int out, int kernel, int stride, bool bias, const std::string& input) {
    const std::string k = std::to_string(kernel), s = std::to_string(stride);
    const std::string p = std::to_string(kernel / 2);
    return add("c" + std::to_string(++index),
               "\"op\": \"conv\", \"out\": " + std::to_string(out) + ", \"kernel\": [" + k + ", " +
                   k + "], \"stride\": [" + s + ", " + s + "], \"pad\": [" + p + ", " + p + "]" +
                   (bias ? ", \"bias\": true" : "") +
                   (input.empty() ? "" : ", \"inputs\": [\"" + input + "\"]"));
  };
  const auto act = [&](const std::string& op) {
    return add("a" + std::to_string(++index), "\"op\": \"" + op + "\"");
  };
  const auto gate_act = [&]() { return act(rng.uniform_int(0, 3) > 0 ? "sigmoid" : "hsigmoid"); };
  const auto mul = [&](const std::string& features, const std::string& gate, bool same_shape) {
    const bool swap = same_shape && rng.uniform_int(0, 1) == 0;
    return add("m" + std::to_string(++index), "\"op\": \"mul\", \"inputs\": [\"" +
                                                  (swap ? gate : features) + "\", \"" +
                                                  (swap ? features : gate) + "\"]");
  };
  const int widths[] = {4, 8, 12, 16};
  int width = widths[rng.uniform_int(0, 3)];
  conv(width, 3, rng.uniform_int(1, 2), false, "");
  add("b" + std::to_string(++index), "\"op\": \"batchnorm\"");
  last = act("relu");
  const int units = rng.uniform_int(2, 4);
  for (int u = 0; u < units; ++u) {
    switch (rng.uniform_int(0, 4)) {
      case 0:  // elementwise gate
        conv(width, 1 + 2 * rng.uniform_int(0, 1), 1, true, last);
        last = mul(last, gate_act(), true);
        break;
      case 1:  // one-channel gate per pixel
        conv(1, 1 + 2 * rng.uniform_int(0, 1), 1, true, last);
        last = mul(last, gate_act(), false);
        break;
      case 2: {  // squeeze-and-excitation with a sigmoid gate
        add("g" + std::to_string(++index),
            "\"op\": \"global_avgpool\", \"inputs\": [\"" + last + "\"]");
        conv(std::max(2, width / 2), 1, 1, true, "");
        act("relu");
        conv(width, 1, 1, true, "");
        last = mul(last, act("sigmoid"), false);
        break;
      }
      case 3:  // a sigmoid on the features
        conv(width, 1, 1, true, last);
        last = act("sigmoid");
        break;
      default:  // a stride-2 conv, maybe wider
        width = widths[rng.uniform_int(0, 3)];
        conv(width, 3, 2, true, last);
        last = act("relu");
    }
  }
  add("gp", "\"op\": \"global_avgpool\", \"inputs\": [\"" + last + "\"]");
  add("fc", "\"op\": \"linear\", \"out\": 10");
  return parse_arch("{\"graph\": 1, \"input\": [1, 28, 28], \"classes\": 10, \"layers\": [" +
                    layers + "]}");
}

// Whether cortex-m4 runs a conv with a k > 1 window (the stem) through the unpacked im2col
// kernel under `flags`: the budget leaves no room for its packed scratch (latency_kernels).
bool runs_unpacked_im2col(const ArchSpec& spec, const std::string& flags) {
  deploy::LatencyMeasurement m;
  deploy::parse_plan_flags(flags, m);
  const deploy::Graph graph = deploy::lower_arch(spec);
  const auto kernels = deploy::latency_kernels(
      graph, deploy::plan_for_budget(graph, m.memory, m.max_sram), deploy::McuTarget::CortexM4,
      m.max_sram);
  return std::find(kernels.begin(), kernels.end(), deploy::LatencyKernel::ConvIm2col) !=
         kernels.end();
}

// KIND: "default" (plain blocks-space draws), "mbv3" (with_mbv3_options),
// "budget" (each line "ARCH<TAB>FLAGS", budget_flags), "patched" (budget draws
// with automatic patching only), "tight" (those at the least patched arena),
// "unpacked" (patched draws with an unpacked im2col conv on cortex-m4),
// "pool" (pool_network), "gated" (gated_network; both INPUT 1x28x28).
int sample(int count, uint64_t seed, const std::string& input, const std::string& target,
           const std::string& kind) {
  PICONAS_CHECK(
      kind == "default" || kind == "mbv3" || kind == "budget" || kind == "patched" ||
          kind == "tight" || kind == "unpacked" || kind == "pool" || kind == "gated",
      "sample: unknown kind '" << kind
                               << "' (default, mbv3, budget, patched, tight, unpacked, pool, gated)");
  PICONAS_CHECK((kind != "pool" && kind != "gated") || input == "1x28x28",
                "sample: " << kind << " networks take a 1x28x28 input, got " << input);
  search::SpaceOptions options;
  options.input = input == "3x32x32" ? Shape3{3, 32, 32} : Shape3{1, 28, 28};
  options.int8_block_kinds_only = true;
  options.max_blocks = 6;
  Rng rng(seed);
  // The stem varies too (the space fixes it per search), so the im2col conv model sees more
  // than one shape: 8..32 channels, 3x3 or 5x5, stride 2.
  const int stem_channels[] = {8, 16, 24, 32};
  const int stem_kernels[] = {3, 5};
  int found = 0;
  for (int attempt = 0; found < count; ++attempt) {
    PICONAS_CHECK(attempt < 1000 * count, "sample: fewer than " << count << " of " << attempt
                                                                << " architectures fit " << target);
    options.stem =
        StemSpec{stem_channels[rng.uniform_int(0, 3)], stem_kernels[rng.uniform_int(0, 1)], 2};
    ArchSpec spec = parse_blocks(search::make_search_space("blocks", options)->sample(rng).text);
    if (kind == "mbv3") spec = with_mbv3_options(spec, rng);
    if (kind == "pool") {
      try {
        spec = pool_network(rng);
      } catch (const Error&) {
        continue;  // a window larger than its input
      }
    }
    if (kind == "gated") spec = gated_network(rng);
    if (!deploy::int8_problems(spec).empty()) continue;
    const bool budget =
        kind == "budget" || kind == "patched" || kind == "tight" || kind == "unpacked";
    const std::string flags =
        budget ? budget_flags(spec, rng, kind != "budget", kind == "tight") : "";
    if (budget && flags.empty()) continue;
    if (kind == "unpacked" && !runs_unpacked_im2col(spec, flags)) continue;
    if (!target.empty() && !fits_board(spec, plan_of(spec, flags),
                                       deploy::mcu_board(deploy::parse_mcu_target(target))))
      continue;
    std::printf("%s%s%s\n", to_text(spec).c_str(), flags.empty() ? "" : "\t", flags.c_str());
    ++found;
  }
  return 0;
}

// Every (run, target) with a measurement.
std::vector<deploy::LatencyMeasurement> measurements(const std::string& list) {
  std::vector<deploy::LatencyMeasurement> out;
  std::istringstream dirs(read_text(list));
  for (std::string dir; std::getline(dirs, dir);) {
    if (dir.empty()) continue;
    const ArchSpec arch = parse_arch(read_text(dir + "/arch"));
    const std::string flags =
        std::ifstream(dir + "/plan").good() ? read_text(dir + "/plan") : std::string();
    for (deploy::McuTarget target : deploy::mcu_targets()) {
      const std::string path =
          dir + "/verify-" + deploy::mcu_board(target).name + "/instructions.json";
      std::ifstream probe(path);
      if (!probe.good()) continue;
      const nlohmann::json json = nlohmann::json::parse(read_text(path));
      deploy::LatencyMeasurement m;
      m.run = dir;
      m.arch = arch;
      deploy::parse_plan_flags(flags, m);
      m.target = target;
      for (const auto& layer : json.at("layers"))
        m.layer_instructions.push_back(layer.at("instructions").get<double>());
      m.total_instructions = json.at("instructions_per_inference").get<double>();
      out.push_back(std::move(m));
    }
  }
  return out;
}

// Per target, the first two held-out models of every plan kind (deploy::plan_kind) and the
// reference networks (runs named reference-*), for the test of the compiled table
// (tests/deploy/test_latency.cpp).
// Each with its tolerance: 10 %, or where the fitted table misses that (docs/latency.md lists
// those), its error at the fit plus 2 points, so that a model getting worse fails the test.
void write_test_data(const std::string& path,
                     const std::vector<deploy::LatencyMeasurement>& heldout,
                     const deploy::LatencyTable& table) {
  nlohmann::json models = nlohmann::json::array();
  std::map<std::pair<deploy::McuTarget, std::string>, int> per_kind;
  for (const auto& m : heldout) {
    const std::string kind = deploy::plan_kind(m);
    const bool reference = m.run.find("/reference-") != std::string::npos;
    if (!reference && per_kind[{m.target, kind}]++ >= 2) continue;
    const deploy::Graph graph = deploy::lower_arch(m.arch);
    const double predicted =
        deploy::estimate_latency(graph, deploy::plan_for_budget(graph, m.memory, m.max_sram),
                                 m.target, table, m.max_sram)
            .instructions;
    const double error = std::abs(predicted / m.total_instructions - 1);
    models.push_back({{"arch", to_text(m.arch)},
                      {"max_error", std::max(0.10, std::ceil(100 * error + 2) / 100)},
                      {"plan", m.plan_flags},
                      {"kind", kind},
                      {"target", deploy::mcu_board(m.target).name},
                      {"instructions", m.total_instructions}});
  }
  const nlohmann::json data = {{"generated_by",
                                "bench/latency_calibrate.sh (bench_latency "
                                "fit): QEMU -icount instructions per inference "
                                "of held-out models, not in the fit (random "
                                "blocks-space models, MobileNetV3-style ones, "
                                "ones planned under an SRAM budget with the "
                                "planner flags of 'plan', MobileNetV3-Small)"},
                               {"models", models}};
  write_file_atomic(path, data.dump(2) + "\n");
}

// Per layer of every LIST run: measured against the compiled table's prediction
// (its kernel row, and the window-copy row in a patched stage), a Markdown
// table for finding the terms a variant lacks.
void print_layers(const std::vector<deploy::LatencyMeasurement>& runs,
                  const deploy::LatencyTable& table) {
  std::printf(
      "| run | target | layer | variant | calls | patched | measured | "
      "kernel row | copy row | "
      "error |\n|---|---|---|---|---:|---|---:|---:|---:|---:|\n");
  for (const auto& m : runs) {
    const deploy::Graph graph = deploy::lower_arch(m.arch);
    const deploy::MemoryPlan plan = deploy::plan_for_budget(graph, m.memory, m.max_sram);
    const deploy::LatencyEstimate e =
        deploy::estimate_latency(graph, plan, m.target, table, m.max_sram);
    for (size_t i = 0; i < graph.layers.size(); ++i) {
      const bool patched = static_cast<int>(i) < plan.patch.layers;
      const deploy::LatencyRow* copy = table.find(m.target, deploy::LatencyKernel::WindowCopy);
      double copy_part = 0;
      if (patched && copy != nullptr) {
        const deploy::LatencyTerms x = deploy::window_copy_features(graph, plan, i);
        for (size_t t = 0; t < x.size(); ++t) copy_part += copy->coefficients[t] * x[t];
      }
      const double measured = m.layer_instructions[i];
      std::printf("| %s | %s | %s | %s | %.0f | %s | %.0f | %.0f | %.0f | %+.1f %% |\n",
                  m.run.c_str(), deploy::mcu_board(m.target).name, graph.layers[i].name.c_str(),
                  deploy::latency_kernel_name(e.layers[i].kernel),
                  deploy::layer_features(graph, plan, i)[0], patched ? "yes" : "no", measured,
                  e.layers[i].instructions - copy_part, copy_part,
                  100 * (e.layers[i].instructions / std::max(measured, 1.0) - 1));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "sample" && argc >= 5 && argc <= 7) {
      const std::string target = argc >= 6 && std::string(argv[5]) != "-" ? argv[5] : "";
      return sample(std::stoi(argv[2]), std::stoull(argv[3]), argv[4], target,
                    argc == 7 ? argv[6] : "default");
    }
    if (command == "fit" && (argc == 5 || argc == 6)) {
      const auto fit = measurements(argv[3]);
      const auto heldout = measurements(argv[4]);
      PICONAS_CHECK(!fit.empty(), "no measurement in the runs of '" << argv[3] << "'");
      std::string targets;
      for (deploy::McuTarget t : deploy::mcu_targets()) {
        int n = 0;
        for (const auto& m : fit) n += m.target == t;
        if (n > 0)
          targets += std::string(targets.empty() ? "" : ", ") + std::to_string(n) + " " +
                     deploy::mcu_board(t).name;
      }
      deploy::LatencyTable table = deploy::fit_latency(
          fit, "QEMU -icount per-layer counts of random blocks-space models (" + targets + ")");
      table.margins = deploy::latency_margins(heldout, table);
      write_file_atomic(argv[2], deploy::latency_table_source(table));
      std::printf(
          "Fitted on %zu measurements (model x target), written to %s; "
          "held-out models:\n\n%s",
          fit.size(), argv[2], deploy::latency_validation(heldout, table).c_str());
      if (argc == 6) write_test_data(argv[5], heldout, table);
      return 0;
    }
    if (command == "validate" && argc == 3) {
      const auto heldout = measurements(argv[2]);
      PICONAS_CHECK(!heldout.empty(), "no measurement in the runs of '" << argv[2] << "'");
      std::printf("Compiled table (%s); measured models:\n\n%s",
                  deploy::builtin_latency_table().origin.c_str(),
                  deploy::latency_validation(heldout, deploy::builtin_latency_table()).c_str());
      return 0;
    }
    if (command == "layers" && (argc == 3 || argc == 4)) {
      print_layers(measurements(argv[2]), argc == 4 ? deploy::fit_latency(measurements(argv[3]), "")
                                                    : deploy::builtin_latency_table());
      return 0;
    }
    std::fprintf(stderr,
                 "usage: bench_latency sample COUNT SEED INPUT [TARGET|- "
                 "[KIND]] | fit OUT.cpp FIT_LIST "
                 "HELDOUT_LIST "
                 "[HELDOUT_JSON] | validate LIST | layers LIST [FIT_LIST]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_latency: %s\n", e.what());
    return 1;
  }
}
