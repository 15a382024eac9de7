// Analytic cost of an ArchSpec, from the description alone (no module is built).
//
// The totals and the `piconas info` table are read from arch_layers() (nas/arch/lowering.h, the
// one lowering), which also defines how parameters and MACs are counted.
#pragma once
#include <cstdint>
#include <string>

#include "nas/arch/lowering.h"

namespace piconas::nas {

struct ArchCost {
  int64_t params = 0;
  int64_t macs = 0;
};

ArchCost arch_cost(const ArchSpec& spec);

// Plain-text table for `piconas info`: columns layer, type, output, params, MACs (numbers
// right-aligned), then a total row. Ends with a newline.
std::string format_layer_table(const ArchSpec& spec);

}  // namespace piconas::nas
