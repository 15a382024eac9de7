#include "nas/metrics/metric_list.h"

#include "core/error.h"

namespace piconas::nas::metrics {

const char* metric_name(Metric metric) {
  switch (metric) {
#define PICONAS_METRIC(name, text, needs_network) \
  case Metric::name:                              \
    return text;
#include "nas/metrics/metric_list.def"
#undef PICONAS_METRIC
  }
  throw Error("metric_name: invalid Metric " + std::to_string(static_cast<int>(metric)));
}

bool needs_network(Metric metric) {
  switch (metric) {
#define PICONAS_METRIC(name, text, needs_network) \
  case Metric::name:                              \
    return needs_network;
#include "nas/metrics/metric_list.def"
#undef PICONAS_METRIC
  }
  throw Error("needs_network: invalid Metric " + std::to_string(static_cast<int>(metric)));
}

std::optional<Metric> find_metric(std::string_view name) {
#define PICONAS_METRIC(name_, text, needs_network) \
  if (name == text) return Metric::name_;
#include "nas/metrics/metric_list.def"
#undef PICONAS_METRIC
  return std::nullopt;
}

std::vector<std::string> metric_names() {
  return {
#define PICONAS_METRIC(name, text, needs_network) text,
#include "nas/metrics/metric_list.def"
#undef PICONAS_METRIC
  };
}

std::string metric_names_text() {
  std::string list;
  for (const std::string& known : metric_names()) list += (list.empty() ? "" : ", ") + known;
  return list;
}

Metric parse_metric(std::string_view name) {
  if (const std::optional<Metric> m = find_metric(name)) return *m;
  throw Error("unknown metric '" + std::string(name) + "'; known metrics: " + metric_names_text());
}

}  // namespace piconas::nas::metrics
