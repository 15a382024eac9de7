#include "nas/deploy/mcu_target.h"

#include "core/error.h"

namespace piconas::nas::deploy {

namespace {

// instructions_per_tick: measured with nas/deploy/mcu/calibrate.c (see mcu_target.h).
const McuBoard kBoards[] = {
    {McuTarget::CortexM0, "cortex-m0", "microbit", "-M microbit", "-mcpu=cortex-m0 -mthumb",
     "microbit.ld", 62.5, 256 * 1024, 16 * 1024},
    {McuTarget::CortexM4, "cortex-m4", "mps2-an386", "-M mps2-an386 -cpu cortex-m4",
     "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16", "mps2_an386.ld", 40.0, 4 << 20,
     4 << 20},
    {McuTarget::CortexM7, "cortex-m7", "mps2-an500", "-M mps2-an500 -cpu cortex-m7",
     "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16", "mps2_an500.ld", 40.0, 4 << 20,
     4 << 20},
    {McuTarget::CortexM55, "cortex-m55", "mps3-an547", "-M mps3-an547 -cpu cortex-m55",
     "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard", "mps3_an547.ld", 31.25, 512 * 1024, 512 * 1024},
};

}  // namespace

const McuBoard& mcu_board(McuTarget target) {
  for (const McuBoard& b : kBoards)
    if (b.target == target) return b;
  throw Error("mcu_board: unknown target");
}

const std::vector<McuTarget>& mcu_targets() {
  static const std::vector<McuTarget> all{McuTarget::CortexM0, McuTarget::CortexM4,
                                          McuTarget::CortexM7, McuTarget::CortexM55};
  return all;
}

std::string mcu_target_names() {
  std::string names;
  for (const McuBoard& b : kBoards) names += (names.empty() ? "" : "|") + std::string(b.name);
  return names;
}

McuTarget parse_mcu_target(const std::string& name) {
  for (const McuBoard& b : kBoards)
    if (name == b.name) return b.target;
  throw Error("unknown target '" + name + "' (known: " + mcu_target_names() + ")");
}

}  // namespace piconas::nas::deploy
