// build_network: turns an ArchSpec into a trainable autograd Module, following exactly the
// layer structure documented in nas/arch/arch_spec.h (so parameter counts equal arch_cost()).
// The module maps [N, C, H, W] images to [N, classes] logits. Parameters start at zero:
// call initialize(rng) before use.
// Names are stable and readable: "stem.conv", "blocks.3.dw", "head.bn", "classifier".
#pragma once
#include <memory>

#include "autograd/layers.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas {

autograd::ActivationKind to_activation_kind(Activation activation);

std::shared_ptr<autograd::Sequential> build_network(const ArchSpec& spec);

// One block of the network: a Sequential of its layers, wrapped in a Residual when
// has_residual(block, in_channels). build_network uses it for every entry of spec.blocks.
std::shared_ptr<autograd::Module> build_block(const BlockSpec& block, int64_t in_channels,
                                              autograd::ActivationKind act);

}  // namespace piconas::nas
