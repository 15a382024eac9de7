// `piconas verify CHECKPOINT --export DIR --out WORK`: compiles the exported C of DIR on the
// host and (when arm-none-eabi-gcc and qemu-system-arm are on PATH) for a Cortex-M target
// under QEMU (--target, default cortex-m4), runs both on test images and compares their int8
// logits byte for byte with the host executor (nas/deploy/verify.h). Prints instructions per
// inference and per layer (also written to WORK/instructions.{md,json}). Exits non-zero when a
// target disagrees.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "core/parallel.h"
#include "nas/deploy/verify.h"

namespace piconas::apps {

namespace {
struct VerifyCliOptions {
  std::string checkpoint, export_dir;
  nas::deploy::ExportOptions export_options;  // those the export was made with
  nas::deploy::VerifyOptions options;
  std::string target = "cortex-m4";
  int threads = 2;
};

bool print_check(const nas::deploy::TargetCheck& t) {
  if (!t.ran) {
    std::printf("%s: skipped (%s)\n", t.target.c_str(), t.skipped.c_str());
    return true;
  }
  std::printf("%s: %lld of %lld images byte-identical to the host executor", t.target.c_str(),
              static_cast<long long>(t.matching), static_cast<long long>(t.images));
  if (t.flash_bytes > 0)
    std::printf("; flash %lld B, RAM %lld B (arm-none-eabi-size); %.0f instructions per inference",
                static_cast<long long>(t.flash_bytes), static_cast<long long>(t.ram_bytes),
                t.instructions_per_inference);
  std::printf("\n");
  return t.identical;
}

void run_verify(VerifyCliOptions& o) {
  set_num_threads(o.threads);
  o.options.target = nas::deploy::parse_mcu_target(o.target);
  const nas::deploy::VerifyReport r = nas::deploy::verify_checkpoint(o.checkpoint, o.export_dir, o.export_options, o.options);
  const bool host = print_check(r.host);
  const bool mcu = print_check(r.mcu);
  if (r.mcu.ran) {
    std::printf("\n%s\nwrote %s\nwrote %s\n", nas::deploy::instruction_table(r).c_str(), r.table_path.c_str(),
                r.json_path.c_str());
  }
  PICONAS_CHECK(host && mcu, "verify: the emitted C does not reproduce the host executor");
}
}  // namespace

void register_verify(CLI::App& app) {
  auto o = std::make_shared<VerifyCliOptions>();
  nas::deploy::VerifyOptions& v = o->options;
  nas::deploy::ExportOptions& e = o->export_options;
  CLI::App* cmd = app.add_subcommand("verify", "compile and run exported C (host, a Cortex-M under QEMU) against the host executor");
  cmd->add_option("checkpoint", o->checkpoint, "model checkpoint the export was made from")->required()->check(CLI::ExistingFile);
  cmd->add_option("--export", o->export_dir, "directory written by `piconas export` (prefix model)")->required();
  cmd->add_option("--out", v.work_dir, "work directory (builds, inputs, outputs)")->required();
  cmd->add_option("--images", v.images, "test images for the host check")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--mcu-images", v.mcu_images, "test images for the Cortex-M check (0: skip)")->capture_default_str();
  cmd->add_option("--target", o->target, "Cortex-M target: " + nas::deploy::mcu_target_names())->capture_default_str();
  cmd->add_option("--calib", e.calibration_images, "calibration images used by the export")
      ->capture_default_str();
  add_calibration_options(cmd, e.calibration);
  add_memory_options(cmd, e.memory);
  add_byte_option(cmd, "--max-sram", e.max_sram, "SRAM budget the export was planned for");
  cmd->add_option("--dataset", e.dataset, "dataset (default: the checkpoint's)");
  cmd->add_option("--data-path", e.data_path, "dataset location");
  cmd->add_option("--cc", v.cc, "host C compiler (default: cc on PATH)");
  cmd->add_option("--threads", o->threads, "worker threads")->check(CLI::PositiveNumber);
  cmd->callback([o] { run_verify(*o); });
}

}  // namespace piconas::apps
