// C emitter: writes a quantized model as portable C99 for microcontrollers.
//
// Files written into the output directory:
//   <prefix>.h          provenance (piconas version, architecture text, source and its hash),
//                       #defines <PREFIX>_INPUT_{CHANNELS,HEIGHT,WIDTH,SIZE}, _NUM_CLASSES,
//                       _NUM_LAYERS,
//                       _PEAK_SRAM (planned arena bytes), _FLASH_BYTES (constants), the input and
//                       output scale / zero point, and the API:
//                         int <prefix>_invoke(const int8_t *input, int8_t *output);
//                         extern const int8_t <prefix>_input_lut[C * 256];  (pixel -> int8)
//   <prefix>.c          const aligned weight / bias / multiplier / shift arrays (static, so two
//                       models link together), a static arena, and one kernel call per layer
//                       with the arguments the host executor uses (kernel_args), between
//                       PICONAS_LAYER_BEGIN(i) / PICONAS_LAYER_END(i) hooks (no-ops unless
//                       defined before model.c, e.g. by nas/deploy/mcu/layer_hooks.h).
//   piconas_runtime/    the int8 kernels (runtime_files()): shared by every model in a firmware.
//   README.md           how to build and a 10-line firmware example.
// invoke() takes the image NHWC int8 and writes the int8 logits; it returns 0 or the first
// kernel's negative status. No malloc, no float at inference time.
#pragma once
#include <string>
#include <vector>

#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"

namespace piconas::nas::deploy {

struct EmitOptions {
  std::string prefix = "model";  // check_c_prefix()
  std::string arch_text;         // canonical architecture text
  std::string source;            // e.g. the checkpoint path
  std::string source_hash;       // e.g. fnv1a64 of the checkpoint file
  std::vector<int8_t> input_lut;  // [C * 256]; empty: the table is not emitted
};

struct EmitResult {
  std::vector<std::string> files;  // paths written
  int64_t peak_sram = 0;
  int64_t flash_bytes = 0;  // constants incl. the input table
};

// A prefix names files (<prefix>.h next to the runtime on the include path), functions and
// macros: [A-Za-z][A-Za-z0-9_]{0,63}, and not a C or POSIX header name (stdint, stdio, ...:
// "#include <stdint.h>" would find our file) nor starting with "piconas" in any case (the
// runtime's headers and guards). Error naming the prefix otherwise.
void check_c_prefix(const std::string& prefix);

// The piconas version compiled into this library (PROJECT_VERSION).
const char* piconas_version();

// 64-bit FNV-1a of bytes as 16 hex digits (provenance hashes).
std::string fnv1a64_hex(const std::string& bytes);

EmitResult emit_c(const QuantizedModel& model, const MemoryPlan& plan, const EmitOptions& options,
                  const std::string& out_dir);

}  // namespace piconas::nas::deploy
