// The piconas subcommands. Each registers its CLI11 subcommand and the callback that runs it;
// library errors (piconas::Error) propagate to main, which prints them and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "core/byte_size.h"
#include "core/error.h"
#include "nas/deploy/calibrate.h"
#include "nas/deploy/planner.h"
#include "nas/search/aggregate.h"

namespace piconas::apps {

void register_demo(CLI::App& app);
void register_dnas(CLI::App& app);
void register_export(CLI::App& app);
void register_search(CLI::App& app);
void register_score(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_info(CLI::App& app);
void register_import(CLI::App& app);
void register_run(CLI::App& app);
void register_verify(CLI::App& app);

// Every byte flag goes through this: one parser (core/byte_size.h), so "65536", "64K" and "1M"
// work for each of them, and a malformed value is an error naming the flag.
inline CLI::Option* add_byte_option(CLI::App* cmd, const std::string& name, int64_t& bytes,
                                    const std::string& description) {
  return cmd->add_option_function<std::string>(
      name, [&bytes, name](const std::string& text) { bytes = parse_byte_size(text, name); },
      description + " (K/M/G suffixes; 0: none)")
      ->type_name("BYTES");
}

// The memory planner's flags (nas/deploy/planner.h): --no-in-place, --patch-layers N|auto|if-needed,
// --patch-grid HxW, --patch-max-extra-macs F, one parser each.
inline void add_memory_options(CLI::App* cmd, nas::deploy::PlanOptions& plan) {
  cmd->add_flag("--no-in-place{false}", plan.in_place_depthwise,
                "plan every layer out of place (default: depthwise, add, hard-swish and channel-multiply layers in "
                "place when that lowers the arena, unless the SRAM budget is met without)");
  cmd->add_option_function<std::string>(
         "--patch-layers", [&plan](const std::string& t) { nas::deploy::parse_patch_layers(t, plan); },
         "run the first N layers patch by patch (MCUNetV2; docs/memory.md; 0: never), 'auto': the patching with "
         "the smallest arena within --patch-max-extra-macs (under an SRAM budget: the fewest recomputed MACs that "
         "fit), or 'if-needed' (default): 'auto' only when the SRAM budget is met no other way")
      ->type_name("N|auto|if-needed");
  cmd->add_option_function<std::string>(
         "--patch-grid", [&plan](const std::string& t) { nas::deploy::parse_patch_grid(t, plan); },
         "patches over the last patched layer's output for --patch-layers N (default 2x2)")
      ->type_name("HxW");
  cmd->add_option_function<std::string>(
         "--patch-max-extra-macs", [&plan](const std::string& t) { nas::deploy::parse_patch_max_extra_macs(t, plan); },
         "--patch-layers auto / if-needed: recomputed MACs at most this fraction of the network's (default 0.2)")
      ->type_name("F");
}

// The activation calibration flags (nas/deploy/calibrate.h): --calibration mae|mse|minmax|percentile,
// and --percentile P, short for --calibration percentile at P (the two exclude each other).
inline void add_calibration_options(CLI::App* cmd, nas::deploy::CalibrationOptions& calibration) {
  CLI::Option* method = cmd->add_option_function<std::string>(
                               "--calibration",
                               [&calibration](const std::string& t) {
                                 calibration.method = nas::deploy::parse_calibration_method(t);
                               },
                               "activation ranges (docs/int8.md): mae (default: the clipping with the least mean "
                               "absolute quantization error), mse (least squared error), minmax, or percentile "
                               "(99.99, or --percentile P)")
                               ->type_name(nas::deploy::calibration_method_names());
  cmd->add_option_function<double>(
         "--percentile",
         [&calibration](double p) {  // NaN and out-of-range values are refused by the export
           calibration.method = nas::deploy::CalibrationMethod::Percentile;
           calibration.percentile = p;
         },
         "percentile calibration keeping P % of each tensor's values on each side (e.g. 99.9)")
      ->type_name("P")
      ->excludes(method);
}

// An --arch value that names a file holding a graph network's JSON (the network file of
// `piconas import`, docs/onnx.md) is replaced by that JSON; any other value is kept.
std::string arch_argument(const std::string& value);

}  // namespace piconas::apps

namespace piconas::apps {

// Checks a "naswot,logsynflow:0.5,skip" list while the command line is parsed: an unknown metric
// (nas/metrics/metric_list.def) or a bad weight is refused before any work starts.
inline CLI::Validator metric_list_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          nas::search::parse_metric_weights(text);
        } catch (const Error& e) {
          return e.what();
        }
        return {};
      },
      "METRICS");
}

}  // namespace piconas::apps
