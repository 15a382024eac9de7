#include "nas/search/cost_model.h"

#include "nas/deploy/graph.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace piconas::nas::search {

namespace {

int64_t bytes(const Shape3& s) { return s.c * s.h * s.w; }

bool folded(LayerKind kind) {
  return kind == LayerKind::BatchNorm || kind == LayerKind::Activation;
}

}  // namespace

int64_t estimate_peak_sram(const std::vector<LayerInfo>& layers) {
  PICONAS_CHECK(!layers.empty() && layers.front().kind == LayerKind::Input,
                "estimate_peak_sram: the layer list must start with the input row");
  // Blocks whose body ends in a residual add: their input stays live until the add.
  std::vector<int> residual_blocks;
  for (const LayerInfo& layer : layers)
    if (layer.kind == LayerKind::Add) residual_blocks.push_back(layer.block);

  int64_t peak = bytes(layers.front().output);
  Shape3 current = layers.front().output;  // the tensor the next compute layer reads
  int open_block = -1;                     // residual block whose input is held
  int64_t held = 0;                        // bytes of that input
  bool first_in_block = false;
  for (size_t i = 1; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    if (folded(layer.kind)) {
      current = layer.output;
      continue;
    }
    const int block = layer.block;
    if (block != open_block) {
      open_block = -1;
      held = 0;
      if (block >= 0 && std::find(residual_blocks.begin(), residual_blocks.end(), block) !=
                                residual_blocks.end()) {
        open_block = block;
        held = bytes(current);
        first_in_block = true;
      }
    }
    // The first layer of a residual block reads the held tensor itself: count it once.
    const int64_t extra = open_block < 0 || first_in_block ? 0 : held;
    first_in_block = false;
    peak = std::max(peak, bytes(current) + bytes(layer.output) + extra);
    current = layer.output;
    if (layer.kind == LayerKind::Add) {
      open_block = -1;
      held = 0;
    }
  }
  return peak;
}

int64_t estimate_flash(const std::vector<LayerInfo>& layers) {
  int64_t flash = 0;
  for (const LayerInfo& layer : layers) {
    switch (layer.kind) {
      case LayerKind::Conv:
      case LayerKind::Depthwise:
        // macs = weights * out_h * out_w for a conv: recovers the weight count without bias.
        flash +=
            layer.macs / (layer.output.h * layer.output.w) + kFlashBytesPerChannel * layer.output.c;
        break;
      case LayerKind::FullyConnected:
        flash += layer.macs + kFlashBytesPerChannel * layer.output.c;
        break;
      case LayerKind::LayerNorm:
        flash += kFlashBytesPerNormChannel * layer.output.c;
        break;
      default:
        break;
    }
  }
  return flash;
}

CostEstimate estimate_cost(const ArchSpec& spec, const deploy::PlanOptions& memory, int64_t max_sram) {
  const std::vector<LayerInfo> layers = arch_layers(spec);
  CostEstimate cost;
  for (const LayerInfo& layer : layers) {
    cost.params += layer.params;
    cost.macs += layer.macs;
    if (layer.kind != LayerKind::Input)
      cost.activation_elements += layer.output.c * layer.output.h * layer.output.w;
  }
  // Deployable networks get the numbers the C emitter will use (real memory plan and
  // constants); the others keep the estimate, and int8_deployable says they cannot be exported.
  // The int8 graph is made once for both numbers, from the same rows.
  cost.int8_deployable = deploy::int8_problems(spec).empty();
  if (cost.int8_deployable) {
    const deploy::Graph graph = deploy::lower_arch(spec, layers);
    const deploy::MemoryPlan plan = deploy::plan_for_budget(graph, memory, max_sram);
    cost.peak_sram = plan.arena_bytes;
    cost.flash = deploy::constant_bytes(graph);
    const deploy::LatencyTable& table = deploy::builtin_latency_table();
    for (deploy::McuTarget target : deploy::mcu_targets())
      if (table.calibrated(target))
        cost.mcu_instructions.at(static_cast<size_t>(target)) =
            deploy::estimate_latency(graph, plan, target, table, max_sram).instructions;
  } else {
    cost.peak_sram = estimate_peak_sram(layers);
    cost.flash = estimate_flash(layers);
  }
  return cost;
}

int64_t scoring_memory_bytes(const CostEstimate& cost, int64_t images) {
  return 3 * 4 * (cost.activation_elements * images + cost.params);
}

}  // namespace piconas::nas::search
