// Aggregation of several training-free metrics into one score (docs/metrics.md section 4).
// Higher is better for every metric and for the aggregate.
//
//   freerea  over the set being ranked (a tournament sample, the population, the final
//            history): every metric value divided by (max |v| over the set + 1e-9), signs kept,
//            weighted sum. Non-finite values are first replaced by the set's finite minimum
//            (0 when the metric has no finite value in the set).
//   zscore   statistics frozen on a reference set (the initial population): per metric mean
//            and sample standard deviation (ddof = 1); a candidate's aggregate is the weighted
//            mean of its z-scores. Non-finite values (reference or later) count as the
//            reference's finite minimum; a metric with zero spread contributes z = 0.
// A metric missing from a candidate's values is an Error naming it.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace piconas::nas::search {

using MetricValues = std::map<std::string, double>;

struct MetricWeight {
  std::string name;
  double weight = 1.0;
};

enum class AggregatorKind { FreeRea, ZScore };
AggregatorKind parse_aggregator(const std::string& name);  // "freerea" | "zscore"
const char* aggregator_name(AggregatorKind kind);

// "naswot,logsynflow:0.5,skip" -> {naswot 1}, {logsynflow 0.5}, {skip 1}; Error on bad syntax,
// a name not in nas/metrics/metric_list.def, duplicates or an empty list.
std::vector<MetricWeight> parse_metric_weights(const std::string& text);
std::string metric_weights_text(const std::vector<MetricWeight>& metrics);

std::vector<double> freerea_aggregate(const std::vector<MetricValues>& set,
                                      const std::vector<MetricWeight>& metrics);

struct ZScoreStats {
  struct Stat {
    double mean = 0, stddev = 0, finite_min = 0;
  };
  std::map<std::string, Stat> stats;
};

// Needs at least two reference members.
ZScoreStats zscore_fit(const std::vector<MetricValues>& reference,
                       const std::vector<MetricWeight>& metrics);
double zscore_aggregate(const MetricValues& values, const ZScoreStats& stats,
                        const std::vector<MetricWeight>& metrics);

}  // namespace piconas::nas::search
