// Verification of an exported model (export.h) outside the test suite: the emitted C is
// compiled and run on real test images, and its int8 logits must equal the host executor's
// (executor.h) byte for byte.
//
//   host  the system C compiler (`cc` on PATH unless given) builds export_dir/model.c with the
//         runtime and a small main that streams input.bin -> output.bin.
//   mcu   arm-none-eabi-gcc builds a firmware for one Cortex-M target (mcu_target.h: the
//         board's flags and linker script) with the embedded harness of nas/deploy/mcu
//         (mcu_files()); model.c is compiled with `-include layer_hooks.h`, so its per-layer
//         hooks read SysTick. qemu-system-arm (-icount shift=0) runs it with semihosting;
//         arm-none-eabi-size gives flash (text + data) and RAM (data + bss); SysTick ticks x
//         the board's measured instructions per tick give instructions per inference and per
//         layer (means over the images; the hooks add a few instructions per layer to the
//         total). Missing tools make the result "skipped" with the reason, never an error.
// verify_checkpoint re-exports the checkpoint into <work_dir>/reexport (deterministic) to get
// the quantized model, requires its model.c / model.h to equal those in export_dir (so the
// files verified are the ones the checkpoint produces), then runs both targets on the first
// `images` (mcu: `mcu_images`) test images of the checkpoint's data set. Every shell command
// run is recorded in the result. The emitted prefix must be "model" (the harness's). When the
// MCU ran, the per-layer instruction counts are written to <work_dir>/instructions.json and,
// as the table instruction_table() prints, <work_dir>/instructions.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/setting_name.h"
#include "nas/deploy/export.h"
#include "nas/deploy/mcu_target.h"

namespace piconas::nas::deploy {

// Absolute path of an executable found on PATH, "" when absent.
std::string find_program(const std::string& name);

// Runs `command` through /bin/sh; returns its exit status (-1 when it did not exit normally),
// stdout + stderr in *output.
int run_shell(const std::string& command, std::string* output);

struct TargetCheck {
  std::string target;  // "host (cc)", "cortex-m4 (qemu mps2-an386)"
  std::string target_name;  // "host", "cortex-m4"
  bool ran = false;
  std::string skipped;  // reason when !ran
  int64_t images = 0, matching = 0;  // images whose logits are byte-identical
  bool identical = false;            // ran and every byte equal
  int64_t flash_bytes = 0, ram_bytes = 0;  // mcu: arm-none-eabi-size
  double instructions_per_inference = 0;   // mcu: mean over the images
  double instructions_per_tick = 0;        // mcu: the board's SysTick factor
  std::vector<double> layer_instructions;  // mcu: per layer, mean over the images
  std::vector<std::string> commands;
};

// Compiles and runs the model in export_dir (prefix "model") on `input` (n images, NHWC int8)
// in work_dir and compares with `expected` (n * classes bytes). cc "" = find_program("cc").
TargetCheck check_host(const std::string& export_dir, const std::string& work_dir,
                       const std::vector<int8_t>& input, const std::vector<int8_t>& expected,
                       int64_t n, const std::string& cc = "");
TargetCheck check_mcu(McuTarget target, const std::string& export_dir, const std::string& work_dir,
                      const std::vector<int8_t>& input, const std::vector<int8_t>& expected,
                      int64_t n);

// What the per-layer tables print about a layer.
struct LayerInfo {
  std::string name, kind;  // "blocks.0.body.1", "depthwise"
  std::string input_shape, output_shape;  // NHWC per image, "14x14x32"
  Size2 kernel, stride;
  int64_t macs = 0;  // multiply-accumulates (add: elements; pool: input elements)
  bool in_place = false;  // the plan runs it in place (planner.h); kind reads "depthwise in place"
};
std::vector<LayerInfo> layer_infos(const QuantizedModel& model, const MemoryPlan& plan);

// What a verification checks and where; the export it re-does is given beside it (the options
// export_dir was made with). `piconas verify`'s flags and the run configuration fill it.
struct VerifyOptions {
  std::string work_dir;           // required; created if missing
  int64_t images = 100;           // host, >= 1
  int64_t mcu_images = 10;        // the MCU target under QEMU, >= 0; 0: skip
  McuTarget target = McuTarget::CortexM4;
  std::string cc;                 // "" = cc on PATH

  bool operator==(const VerifyOptions&) const = default;
};

// The one range check of VerifyOptions (work_dir set, images >= 1, mcu_images >= 0): `piconas
// verify` through verify_checkpoint (names: its flags, the default) and the run configuration
// (names: its keys, core/setting_name.h).
void check_verify_options(const VerifyOptions& options, const SettingName& name = {});

struct VerifyReport {
  TargetCheck host, mcu;
  std::vector<LayerInfo> layers;
  std::string table_path, json_path;  // the instruction files ("" when the MCU did not run)
};

// Instructions per inference and per layer of report.mcu: a Markdown table (layer, kind,
// shapes, MACs, instructions, share) followed by the totals per layer kind; the same as JSON
// ("layers", "kinds").
std::string instruction_table(const VerifyReport& report);
nlohmann::json instruction_json(const VerifyReport& report);

// export_options: those export_dir was made with (out_dir and eval_images are ignored).
VerifyReport verify_checkpoint(const std::string& checkpoint, const std::string& export_dir,
                               const ExportOptions& export_options, const VerifyOptions& options);

}  // namespace piconas::nas::deploy
