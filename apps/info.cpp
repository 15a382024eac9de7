// `piconas info ARCH`: the layer table (type, output shape, params, MACs) and totals of an
// architecture given as a reference name, a text form, or a checkpoint file; with --memory also
// the int8 deployment's per-layer live SRAM and flash (nas/pipeline/footprint.h).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/checkpoint.h"
#include "nas/pipeline/footprint.h"

namespace piconas::apps {

namespace {
void run_info(const std::string& what, bool memory) {
  nas::ArchSpec arch;
  // A text longer than a file name may be is not a path (no "File name too long" error).
  std::error_code not_a_file;
  if (std::filesystem::is_regular_file(what, not_a_file)) {
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
    arch = nas::parse_arch(what);
  }
  nas::ArchCost cost = nas::arch_cost(arch);
  std::printf("arch %s\n\n%s\n", nas::to_text(arch).c_str(), nas::format_layer_table(arch).c_str());
  std::printf("params %lld (%.1f KiB as float32, %.1f KiB as int8), MACs %lld per %s image\n",
              static_cast<long long>(cost.params), cost.params * 4.0 / 1024, cost.params / 1024.0,
              static_cast<long long>(cost.macs), nas::shape3_str(arch.input).c_str());
  if (memory) std::printf("\nint8 deployment per layer:\n%s", nas::format_footprint(nas::deployment_footprint(arch)).c_str());
}
}  // namespace

void register_info(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  auto memory = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("info", "layer table and totals of an architecture or checkpoint");
  cmd->add_option("arch", *what, "reference name (tiny-bench, mbv2-bench, mobilenetv2, resnet8, mobilenetv1-025), text form or checkpoint")
      ->required();
  cmd->add_flag("--memory", *memory, "also the int8 deployment's live SRAM and flash per layer");
  cmd->callback([what, memory] { run_info(*what, *memory); });
}

}  // namespace piconas::apps
