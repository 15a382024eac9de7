// Verification of an exported model (export.h) outside the test suite: the emitted C is
// compiled and run on real test images, and its int8 logits must equal the host executor's
// (executor.h) byte for byte.
//
//   host  the system C compiler (`cc` on PATH unless given) builds export_dir/model.c with the
//         runtime and a small main that streams input.bin -> output.bin.
//   mcu   arm-none-eabi-gcc builds a Cortex-M4 firmware with the embedded harness of
//         nas/deploy/mcu (mcu_files()), qemu-system-arm (mps2-an386, -icount shift=0) runs it
//         with semihosting; arm-none-eabi-size gives flash (text + data) and RAM (data + bss),
//         SysTick ticks x 40 the instructions per inference. Missing tools make the result
//         "skipped" with the reason, never an error.
// verify_checkpoint re-exports the checkpoint into <work_dir>/reexport (deterministic) to get
// the quantized model, requires its model.c / model.h to equal those in export_dir (so the
// files verified are the ones the checkpoint produces), then runs both targets on the first
// `images` (mcu: `mcu_images`) test images of the checkpoint's data set. Every shell command
// run is recorded in the result. The emitted prefix must be "model" (the harness's).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/deploy/export.h"

namespace piconas::nas::deploy {

// Absolute path of an executable found on PATH, "" when absent.
std::string find_program(const std::string& name);

// Runs `command` through /bin/sh; returns its exit status (-1 when it did not exit normally),
// stdout + stderr in *output.
int run_shell(const std::string& command, std::string* output);

struct TargetCheck {
  std::string target;  // "host (cc)", "cortex-m4 (qemu mps2-an386)"
  bool ran = false;
  std::string skipped;  // reason when !ran
  int64_t images = 0, matching = 0;  // images whose logits are byte-identical
  bool identical = false;            // ran and every byte equal
  int64_t flash_bytes = 0, ram_bytes = 0;  // mcu: arm-none-eabi-size
  double instructions_per_inference = 0;   // mcu: mean over the images
  std::vector<std::string> commands;
};

// Compiles and runs the model in export_dir (prefix "model") on `input` (n images, NHWC int8)
// in work_dir and compares with `expected` (n * classes bytes). cc "" = find_program("cc").
TargetCheck check_host(const std::string& export_dir, const std::string& work_dir,
                       const std::vector<int8_t>& input, const std::vector<int8_t>& expected,
                       int64_t n, const std::string& cc = "");
TargetCheck check_cortex_m4(const std::string& export_dir, const std::string& work_dir,
                            const std::vector<int8_t>& input, const std::vector<int8_t>& expected,
                            int64_t n);

struct VerifyOptions {
  std::string work_dir;           // required; created if missing
  ExportOptions export_options;   // as used for export_dir (out_dir is ignored)
  int64_t images = 100;           // host
  int64_t mcu_images = 10;        // Cortex-M4 under QEMU; 0: skip
  std::string cc;                 // "" = cc on PATH
};

struct VerifyReport {
  TargetCheck host, mcu;
};

VerifyReport verify_checkpoint(const std::string& checkpoint, const std::string& export_dir,
                               const VerifyOptions& options);

}  // namespace piconas::nas::deploy
