#include "nas/pipeline/footprint.h"

#include <algorithm>
#include <cstdio>

#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"

namespace piconas::nas::pipeline {

Footprint deployment_footprint(const ArchSpec& spec, const deploy::PlanOptions& options, int64_t max_sram) {
  const deploy::Graph graph = deploy::lower_arch(spec);
  const deploy::MemoryPlan plan = deploy::plan_for_budget(graph, options, max_sram);
  Footprint f;
  f.arena_bytes = plan.arena_bytes;
  f.arena_without_in_place = deploy::plan_memory(graph, deploy::PlanOptions{options.strategy, false}).arena_bytes;
  f.arena_without_patching = deploy::plan_for_budget(graph, deploy::without_patching(options), max_sram).arena_bytes;
  f.arena_smallest = deploy::plan_smallest(graph, options).arena_bytes;
  deploy::PlanOptions apart = options;
  apart.in_place_elementwise = false;
  f.arena_without_elementwise = deploy::plan_for_budget(graph, apart, max_sram).arena_bytes;
  f.patch_layers = plan.patch.layers;
  f.grid_h = plan.patch.grid_h;
  f.grid_w = plan.patch.grid_w;
  f.extra_macs = plan.patch.extra_macs;
  f.macs = deploy::graph_macs(graph);
  f.patchable_layers = deploy::patchable_layers(graph);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const deploy::Layer& l = graph.layers[i];
    LayerFootprint row;
    row.name = l.name;
    row.kind = layer_kind_name(l.kind);
    const int step = static_cast<int>(i);
    row.live_sram = deploy::live_bytes(plan.buffers, step);
    const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
    const int64_t out_c = graph.tensors[static_cast<size_t>(l.output)].c;
    const int64_t kk = static_cast<int64_t>(l.kernel.h) * l.kernel.w;
    switch (l.kind) {
      case LayerKind::Conv: row.flash = out_c * (in.c / l.groups) * kk + 12 * out_c; break;
      case LayerKind::Depthwise: row.flash = out_c * kk + 12 * out_c; break;
      case LayerKind::FullyConnected:
        row.flash = out_c * in.c * in.h * in.w + 12 * out_c;
        break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::Add:
      case LayerKind::GlobalAvgPool:
      case LayerKind::Hardswish:
      case LayerKind::ChannelMul:
      case LayerKind::Mul: row.flash = 0; break;
      case LayerKind::Logistic: row.flash = 256; break;  // its table
      case LayerKind::Input:
      case LayerKind::BatchNorm:
      case LayerKind::LayerNorm:
      case LayerKind::Activation:
        deploy::unexpected_layer_kind(l.kind, "footprint");
    }
    f.constant_bytes += row.flash;
    f.layers.push_back(row);
  }
  return f;
}

std::string format_footprint(const Footprint& f) {
  size_t width = 5;
  for (const LayerFootprint& l : f.layers) width = std::max(width, l.name.size());
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-*s  %-14s %12s %12s\n", static_cast<int>(width), "layer", "kind",
                "live SRAM B", "flash B");
  out += line;
  for (const LayerFootprint& l : f.layers) {
    std::snprintf(line, sizeof line, "%-*s  %-14s %12lld %12lld\n", static_cast<int>(width), l.name.c_str(),
                  l.kind.c_str(), static_cast<long long>(l.live_sram), static_cast<long long>(l.flash));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "planned arena (PEAK_SRAM) %lld bytes; %lld bytes with every layer out of place, %lld bytes "
                "without patching; constants %lld bytes\n",
                static_cast<long long>(f.arena_bytes), static_cast<long long>(f.arena_without_in_place),
                static_cast<long long>(f.arena_without_patching), static_cast<long long>(f.constant_bytes));
  out += line;
  if (f.arena_without_elementwise != f.arena_bytes) {
    std::snprintf(line, sizeof line, "in-place add / hard-swish / channel multiply: %lld bytes without\n",
                  static_cast<long long>(f.arena_without_elementwise));
    out += line;
  }
  if (f.arena_smallest < f.arena_bytes) {
    std::snprintf(line, sizeof line,
                  "in place (1x1 convs and depthwise; what an SRAM budget picks when it needs it): %lld bytes\n",
                  static_cast<long long>(f.arena_smallest));
    out += line;
  }
  if (f.patch_layers > 0) {
    std::snprintf(line, sizeof line, "patching: first %d layers in %dx%d patches, %lld extra MACs (+%.1f%% of %lld)\n",
                  f.patch_layers, f.grid_h, f.grid_w, static_cast<long long>(f.extra_macs),
                  f.macs > 0 ? 100.0 * static_cast<double>(f.extra_macs) / static_cast<double>(f.macs) : 0.0,
                  static_cast<long long>(f.macs));
    out += line;
  }
  std::string counts;
  for (int n : f.patchable_layers) {
    if (!counts.empty()) counts += ' ';
    counts += std::to_string(n);
  }
  return out + "valid --patch-layers counts: " + (counts.empty() ? "none" : counts) + "\n";
}

}  // namespace piconas::nas::pipeline
