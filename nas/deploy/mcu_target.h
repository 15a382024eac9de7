// Cortex-M targets of `piconas verify --target` / `piconas run --target`: one QEMU board each,
// with the gcc flags, the linker script (nas/deploy/mcu) and the board's instructions per
// SysTick tick under `qemu-system-arm -icount shift=0`.
//
// The factor is measured, not derived: nas/deploy/mcu/calibrate.c times a loop of known length
// (two instructions per iteration) at 1 M and 3 M iterations and prints
// "loop instructions I ticks T"; the factor is I / T. Figures (qemu-system-arm 7.2, 4,000,000
// loop instructions): microbit 64,000 ticks (62.5), mps2-an386 and mps2-an500 100,000 (40),
// mps3-an547 128,000 (31.25). The deploy_mcu test re-measures every board against this table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace piconas::nas::deploy {

enum class McuTarget { CortexM0, CortexM4, CortexM7, CortexM55 };

struct McuBoard {
  McuTarget target;
  const char* name;           // "cortex-m4" (the --target value)
  const char* board;          // QEMU machine, "mps2-an386"
  const char* qemu_args;      // "-M mps2-an386 -cpu cortex-m4"
  const char* gcc_flags;      // "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
  const char* linker_script;  // file of nas/deploy/mcu
  double instructions_per_tick;
  int64_t flash_bytes, ram_bytes;  // the linker script's regions
};

const McuBoard& mcu_board(McuTarget target);
const std::vector<McuTarget>& mcu_targets();  // all, in the order above
// "cortex-m4" -> McuTarget::CortexM4; Error listing the known names otherwise.
McuTarget parse_mcu_target(const std::string& name);
std::string mcu_target_names();  // "cortex-m0|cortex-m4|cortex-m7|cortex-m55"

}  // namespace piconas::nas::deploy
