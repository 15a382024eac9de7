// `piconas info ARCH`: the layer table (type, output shape, params, MACs) and totals of an
// architecture given as a reference name, a text form, or a checkpoint file; with --memory also
// the int8 deployment's per-layer live SRAM and flash (nas/pipeline/footprint.h); with --target
// the predicted instructions and milliseconds per layer of the emitted C on that Cortex-M target
// at --mcu-mhz (nas/deploy/latency.h).
#include <cstdio>
#include <optional>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/checkpoint.h"
#include "nas/deploy/latency.h"
#include "nas/pipeline/footprint.h"

namespace piconas::apps {

namespace {

struct InfoOptions {
  std::string what;
  bool memory = false;
  nas::deploy::PlanOptions plan;  // --no-in-place, --patch-*
  int64_t max_sram = 0;           // the plan for this budget (plan_for_budget)
  std::optional<nas::deploy::McuTarget> target;
  double mcu_mhz = 0;
};

void print_latency(const nas::ArchSpec& arch, const InfoOptions& o) {
  namespace deploy = nas::deploy;
  const deploy::McuTarget target = *o.target;
  const double mhz = o.mcu_mhz;
  const deploy::Graph graph = deploy::lower_arch(arch);
  const deploy::LatencyEstimate e =
      deploy::estimate_latency(graph, deploy::plan_for_budget(graph, o.plan, o.max_sram), target,
                               deploy::builtin_latency_table(), o.max_sram);
  std::printf("\npredicted latency on %s at %g MHz (emitted C, 1 instruction per cycle):\n",
              deploy::mcu_board(target).name, mhz);
  std::printf("%-22s %-18s %14s %10s %7s\n", "layer", "kernel", "instructions", "ms", "share");
  for (const deploy::LayerLatency& l : e.layers)
    std::printf("%-22s %-18s %14.0f %10.3f %6.1f%%\n", l.name.c_str(), deploy::latency_kernel_name(l.kernel),
                l.instructions, deploy::latency_ms(l.instructions, mhz), 100 * l.instructions / e.instructions);
  std::printf("%-22s %-18s %14.0f %10.3f %6.1f%%\n", "(invoke)", "", e.invoke_instructions,
              deploy::latency_ms(e.invoke_instructions, mhz), 100 * e.invoke_instructions / e.instructions);
  std::printf("total: %.0f instructions, %.3f ms per inference\n", e.instructions,
              deploy::latency_ms(e.instructions, mhz));
  std::printf("a --max-latency-ms budget checks %.3f ms (the prediction + %.1f %%, the largest "
              "held-out under-prediction on %s: docs/latency.md)\n",
              deploy::latency_ms(deploy::budget_instructions(e.instructions, target), mhz),
              100 * deploy::builtin_latency_table().margin(target), deploy::mcu_board(target).name);
}

// A network file (graph JSON) rather than a checkpoint.
bool starts_with_brace(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char first = 0;
  return file.get(first) && first == '{';
}

void run_info(const InfoOptions& options) {
  const std::string& what = options.what;
  nas::ArchSpec arch;
  // A text longer than a file name may be is not a path (no "File name too long" error).
  std::error_code not_a_file;
  if (std::filesystem::is_regular_file(what, not_a_file) && !starts_with_brace(what)) {
    nas::Checkpoint checkpoint = nas::load_checkpoint(what);
    const nlohmann::json& meta = checkpoint.meta;
    PICONAS_CHECK(meta.contains("arch") && meta["arch"].is_string(),
                  "'" << what << "' has no architecture text in its metadata");
    arch = nas::parse_arch(meta["arch"].get<std::string>());
    // Any JSON value of the meta, shortened and printable whatever its type or encoding.
    auto field = [&](const char* key) {
      if (!meta.contains(key)) return std::string("?");
      return excerpt(meta[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 200);
    };
    auto percent = [&](const char* key, const char* label) {
      if (meta.contains(key) && meta[key].is_number()) std::printf(", %s %.2f%%", label, 100 * meta[key].get<double>());
    };
    std::printf("checkpoint %s: format %s, epoch %s, data %s", what.c_str(), field("format").c_str(),
                field("epoch").c_str(), field("data").c_str());
    percent("val_accuracy", "val accuracy");
    percent("test_accuracy", "test accuracy");
    std::printf("\n");
    if (meta.contains("normalization")) std::printf("normalization %s\n", field("normalization").c_str());
    if (meta.contains("class_names")) std::printf("classes %s\n", field("class_names").c_str());
  } else {
    arch = nas::parse_arch(arch_argument(what));
  }
  nas::ArchCost cost = nas::arch_cost(arch);
  std::printf("arch %s\n\n%s\n", nas::to_text(arch).c_str(), nas::format_layer_table(arch).c_str());
  std::printf("params %lld (%.1f KiB as float32, %.1f KiB as int8), MACs %lld per %s image\n",
              static_cast<long long>(cost.params), cost.params * 4.0 / 1024, cost.params / 1024.0,
              static_cast<long long>(cost.macs), nas::shape3_str(arch.input).c_str());
  if (options.memory)
    std::printf("\nint8 deployment per layer:\n%s",
                nas::pipeline::format_footprint(
                    nas::pipeline::deployment_footprint(arch, options.plan, options.max_sram))
                    .c_str());
  if (options.target) print_latency(arch, options);
}
}  // namespace

void register_info(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "layer table and totals of an architecture or checkpoint");
  cmd->add_option("arch", o->what, "reference name (tiny-bench, mbv2-bench, mobilenetv2, resnet8, dscnn, mobilenetv1-025, mobilenetv3-small), text form, network file or checkpoint")
      ->required();
  cmd->add_flag("--memory", o->memory, "also the int8 deployment's live SRAM and flash per layer");
  add_memory_options(cmd, o->plan);
  add_byte_option(cmd, "--max-sram", o->max_sram,
                  "plan as the export would under this SRAM budget (the fastest plan that fits)");
  cmd->add_option_function<std::string>(
      "--target", [o](const std::string& name) { o->target = nas::deploy::parse_mcu_target(name); },
      "also the predicted instructions and ms per layer on this Cortex-M target: " +
          nas::deploy::mcu_target_names());
  CLI::Option* mhz = cmd->add_option("--mcu-mhz", o->mcu_mhz, "MCU clock in MHz for --target (default 120)");
  cmd->callback([o, mhz] {
    if (o->target) {
      if (mhz->count() == 0) o->mcu_mhz = 120;
      nas::deploy::check_mcu_mhz(o->mcu_mhz);
    } else {
      PICONAS_CHECK(mhz->count() == 0, "info: --mcu-mhz needs --target");
    }
    run_info(*o);
  });
}

}  // namespace piconas::apps
