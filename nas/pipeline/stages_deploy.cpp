// The export and verify stages of run_pipeline.
#include <filesystem>

#include "core/error.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/verify.h"
#include "nas/pipeline/footprint.h"
#include "nas/pipeline/stages.h"

namespace piconas::nas::pipeline {

using nlohmann::json;

namespace {

// The memory flags of export / verify / info that reproduce the run's plan (non-defaults only).
std::string memory_flags(const PipelineConfig& c) {
  const PipelineConfig defaults;
  std::string flags;
  if (c.search.constraints.max_peak_sram > 0) flags += " --max-sram " + std::to_string(c.search.constraints.max_peak_sram);
  if (c.in_place == "off") flags += " --no-in-place";
  const bool automatic = c.patch_layers == "auto" || c.patch_layers == "if-needed";
  if (c.patch_layers != defaults.patch_layers) flags += " --patch-layers " + shell_word(c.patch_layers);
  if (!automatic && c.patch_grid != defaults.patch_grid) flags += " --patch-grid " + shell_word(c.patch_grid);
  if (automatic && c.patch_max_extra_macs != defaults.patch_max_extra_macs)
    flags += " --patch-max-extra-macs " + std::to_string(c.patch_max_extra_macs);
  return flags;
}

std::string data_path_flag(const PipelineConfig& c) {
  return c.data_path.empty() ? std::string() : " --data-path " + shell_word(c.data_path);
}

json check_json(const deploy::TargetCheck& t) {
  return {{"target", t.target},
          {"ran", t.ran},
          {"skipped", t.skipped},
          {"images", t.images},
          {"matching", t.matching},
          {"identical", t.identical},
          {"flash_bytes", t.flash_bytes},
          {"ram_bytes", t.ram_bytes},
          {"instructions_per_inference", t.instructions_per_inference},
          {"commands", t.commands}};
}

// Per-layer instructions of the MCU run (empty when it did not run).
json layer_instructions_json(const deploy::VerifyReport& r) {
  return r.mcu.ran ? deploy::instruction_json(r)["layers"] : json::array();
}

}  // namespace

deploy::ExportOptions export_options(const PipelineConfig& c, const std::string& out_dir) {
  deploy::ExportOptions o = c.export_;
  o.out_dir = out_dir;
  o.dataset = c.data;
  o.data_path = c.data_path;
  o.max_sram = c.search.constraints.max_peak_sram;  // the export picks the fastest memory plan within the budget
  o.memory = memory_plan_options(c);
  return o;
}

json run_export_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  set_num_threads(c.threads);
  const std::string checkpoint = ctx.results.at(Stage::Train).at("best_checkpoint").get<std::string>();
  const std::string out_dir = ctx.path("export");
  ctx.progress("int8 export of " + checkpoint + " (float vs int8 on " + std::to_string(c.export_.eval_images) +
                   " test images)",
               false);
  const deploy::ExportReport r = deploy::export_checkpoint(checkpoint, export_options(c, out_dir));
  const deploy::DeployModel model = deploy::load_deploy_model(checkpoint);
  const Footprint f = deployment_footprint(model.arch, memory_plan_options(c), c.search.constraints.max_peak_sram);
  json layers = json::array();
  for (const LayerFootprint& l : f.layers)
    layers.push_back({{"name", l.name}, {"kind", l.kind}, {"live_sram", l.live_sram}, {"flash", l.flash}});
  const std::string arch = to_text(model.arch);
  return {{"arch", arch},
          {"peak_sram", r.plan.arena_bytes},
          {"peak_sram_without_in_place", r.arena_without_in_place},
          {"peak_sram_without_patching", r.arena_without_patching},
          {"patch_layers", r.plan.patch.layers},
          {"patch_grid", std::to_string(r.plan.patch.grid_h) + "x" + std::to_string(r.plan.patch.grid_w)},
          {"patch_extra_macs", r.plan.patch.extra_macs},
          {"naive_sram", r.plan.naive_bytes},
          {"plan", deploy::plan_strategy_name(r.plan.strategy)},
          {"flash_bytes", r.emitted.flash_bytes},
          {"eval_images", r.eval_images},
          {"float_accuracy", r.float_accuracy},
          {"int8_accuracy", r.int8_accuracy},
          {"agreement", r.agreement},
          {"layers", layers},
          {"constant_bytes", f.constant_bytes},
          {"dir", out_dir},
          {"command", "piconas export " + shell_word(checkpoint) + " --out " + shell_word(ctx.path("repro/export")) +
                          " --calib " + std::to_string(c.export_.calibration_images) + " --eval " + std::to_string(c.export_.eval_images) +
                          " --dataset " + shell_word(c.data) + data_path_flag(c) + memory_flags(c)},
          {"info_command", "piconas info " + shell_word(arch) + " --memory" + memory_flags(c)}};
}

json run_verify_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  set_num_threads(c.threads);
  const std::string checkpoint = ctx.results.at(Stage::Train).at("best_checkpoint").get<std::string>();
  const std::string target = deploy::mcu_board(c.search.constraints.latency_target).name;
  deploy::VerifyOptions o;
  o.work_dir = ctx.path("verify");
  o.export_options = export_options(c, "");
  o.images = c.verify_images;
  o.mcu_images = c.mcu_images;
  o.target = c.search.constraints.latency_target;
  ctx.progress("host C on " + std::to_string(c.verify_images) + " test images, " + target + " (QEMU) on " +
                   std::to_string(c.mcu_images),
               false);
  const deploy::VerifyReport r = deploy::verify_checkpoint(checkpoint, ctx.path("export"), o);
  PICONAS_CHECK(!r.host.ran || r.host.identical,
                "run: the emitted C differs from the host executor on " << (r.host.images - r.host.matching) << " of "
                                                                        << r.host.images << " images (" << o.work_dir
                                                                        << "/host)");
  PICONAS_CHECK(!r.mcu.ran || r.mcu.identical,
                "run: the " << target << " firmware differs from the host executor on "
                    << (r.mcu.images - r.mcu.matching) << " of " << r.mcu.images << " images (" << o.work_dir
                    << "/mcu)");
  return {{"host", check_json(r.host)},
          {"mcu", check_json(r.mcu)},
          {"layer_instructions", layer_instructions_json(r)},
          {"command", "piconas verify " + shell_word(checkpoint) + " --export " + shell_word(ctx.path("export")) +
                          " --out " + shell_word(ctx.path("repro/verify")) + " --calib " +
                          std::to_string(c.export_.calibration_images) + " --images " + std::to_string(c.verify_images) +
                          " --mcu-images " + std::to_string(c.mcu_images) + " --target " + target + " --dataset " + shell_word(c.data) +
                          data_path_flag(c) + memory_flags(c)}};
}

}  // namespace piconas::nas::pipeline
