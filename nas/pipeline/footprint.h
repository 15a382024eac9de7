// Per-layer int8 deployment footprint of an architecture, for the report's bar plots and
// `piconas info ARCH --memory`: for every layer of the lowered graph (nas/deploy/graph.h),
//   live_sram  bytes of the buffers alive while the layer runs (its input(s), its output, its
//              kernel scratch and every tensor kept for a later layer), from the memory
//              planner's buffers and lifetimes; the planned arena (PEAK_SRAM) is at least the
//              largest of these (more when placement leaves gaps);
//   flash      bytes of the layer's constants: int8 weights + int32 bias, multiplier and shift
//              per output channel (12 bytes); their sum is the exporter's constant bytes
//              without the 256-byte-per-channel input table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/deploy/planner.h"

namespace piconas::nas::pipeline {

struct LayerFootprint {
  std::string name;  // graph layer name ("stem", "blocks.2.body.1", "classifier")
  std::string kind;  // layer_kind_name: "conv", "depthwise", "add", "global_avg_pool", ...
  int64_t live_sram = 0;
  int64_t flash = 0;
};

struct Footprint {
  std::vector<LayerFootprint> layers;
  int64_t arena_bytes = 0;             // planned arena (PEAK_SRAM) of plan_for_budget
  int64_t arena_without_in_place = 0;  // every layer out of place, no patching
  int64_t arena_without_patching = 0;  // the same options and budget, patching off
  int64_t arena_without_elementwise = 0;  // the same, add / hard-swish / channel multiply out of place
  int64_t arena_smallest = 0;          // every in-place kind (1x1 conv too), plan_smallest
  int patch_layers = 0, grid_h = 1, grid_w = 1;  // the plan's patching (0 layers: none)
  int64_t extra_macs = 0;                        // MACs the patches recompute
  int64_t macs = 0;                              // MACs of whole-tensor execution
  std::vector<int> patchable_layers;             // valid --patch-layers counts
  int64_t constant_bytes = 0;                    // sum of the layers' flash
};

// The plan of the one memory model (deploy::plan_for_budget) for these options and SRAM budget
// (0: none): the same plan the export writes. Throws Error for architectures the int8 export
// refuses.
Footprint deployment_footprint(const ArchSpec& spec, const deploy::PlanOptions& options = {}, int64_t max_sram = 0);

// Plain-text table: layer, kind, live SRAM, flash, then the totals (peak SRAM with and without
// in-place depthwise and patching, the patching and its extra MACs). Ends with a newline.
std::string format_footprint(const Footprint& footprint);

}  // namespace piconas::nas::pipeline
