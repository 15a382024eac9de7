#include "nas/search/search_space.h"

#include "core/error.h"
#include "nas/metrics/metric_list.h"
#include "nas/search/blocks_space.h"
#include "nas/search/graph_space.h"
#include "nas/search/mbv2_space.h"
#include "nas/search/nb201_space.h"

namespace piconas::nas::search {

std::vector<std::string> search_space_names() { return {"blocks", "mbv2", "nb201", "graph"}; }

std::unique_ptr<SearchSpace> make_search_space(std::string_view name, const SpaceOptions& options) {
  if (name == "blocks") return std::make_unique<BlocksSpace>(options);
  if (name == "mbv2") return std::make_unique<Mbv2Space>(options);
  if (name == "nb201") return std::make_unique<Nb201Space>(options);
  if (name == "graph") return std::make_unique<GraphSpace>(options);
  throw Error("unknown search space '" + std::string(name) + "' (known: blocks, mbv2, nb201, graph)");
}

bool is_architecture_metric(std::string_view metric) {
  const std::optional<metrics::Metric> m = metrics::find_metric(metric);
  return m && !metrics::needs_network(*m);
}

double architecture_metric(const SearchSpace& space, const Candidate& c, const CostEstimate& cost,
                           std::string_view metric) {
  if (metric == "skip") return space.skip(c);
  if (metric == "params") return static_cast<double>(cost.params);
  if (metric == "macs") return static_cast<double>(cost.macs);
  if (metric == "peak_sram") return static_cast<double>(cost.peak_sram);
  if (metric == "flash") return static_cast<double>(cost.flash);
  throw Error("'" + std::string(metric) + "' is not an architecture-only metric");
}

int draw_any(const std::vector<int>& values, Rng& rng) {
  PICONAS_CHECK(!values.empty(), "draw_any: no values to draw from");
  return values[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(values.size()) - 1))];
}

int draw_other(const std::vector<int>& values, int current, Rng& rng) {
  std::vector<int> others;
  for (int v : values)
    if (v != current) others.push_back(v);
  PICONAS_CHECK(!others.empty(), "draw_other: no value other than " << current);
  return draw_any(others, rng);
}

}  // namespace piconas::nas::search
