// The int8 runtime kernels (ops/int8/*.c and *.h, without the host-only quantize_multiplier)
// embedded at configure time by nas/deploy/runtime.cmake; the C emitter writes them next to
// every exported model, so the firmware runs the exact code the host executor tests.
#pragma once
#include <vector>

namespace piconas::nas::deploy {

struct RuntimeFile {
  const char* name;  // file name, e.g. "conv2d_s8.c"
  const char* text;  // its contents
};

std::vector<RuntimeFile> runtime_files();

// The MCU firmware harness of nas/deploy/mcu (startup.c, harness.c, semihost.h, linker
// scripts), embedded the same way; nas/deploy/verify.h writes them next to an exported model.
std::vector<RuntimeFile> mcu_files();

}  // namespace piconas::nas::deploy
