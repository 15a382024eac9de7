// Export of a searched DnasNetwork to an ordinary blocks-space architecture plus its weights.
//
// Each SuperNet becomes its argmax-alpha branch (the identity branch removes the block); each
// PIT mask group keeps its alive channels (gamma >= 0.5, at least one). Weights are copied
// layer by layer with the pruned channels sliced out of conv/BN/linear tensors, so
// build_network(arch) loaded with `state` computes what the DnasNetwork computes under the
// same one-hot selection (SelectionMode::Argmax) and masks, in eval mode.
//
// The blocks space ties a block's residual to "stride 1 and in == out". When pruning would
// make a residual appear on an inverted-residual or ConvNeXt block that has none in the
// supernet, one dead channel is kept ("ghost") in one of the two groups: its BatchNorm
// gamma and beta are zeroed wherever the mask applied, so it outputs exactly 0, like the
// masked channel. Ghost channels are counted in `ghost_channels`.
// Widths are arbitrary positive integers: the text is accepted by parse_arch (structural
// check), not necessarily by blocks_space_problems (search-space membership).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/dnas/supernet.h"

namespace piconas::nas::dnas {

struct DnasExport {
  ArchSpec arch;
  std::map<std::string, Tensor> state;  // names of build_network(arch)->state()
  std::vector<int64_t> choices;         // chosen branch per seed block
  int64_t ghost_channels = 0;
};

DnasExport export_network(const DnasNetwork& network);

}  // namespace piconas::nas::dnas
