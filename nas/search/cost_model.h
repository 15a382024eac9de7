// Deployment cost estimates of a block-based architecture (docs/metrics.md section 3), per image.
//
//   params     every parameter (arch_cost).
//   macs       conv and linear multiply-accumulates (arch_cost).
//   peak_sram  int8 activation bytes (one byte per element): the largest, over the compute
//              layers of arch_layers, of  input tensor + output tensor + every tensor held
//              for a later residual add (the block input, while the block body runs).
//              BatchNorm folds into the conv before it and activations fuse into their
//              producer in the int8 deployment, so they are not separate tensors here.
//              estimate_cost() uses the int8 deployment's real memory planner and constant
//              count (nas/deploy) for deployable networks and these estimates otherwise: the
//              plan of the one memory model (deploy::plan_for_budget) for the planner options
//              and SRAM budget given, i.e. the plan the export will write, so a budget admits
//              networks that fit only in place or patched when those options are on.
//   activation_elements  float elements of every layer output of the training graph per image
//              (arch_layers rows after the input: convs, norms, activations, adds, pool,
//              classifier); 0 when unknown (nb201).
// Scoring memory (scoring_memory_bytes): the training-free metrics keep every layer output of
// the scoring batch for backward and allocate its gradient plus transient buffers (im2col,
// reductions) of about the same size, so the estimate is
//   3 x 4 bytes x (activation_elements x images + params)
// (float32; the x3 covers saved outputs, their gradients and temporaries; parameters likewise).
// It is an estimate for refusing candidates before scoring, not a measured peak.
//   mcu_instructions  predicted instructions per inference of the emitted C on each Cortex-M
//              target (index: deploy::McuTarget), from the same lowering and memory plan as
//              peak_sram (nas/deploy/latency.h; patched layers once per patch); -1 when not int8-deployable or when the
//              latency table has no calibration for the target.
//   flash      int8 weights (1 byte each) + per output channel of every conv/linear an int32
//              bias and a per-channel int32 multiplier and shift (4 + 8 = 12 bytes); a
//              LayerNorm keeps its gamma and beta as int32 (8 bytes per channel).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "nas/arch/arch_cost.h"
#include "nas/deploy/planner.h"

namespace piconas::nas::search {

struct CostEstimate {
  int64_t params = 0;
  int64_t macs = 0;
  int64_t peak_sram = 0;
  int64_t flash = 0;
  bool int8_deployable = true;  // false: ConvNeXt or GELU/Hardswish, which export refuses
  int64_t activation_elements = 0;
  std::array<double, 4> mcu_instructions{-1, -1, -1, -1};
};

inline constexpr int64_t kFlashBytesPerChannel = 12;  // int32 bias + int32 multiplier + shift
inline constexpr int64_t kFlashBytesPerNormChannel = 8;

int64_t estimate_peak_sram(const std::vector<LayerInfo>& layers);
int64_t estimate_flash(const std::vector<LayerInfo>& layers);
CostEstimate estimate_cost(const ArchSpec& spec, const deploy::PlanOptions& memory = {}, int64_t max_sram = 0);
// Estimated bytes to score one candidate on `images` images (see above).
int64_t scoring_memory_bytes(const CostEstimate& cost, int64_t images);

}  // namespace piconas::nas::search
