#include "nas/deploy/export.h"
#include "nas/train/model_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "data/loader.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/checkpoint.h"
#include "nas/deploy/executor.h"

namespace piconas::nas::deploy {

DeployModel load_deploy_model(const std::string& path) {
  // The model contract is checked in one place, nas/train's load_model.
  const std::string bytes = read_file(path);
  train::LoadedModel loaded = train::load_model(decode_checkpoint(bytes, path), path);
  DeployModel m;
  m.arch = loaded.arch;
  m.module = loaded.module;
  m.normalization = loaded.normalization;
  if (loaded.meta.contains("data") && loaded.meta["data"].is_string())
    m.dataset = loaded.meta["data"].get<std::string>();
  m.source_hash = fnv1a64_hex(bytes);
  return m;
}

Tensor normalized_images(const data::Dataset& dataset, const data::Normalization& normalization,
                         int64_t count) {
  count = std::min(count, dataset.count);
  PICONAS_CHECK(count > 0, "normalized_images: the dataset is empty");
  std::vector<int64_t> indices(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) indices[static_cast<size_t>(i)] = i;
  data::LoaderOptions lo;
  lo.batch_size = count;
  lo.shuffle = false;
  lo.prefetch = 0;
  data::Loader loader(dataset, indices, lo, normalization);
  return loader.make_batch(0, 0).images;
}

void check_export_options(const ExportOptions& options, const SettingName& given_name) {
  // Default: the flags of `piconas export`, which calls this through export_checkpoint.
  const SettingName name = given_name ? given_name
                                      : prefixed_names("export: ", {{"out_dir", "--out"},
                                                                    {"calibration_images", "--calib"},
                                                                    {"eval_images", "--eval"},
                                                                    {"layer_error_images", "--layer-errors"},
                                                                    {"max_sram", "--max-sram"},
                                                                    {"max_flash", "--max-flash"},
                                                                    {"percentile", "--percentile"},
                                                                    {"patch_layers", "--patch-layers"},
                                                                    {"patch_max_extra_macs", "--patch-max-extra-macs"}});
  PICONAS_CHECK(!options.out_dir.empty(), name("out_dir") << ": no output directory");
  std::error_code ec;
  PICONAS_CHECK(!std::filesystem::exists(options.out_dir, ec) || std::filesystem::is_directory(options.out_dir, ec),
                "export: cannot write into '" << options.out_dir << "': it exists and is not a directory");
  check_c_prefix(options.prefix);
  PICONAS_CHECK(options.calibration_images > 0,
                name("calibration_images") << " must be >= 1 (calibration images), got " << options.calibration_images);
  PICONAS_CHECK(options.eval_images >= 0, name("eval_images") << " must be >= 0, got " << options.eval_images);
  PICONAS_CHECK(options.layer_error_images >= 0,
                name("layer_error_images") << " must be >= 0, got " << options.layer_error_images);
  PICONAS_CHECK(options.max_sram >= 0, name("max_sram") << " must be >= 0 (0: no limit), got " << options.max_sram);
  PICONAS_CHECK(options.max_flash >= 0, name("max_flash") << " must be >= 0 (0: no limit), got " << options.max_flash);
  PICONAS_CHECK(options.calibration.method != CalibrationMethod::Percentile ||
                    (options.calibration.percentile > 50.0 && options.calibration.percentile <= 100.0),
                name("percentile") << " must be in (50, 100], got " << options.calibration.percentile);
  PICONAS_CHECK(options.calibration.batch > 0, "export: calibration batch must be > 0");
  PICONAS_CHECK(options.memory.patch.layers >= 0,
                name("patch_layers") << " must be >= 0 (0: off), got " << options.memory.patch.layers);
  PICONAS_CHECK(std::isfinite(options.memory.max_extra_macs) && options.memory.max_extra_macs >= 0 &&
                    options.memory.max_extra_macs <= 1000,
                name("patch_max_extra_macs") << " must be a number in [0, 1000] (recomputed MACs / network MACs), got "
                                             << options.memory.max_extra_macs);
}

namespace {
// A fresh sibling of out_dir holding copies of out_dir's entries that this export does not
// write (another model's files), so the switch keeps them.
std::string stage_directory(const std::string& out_dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  const std::string fresh = fresh_sibling_directory(out_dir);
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec)) return fresh;
  const std::set<std::string> ours{prefix + ".h", prefix + ".c", "README.md", "piconas_runtime"};
  for (const fs::directory_entry& entry : fs::directory_iterator(out_dir)) {
    const std::string name = entry.path().filename().string();
    if (ours.count(name) || name.find(".tmp.") != std::string::npos) continue;
    fs::copy(entry.path(), fs::path(fresh) / name, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    PICONAS_CHECK(!ec, "export: cannot copy '" << entry.path().string() << "' into '" << fresh << "': " << ec.message());
  }
  return fresh;
}
}  // namespace

ExportReport export_model(const DeployModel& model, const data::Dataset& calibration_set,
                          const data::Dataset* eval_set, const ExportOptions& options,
                          const std::string& source) {
  check_export_options(options);
  ExportReport report;
  const Graph graph = lower_network(model.arch, *model.module);
  const Tensor calib = normalized_images(calibration_set, model.normalization, options.calibration_images);
  report.quantized = quantize_graph(graph, calib, model.normalization, options.calibration);
  const QuantizedModel& q = report.quantized;
  // The one memory model (planner.h plan_for_budget): without a budget the smallest arena the
  // options allow; under one the fastest plan that fits (in-place depthwise is up to 1.75x slower
  // on stride 2 and small planes, bench/README.md; patching recomputes halos).
  // Then room for the packed conv kernel where it costs at most 1 % of the arena within the
  // budget (planner.h with_packed_conv: faster on DSP cores).
  report.plan = with_packed_conv(graph, plan_for_budget(graph, options.memory, options.max_sram),
                                 options.memory.strategy, options.max_sram);
  report.arena_without_in_place = plan_memory(graph, PlanOptions{options.memory.strategy, false}).arena_bytes;
  report.arena_without_patching = plan_for_budget(graph, without_patching(options.memory), options.max_sram).arena_bytes;
  PICONAS_CHECK(options.max_sram <= 0 || report.plan.arena_bytes <= options.max_sram,
                "export: the planned activation arena needs " << report.plan.arena_bytes
                    << " bytes, over --max-sram " << options.max_sram << " (nothing written)");
  PICONAS_CHECK(options.max_flash <= 0 || q.constant_bytes() <= options.max_flash,
                "export: the int8 constants need " << q.constant_bytes() << " bytes, over --max-flash "
                                                   << options.max_flash << " (nothing written)");
  EmitOptions emit;
  emit.prefix = options.prefix;
  emit.arch_text = to_text(model.arch);
  emit.source = source;
  emit.source_hash = model.source_hash;
  emit.input_lut = input_lut(q.tensors[0], model.normalization);
  const std::string fresh = stage_directory(options.out_dir, options.prefix);
  try {
    report.emitted = emit_c(q, report.plan, emit, fresh);
    replace_directory(fresh, options.out_dir);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(fresh, ec);
    throw;
  }
  for (std::string& file : report.emitted.files) file = options.out_dir + file.substr(fresh.size());
  if (eval_set && options.eval_images > 0) {
    const Tensor images = normalized_images(*eval_set, model.normalization, options.eval_images);
    const int64_t n = images.dim(0);
    const auto float_pred = argmax_rows(run_float(graph, images));
    const auto int8_pred = argmax_rows(run_int8(q, report.plan, to_nhwc_int8(q.tensors[0], images).data(), n),
                                       model.arch.num_classes);
    int64_t f = 0, i8 = 0, same = 0;
    for (int64_t k = 0; k < n; ++k) {
      const auto label = eval_set->labels[static_cast<size_t>(k)];
      f += float_pred[static_cast<size_t>(k)] == label;
      i8 += int8_pred[static_cast<size_t>(k)] == label;
      same += float_pred[static_cast<size_t>(k)] == int8_pred[static_cast<size_t>(k)];
    }
    report.eval_images = n;
    report.float_accuracy = static_cast<double>(f) / static_cast<double>(n);
    report.int8_accuracy = static_cast<double>(i8) / static_cast<double>(n);
    report.agreement = static_cast<double>(same) / static_cast<double>(n);
  }
  if (eval_set && options.layer_error_images > 0)
    report.layer_errors = layer_errors(
        graph, q, report.plan, normalized_images(*eval_set, model.normalization, options.layer_error_images));
  return report;
}

ExportReport export_checkpoint(const std::string& checkpoint_path, const ExportOptions& options) {
  check_export_options(options);
  const DeployModel model = load_deploy_model(checkpoint_path);
  const std::string name = options.dataset.empty() ? model.dataset : options.dataset;
  PICONAS_CHECK(!name.empty(), "export: '" << checkpoint_path
                                           << "' names no dataset (meta \"data\"); pass --dataset");
  data::DatasetSpec spec;
  spec.kind = data::parse_dataset_kind(name);
  spec.path = options.data_path;
  spec.channels = static_cast<int>(model.arch.input.c);
  spec.resolution = static_cast<int>(model.arch.input.h);
  if (model.arch.input.w != model.arch.input.h) spec.width = static_cast<int>(model.arch.input.w);
  spec.split = data::Split::Train;
  const data::Dataset train = data::load_dataset(spec);
  if (options.eval_images <= 0 && options.layer_error_images <= 0) return export_model(model, train, nullptr, options, checkpoint_path);
  spec.split = data::Split::Test;
  const data::Dataset test = data::load_dataset(spec);
  return export_model(model, train, &test, options, checkpoint_path);
}

}  // namespace piconas::nas::deploy
