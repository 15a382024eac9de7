// `piconas info ARCH`: the layer table (type, output shape, params, MACs) and totals of an
// architecture given as a reference name, a text form, or a checkpoint file.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/checkpoint.h"

namespace piconas::apps {

namespace {
void run_info(const std::string& what) {
  nas::ArchSpec arch;
  if (std::filesystem::is_regular_file(what)) {
    nas::Checkpoint checkpoint = nas::load_checkpoint(what);
    const nlohmann::json& meta = checkpoint.meta;
    PICONAS_CHECK(meta.contains("arch") && meta["arch"].is_string(),
                  "'" << what << "' has no architecture text in its metadata");
    arch = nas::parse_arch(meta["arch"].get<std::string>());
    std::printf("checkpoint %s: format %s, epoch %s, data %s", what.c_str(), meta.value("format", "?").c_str(),
                meta.contains("epoch") ? meta["epoch"].dump().c_str() : "?", meta.value("data", "?").c_str());
    if (meta.contains("val_accuracy")) std::printf(", val accuracy %.2f%%", 100 * meta["val_accuracy"].get<double>());
    if (meta.contains("test_accuracy")) std::printf(", test accuracy %.2f%%", 100 * meta["test_accuracy"].get<double>());
    std::printf("\n");
    if (meta.contains("normalization")) std::printf("normalization %s\n", meta["normalization"].dump().c_str());
    if (meta.contains("class_names")) std::printf("classes %s\n", meta["class_names"].dump().c_str());
  } else {
    arch = nas::parse_arch(what);
  }
  nas::ArchCost cost = nas::arch_cost(arch);
  std::printf("arch %s\n\n%s\n", nas::to_text(arch).c_str(), nas::format_layer_table(arch).c_str());
  std::printf("params %lld (%.1f KiB as float32, %.1f KiB as int8), MACs %lld per %s image\n",
              static_cast<long long>(cost.params), cost.params * 4.0 / 1024, cost.params / 1024.0,
              static_cast<long long>(cost.macs), nas::shape3_str(arch.input).c_str());
}
}  // namespace

void register_info(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "layer table and totals of an architecture or checkpoint");
  cmd->add_option("arch", *what, "reference name (tiny-bench, mbv2-bench, mobilenetv2), text form or checkpoint")
      ->required();
  cmd->callback([what] { run_info(*what); });
}

}  // namespace piconas::apps
