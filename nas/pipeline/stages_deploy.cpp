// The export and verify stages of run_pipeline.
#include <charconv>
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

// The SRAM budget and memory flags of export / verify / info that reproduce the run's plan.
std::string plan_flags(const PipelineConfig& c) {
  const int64_t max_sram = c.search.constraints.max_peak_sram;
  return (max_sram > 0 ? " --max-sram " + std::to_string(max_sram) : std::string()) + memory_flags(c.export_.memory);
}

// The calibration flags of export / verify (non-defaults only).
std::string calibration_flags(const deploy::CalibrationOptions& calibration) {
  const deploy::CalibrationOptions defaults;
  if (calibration.method == deploy::CalibrationMethod::Percentile && calibration.percentile != defaults.percentile) {
    char p[32];  // the shortest text that reads back as the same double
    const auto end = std::to_chars(p, p + sizeof p, calibration.percentile).ptr;
    return " --percentile " + std::string(p, end);
  }
  if (calibration.method == defaults.method) return "";
  return std::string(" --calibration ") + deploy::calibration_method_name(calibration.method);
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

std::string memory_flags(const deploy::PlanOptions& memory) {
  const deploy::PlanOptions defaults = default_export_options().memory;
  std::string flags;
  if (!memory.in_place_depthwise) flags += " --no-in-place";
  const bool automatic = memory.patch_auto || memory.patch_if_needed;
  const std::string layers = deploy::patch_layers_text(memory), grid = deploy::patch_grid_text(memory);
  if (layers != deploy::patch_layers_text(defaults)) flags += " --patch-layers " + shell_word(layers);
  if (!automatic && grid != deploy::patch_grid_text(defaults)) flags += " --patch-grid " + shell_word(grid);
  if (automatic && memory.max_extra_macs != defaults.max_extra_macs)
    flags += " --patch-max-extra-macs " + std::to_string(memory.max_extra_macs);
  return flags;
}

deploy::ExportOptions export_options(const PipelineConfig& c, const std::string& out_dir) {
  deploy::ExportOptions o = c.export_;
  o.out_dir = out_dir;
  o.dataset = data::dataset_kind_name(c.shared.data);
  o.data_path = c.shared.data_path;
  o.max_sram = c.search.constraints.max_peak_sram;  // the export picks the fastest memory plan within the budget
  return o;
}

deploy::VerifyOptions verify_options(const PipelineConfig& c, const std::string& work_dir) {
  deploy::VerifyOptions o = c.verify;
  o.work_dir = work_dir;
  o.target = c.search.constraints.latency_target;
  return o;
}

json run_export_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  set_num_threads(c.shared.threads);
  const std::string checkpoint = ctx.results.at(Stage::Train).at("best_checkpoint").get<std::string>();
  const std::string out_dir = ctx.path("export");
  ctx.progress("int8 export of " + checkpoint + " (float vs int8 on " + std::to_string(c.export_.eval_images) +
                   " test images)",
               false);
  const deploy::ExportReport r = deploy::export_checkpoint(checkpoint, export_options(c, out_dir));
  const deploy::DeployModel model = deploy::load_deploy_model(checkpoint);
  const Footprint f = deployment_footprint(model.arch, c.export_.memory, c.search.constraints.max_peak_sram);
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
                          " --calib " + std::to_string(c.export_.calibration_images) +
                          calibration_flags(c.export_.calibration) + " --eval " + std::to_string(c.export_.eval_images) +
                          data_flags(dataset_spec(c.shared), "--dataset") + plan_flags(c)},
          {"info_command", "piconas info " + shell_word(arch) + " --memory" + plan_flags(c)}};
}

json run_verify_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  set_num_threads(c.shared.threads);
  const std::string checkpoint = ctx.results.at(Stage::Train).at("best_checkpoint").get<std::string>();
  const std::string target = deploy::mcu_board(c.search.constraints.latency_target).name;
  const deploy::VerifyOptions o = verify_options(c, ctx.path("verify"));
  ctx.progress("host C on " + std::to_string(o.images) + " test images, " + target + " (QEMU) on " +
                   std::to_string(o.mcu_images),
               false);
  const deploy::VerifyReport r =
      deploy::verify_checkpoint(checkpoint, ctx.path("export"), export_options(c, ""), o);
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
                          std::to_string(c.export_.calibration_images) + calibration_flags(c.export_.calibration) +
                          " --images " + std::to_string(o.images) + " --mcu-images " + std::to_string(o.mcu_images) +
                          " --target " + target + data_flags(dataset_spec(c.shared), "--dataset") + plan_flags(c)}};
}

}  // namespace piconas::nas::pipeline
