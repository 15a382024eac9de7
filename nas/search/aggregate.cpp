#include "nas/search/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "nas/metrics/metric_list.h"

namespace piconas::nas::search {

namespace {

double value_of(const MetricValues& values, const std::string& name) {
  auto it = values.find(name);
  PICONAS_CHECK(it != values.end(),
                "aggregate: metric '" << name << "' missing from the candidate's values");
  return it->second;
}

double finite_min(const std::vector<double>& values) {
  double low = std::numeric_limits<double>::infinity();
  for (double v : values)
    if (std::isfinite(v)) low = std::min(low, v);
  return std::isfinite(low) ? low : 0.0;
}

}  // namespace

AggregatorKind parse_aggregator(const std::string& name) {
  if (name == "freerea") return AggregatorKind::FreeRea;
  if (name == "zscore") return AggregatorKind::ZScore;
  throw Error("unknown aggregator '" + name + "' (known: freerea, zscore)");
}

const char* aggregator_name(AggregatorKind kind) {
  return kind == AggregatorKind::FreeRea ? "freerea" : "zscore";
}

std::vector<MetricWeight> parse_metric_weights(const std::string& text) {
  std::vector<MetricWeight> metrics;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    MetricWeight metric;
    const size_t colon = item.find(':');
    metric.name = item.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string weight = item.substr(colon + 1);
      char* end = nullptr;
      metric.weight = std::strtod(weight.c_str(), &end);
      PICONAS_CHECK(
          !weight.empty() && end == weight.c_str() + weight.size() && std::isfinite(metric.weight),
          "metric list '" << text << "': bad weight '" << weight << "'");
    }
    PICONAS_CHECK(!metric.name.empty(), "metric list '" << text << "': empty metric name");
    PICONAS_CHECK(metrics::find_metric(metric.name).has_value(),
                  "metric list '" << text << "': unknown metric '" << metric.name
                                  << "'; known metrics: " << metrics::metric_names_text());
    for (const auto& m : metrics)
      PICONAS_CHECK(m.name != metric.name,
                    "metric list '" << text << "': '" << m.name << "' twice");
    metrics.push_back(metric);
  }
  PICONAS_CHECK(!metrics.empty(), "metric list is empty");
  return metrics;
}

std::string metric_weights_text(const std::vector<MetricWeight>& metrics) {
  std::ostringstream out;
  out.precision(17);
  for (size_t i = 0; i < metrics.size(); ++i) {
    out << (i ? "," : "") << metrics[i].name;
    if (metrics[i].weight != 1.0) out << ":" << metrics[i].weight;
  }
  return out.str();
}

std::vector<double> freerea_aggregate(const std::vector<MetricValues>& set,
                                      const std::vector<MetricWeight>& metrics) {
  std::vector<double> total(set.size(), 0.0);
  for (const MetricWeight& metric : metrics) {
    std::vector<double> column;
    for (const MetricValues& values : set) column.push_back(value_of(values, metric.name));
    const double low = finite_min(column);
    double max_abs = 0.0;
    for (double& v : column) {
      if (!std::isfinite(v)) v = low;
      max_abs = std::max(max_abs, std::fabs(v));
    }
    for (size_t i = 0; i < set.size(); ++i)
      total[i] += metric.weight * column[i] / (max_abs + 1e-9);
  }
  return total;
}

ZScoreStats zscore_fit(const std::vector<MetricValues>& reference,
                       const std::vector<MetricWeight>& metrics) {
  PICONAS_CHECK(reference.size() >= 2,
                "zscore: need at least 2 reference candidates, got " << reference.size());
  ZScoreStats result;
  for (const MetricWeight& metric : metrics) {
    std::vector<double> column;
    for (const MetricValues& values : reference) column.push_back(value_of(values, metric.name));
    ZScoreStats::Stat stat;
    stat.finite_min = finite_min(column);
    double sum = 0;
    for (double& v : column) {
      if (!std::isfinite(v)) v = stat.finite_min;
      sum += v;
    }
    stat.mean = sum / static_cast<double>(column.size());
    double squares = 0;
    for (double v : column) squares += (v - stat.mean) * (v - stat.mean);
    stat.stddev = std::sqrt(squares / static_cast<double>(column.size() - 1));
    result.stats[metric.name] = stat;
  }
  return result;
}

double zscore_aggregate(const MetricValues& values, const ZScoreStats& stats,
                        const std::vector<MetricWeight>& metrics) {
  double total = 0, weights = 0;
  for (const MetricWeight& metric : metrics) {
    auto it = stats.stats.find(metric.name);
    PICONAS_CHECK(it != stats.stats.end(),
                  "zscore: no reference statistics for '" << metric.name << "'");
    const ZScoreStats::Stat& stat = it->second;
    double v = value_of(values, metric.name);
    if (!std::isfinite(v)) v = stat.finite_min;
    const double z = stat.stddev > 0 ? (v - stat.mean) / stat.stddev : 0.0;
    total += metric.weight * z;
    weights += metric.weight;
  }
  PICONAS_CHECK(weights != 0, "zscore: the metric weights sum to zero");
  return total / weights;
}

}  // namespace piconas::nas::search
