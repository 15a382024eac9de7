// `piconas export CHECKPOINT --out DIR`: quantizes a trained model to int8 and writes portable
// C99 for microcontrollers (nas/deploy/export.h), then prints memory, flash and the float vs
// int8 accuracy on the first --eval test images. With --onnx FILE it also (or only) writes the
// float model as ONNX (nas/onnx/onnx_export.h).
#include <algorithm>
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "nas/deploy/export.h"
#include "core/atomic_file.h"
#include "nas/onnx/onnx_export.h"
#include "nas/onnx/onnx_qdq.h"
#include "nas/train/model_io.h"

namespace piconas::apps {

namespace {
struct ExportCliOptions {
  std::string checkpoint;
  nas::deploy::ExportOptions options;
  std::string onnx_path;             // also (or only) the float model as ONNX
  std::string onnx_int8_path;        // with --out: the int8 model as QDQ ONNX
};

void run_export(const ExportCliOptions& cli) {
  PICONAS_CHECK(cli.onnx_int8_path.empty() || !cli.options.out_dir.empty(),
                "export: --onnx-int8 writes the model --out quantizes; give --out DIR too");
  PICONAS_CHECK(!cli.options.out_dir.empty() || !cli.onnx_path.empty(),
                "export: give --out DIR (int8 C) and/or --onnx FILE (float ONNX)");
  if (!cli.onnx_path.empty()) {
    nas::onnx_io::export_onnx_file(cli.checkpoint, cli.onnx_path);
    std::printf("wrote %s (float ONNX, opset %d)\n", cli.onnx_path.c_str(), nas::onnx_io::kOnnxExportOpset);
    if (cli.options.out_dir.empty()) return;
  }
  const nas::deploy::ExportOptions& o = cli.options;
  const nas::deploy::ExportReport r = nas::deploy::export_checkpoint(cli.checkpoint, o);
  for (const std::string& f : r.emitted.files)
    if (f.find("piconas_runtime/") == std::string::npos) std::printf("wrote %s\n", f.c_str());
  std::printf("wrote %s/piconas_runtime/ (int8 kernels)\n", o.out_dir.c_str());
  if (!cli.onnx_int8_path.empty()) {
    const nas::train::LoadedModel model = nas::train::load_model(cli.checkpoint);
    write_file_atomic(cli.onnx_int8_path,
                      nas::onnx_io::export_onnx_qdq(r.quantized, &model.normalization));
    std::printf("wrote %s (int8 model as QDQ ONNX, opset %d)\n", cli.onnx_int8_path.c_str(),
                nas::onnx_io::kOnnxExportOpset);
  }
  std::printf("PEAK_SRAM   %lld bytes (arena, %s plan; no-reuse plan %lld bytes, %.2fx)\n",
              static_cast<long long>(r.plan.arena_bytes), nas::deploy::plan_strategy_name(r.plan.strategy),
              static_cast<long long>(r.plan.naive_bytes),
              static_cast<double>(r.plan.naive_bytes) / static_cast<double>(r.plan.arena_bytes));
  const auto in_place_layers = std::count(r.plan.in_place.begin(), r.plan.in_place.end(), 1);
  std::printf("            %lld depthwise layer(s) in place%s; %lld bytes with every layer out of place and unpatched\n",
              static_cast<long long>(in_place_layers), o.memory.in_place_depthwise ? "" : " (--no-in-place)",
              static_cast<long long>(r.arena_without_in_place));
  const nas::deploy::PatchPlan& patch = r.plan.patch;
  if (patch.on())
    std::printf("            first %d layers in %dx%d patches: %lld bytes without patching; %lld extra MACs "
                "recomputed (+%.1f%% of %lld)\n",
                patch.layers, patch.grid_h, patch.grid_w, static_cast<long long>(r.arena_without_patching),
                static_cast<long long>(patch.extra_macs),
                100.0 * static_cast<double>(patch.extra_macs) / static_cast<double>(patch.macs - patch.extra_macs),
                static_cast<long long>(patch.macs - patch.extra_macs));
  std::printf("FLASH_BYTES %lld bytes of constants (plus kernel code)\n",
              static_cast<long long>(r.emitted.flash_bytes));
  if (r.eval_images > 0)
    std::printf("accuracy on %lld test images: float %.2f%%  int8 %.2f%%  (same prediction %.2f%%)\n",
                static_cast<long long>(r.eval_images), 100.0 * r.float_accuracy, 100.0 * r.int8_accuracy,
                100.0 * r.agreement);
  if (!r.layer_errors.empty())
    std::printf("per-layer error on %lld test images (the dequantized int8 output against float, cumulative; "
                "clipped: float values outside the int8 range):\n",
                static_cast<long long>(o.layer_error_images));
  for (const nas::deploy::LayerError& e : r.layer_errors)
    std::printf("  %-24s %-15s SQNR %6.2f dB  mean error %+6.3f LSB  clipped %6.3f%%  range [%.4g, %.4g]\n",
                e.name.c_str(), nas::layer_kind_name(e.kind), e.sqnr_db, e.mean_error_lsb, 100.0 * e.clipped, e.range_min, e.range_max);
}
}  // namespace

void register_export(CLI::App& app) {
  auto cli = std::make_shared<ExportCliOptions>();
  CLI::App* cmd = app.add_subcommand("export", "quantize a trained model to int8 and emit C for microcontrollers");
  cmd->add_option("checkpoint", cli->checkpoint, "model checkpoint (piconas-model)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", cli->options.out_dir, "output directory of the int8 C files");
  cmd->add_option("--onnx", cli->onnx_path, "also (or, without --out, only) write the float model as ONNX to this file");
  cmd->add_option("--onnx-int8", cli->onnx_int8_path,
                  "with --out: also write the int8 model as QDQ ONNX to this file");
  cmd->add_option("--prefix", cli->options.prefix, "C symbol prefix (several models can share a firmware)");
  cmd->add_option("--calib", cli->options.calibration_images, "calibration images (first N of the training set)");
  add_calibration_options(cmd, cli->options.calibration);
  cmd->add_option("--eval", cli->options.eval_images, "test images for the float vs int8 accuracy (0: skip)");
  cmd->add_option("--layer-errors", cli->options.layer_error_images,
                  "print each layer's float vs int8 error (SQNR) on this many test images");
  cmd->add_option("--dataset", cli->options.dataset, "dataset for calibration/evaluation (default: the checkpoint's)");
  cmd->add_option("--data-path", cli->options.data_path, "dataset location (default: the dataset's standard path)");
  add_memory_options(cmd, cli->options.memory);
  add_byte_option(cmd, "--max-sram", cli->options.max_sram, "refuse a planned arena above this many bytes");
  add_byte_option(cmd, "--max-flash", cli->options.max_flash, "refuse constants above this many bytes");
  cmd->callback([cli] { run_export(*cli); });
}

}  // namespace piconas::apps
