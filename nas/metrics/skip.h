// The "skip" metric of the block search spaces (docs/metrics.md section 2.5): the fraction of
// blocks that carry a residual (identity) connection, 0 for a network without blocks.
// Architecture only: no network is built.
#pragma once
#include "nas/arch/arch_spec.h"

namespace piconas::nas::metrics {

double skip_fraction(const ArchSpec& spec);

}  // namespace piconas::nas::metrics
