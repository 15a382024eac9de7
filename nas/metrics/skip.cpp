#include "nas/metrics/skip.h"

namespace piconas::nas::metrics {

double skip_fraction(const ArchSpec& spec) {
  if (spec.blocks.empty()) return 0.0;
  int in_channels = spec.stem.out_channels;
  int residual = 0;
  for (const BlockSpec& block : spec.blocks) {
    if (has_residual(block, in_channels)) ++residual;
    in_channels = block.out_channels;
  }
  return static_cast<double>(residual) / static_cast<double>(spec.blocks.size());
}

}  // namespace piconas::nas::metrics
