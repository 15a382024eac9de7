#include "nas/pipeline/footprint.h"

#include <algorithm>
#include <cstdio>

#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"

namespace piconas::nas {

Footprint deployment_footprint(const ArchSpec& spec) {
  const deploy::Graph graph = deploy::lower_arch(spec);
  const deploy::MemoryPlan plan = deploy::plan_memory(graph);
  Footprint f;
  f.arena_bytes = plan.arena_bytes;
  f.arena_without_in_place = deploy::plan_memory(graph, deploy::PlanOptions{deploy::PlanStrategy::Best, false}).arena_bytes;
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const deploy::Layer& l = graph.layers[i];
    LayerFootprint row;
    row.name = l.name;
    row.kind = deploy::op_kind_name(l.kind);
    const int step = static_cast<int>(i);
    for (const deploy::Buffer& b : plan.buffers)
      if (b.first <= step && step <= b.last) row.live_sram += b.size;
    const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
    const int64_t out_c = graph.tensors[static_cast<size_t>(l.output)].c;
    const int64_t kk = static_cast<int64_t>(l.kernel.h) * l.kernel.w;
    switch (l.kind) {
      case deploy::OpKind::Conv: row.flash = out_c * in.c * kk + 12 * out_c; break;
      case deploy::OpKind::Depthwise: row.flash = out_c * kk + 12 * out_c; break;
      case deploy::OpKind::FullyConnected: row.flash = out_c * in.c + 12 * out_c; break;
      case deploy::OpKind::Add:
      case deploy::OpKind::GlobalAvgPool: row.flash = 0; break;
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
                "planned arena (PEAK_SRAM) %lld bytes (in-place depthwise where it lowers it; %lld bytes without), constants %lld bytes\n",
                static_cast<long long>(f.arena_bytes), static_cast<long long>(f.arena_without_in_place),
                static_cast<long long>(f.constant_bytes));
  return out + line;
}

}  // namespace piconas::nas
