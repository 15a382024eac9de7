// Metric: the enum generated from nas/metrics/metric_list.def, with the text names used on the
// command line, in configurations and in history.csv columns.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace piconas::nas::metrics {

enum class Metric {
#define PICONAS_METRIC(name, text, needs_network) name,
#include "nas/metrics/metric_list.def"
#undef PICONAS_METRIC
};

const char* metric_name(Metric metric);
// True for the metrics computed from a network and the scoring batch (score_network); false
// for the architecture-only ones (skip and the costs).
bool needs_network(Metric metric);
std::optional<Metric> find_metric(std::string_view name);
// The Metric called `name`; an unknown name is an Error listing every known metric.
Metric parse_metric(std::string_view name);
// Every text name, in list order; and the same joined by ", " for messages.
std::vector<std::string> metric_names();
std::string metric_names_text();

}  // namespace piconas::nas::metrics
