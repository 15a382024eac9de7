// Aggregators: FreeREA max-abs normalised sum (G6), z-score AVG with frozen statistics (G9),
// FreeREA prune (G7), metric lists.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "nas/search/search.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

std::vector<search::MetricWeight> freerea_metrics() {
  return {{"naswot", 1}, {"logsynflow", 1}, {"skip", 1}};
}

search::MetricValues m3(double naswot, double logsyn, double skip) {
  return {{"naswot", naswot}, {"logsynflow", logsyn}, {"skip", skip}};
}

}  // namespace

TEST_CASE("G6 freerea aggregate") {
  const auto a = search::freerea_aggregate({m3(100, 10, 0), m3(200, 5, 1), m3(150, 20, 0.25)},
                                           freerea_metrics());
  REQUIRE(a.size() == 3);
  CHECK(a[0] == doctest::Approx(1.0).epsilon(1e-8));
  CHECK(a[1] == doctest::Approx(2.25).epsilon(1e-8));
  CHECK(a[2] == doctest::Approx(2.0).epsilon(1e-8));
  CHECK(a[0] < 1.0);  // the +1e-9 in the denominator
}

TEST_CASE("freerea aggregate divides by max |v|: negative and mixed-sign columns") {
  // jacob_cov-like negative column [-10, -20, -5]: / 20 -> [-0.5, -1, -0.25] (dividing by
  // max v = -5 would flip the signs: [2, 4, 1]). Mixed column [-30, 10, 20]: / 30.
  const std::vector<search::MetricValues> set{{{"naswot", 100}, {"jacob_cov", -10}, {"mixed", -30}},
                                              {{"naswot", 200}, {"jacob_cov", -20}, {"mixed", 10}},
                                              {{"naswot", 150}, {"jacob_cov", -5}, {"mixed", 20}}};
  const auto a = search::freerea_aggregate(set, {{"naswot", 1.0}, {"jacob_cov", 1.0}});
  CHECK(a[0] == doctest::Approx(0.0).scale(1.0).epsilon(1e-8));
  CHECK(a[1] == doctest::Approx(0.0).scale(1.0).epsilon(1e-8));
  CHECK(a[2] == doctest::Approx(0.5).epsilon(1e-8));
  const auto m = search::freerea_aggregate(set, {{"mixed", 1.0}});
  CHECK(m[0] == doctest::Approx(-1.0).epsilon(1e-8));
  CHECK(m[1] == doctest::Approx(1.0 / 3).epsilon(1e-8));
  CHECK(m[2] == doctest::Approx(2.0 / 3).epsilon(1e-8));
}

TEST_CASE("freerea aggregate: non-finite values become the set's finite minimum; weights") {
  const double inf = std::numeric_limits<double>::infinity();
  const auto a = search::freerea_aggregate(
      {m3(-inf, 10, 0), m3(200, 5, 1), m3(150, std::nan(""), 0.25)}, freerea_metrics());
  // naswot -inf -> 150; logsynflow NaN -> 5.
  CHECK(a[0] == doctest::Approx(150.0 / 200 + 1.0 + 0).epsilon(1e-8));
  CHECK(a[2] == doctest::Approx(150.0 / 200 + 0.5 + 0.25).epsilon(1e-8));
  const auto w =
      search::freerea_aggregate({m3(1, 1, 1), m3(2, 2, 0)}, {{"naswot", 2.0}, {"skip", -1.0}});
  CHECK(w[0] == doctest::Approx(2 * 0.5 - 1).epsilon(1e-8));
  CHECK(w[1] == doctest::Approx(2 * 1.0).epsilon(1e-8));
  CHECK_THROWS_AS(search::freerea_aggregate({m3(1, 1, 1)}, {{"snip", 1}}), Error);
}

TEST_CASE("G9 z-score AVG, ddof = 1, frozen statistics") {
  const std::vector<search::MetricWeight> metrics{{"jacob_cov", 1}, {"synflow", 1}, {"snip", 1}};
  const std::vector<search::MetricValues> set{{{"jacob_cov", -10}, {"synflow", 1}, {"snip", 3}},
                                              {{"jacob_cov", -20}, {"synflow", 2}, {"snip", 3}},
                                              {{"jacob_cov", -30}, {"synflow", 6}, {"snip", 6}}};
  const search::ZScoreStats stats = zscore_fit(set, metrics);
  const double expected[] = {-0.11109307173602674, -0.3184382473996177, 0.42953131913564446};
  for (int i = 0; i < 3; ++i)
    CHECK(search::zscore_aggregate(set[i], stats, metrics) ==
          doctest::Approx(expected[i]).epsilon(1e-12));
  // Frozen: a later candidate does not change the statistics; (-20, 2, 3) again scores the same.
  CHECK(search::zscore_aggregate({{"jacob_cov", -20}, {"synflow", 2}, {"snip", 3}}, stats,
                                 metrics) == doctest::Approx(expected[1]).epsilon(1e-12));
  // Non-finite counts as the reference minimum (jacob -30 -> z = -1).
  const double low = search::zscore_aggregate(
      {{"jacob_cov", std::nan("")}, {"synflow", 3}, {"snip", 4}}, stats, metrics);
  CHECK(std::isfinite(low));
  CHECK_THROWS_AS(search::zscore_fit({set[0]}, metrics), Error);
}

TEST_CASE("G7 freerea prune") {
  // A(0,100,10,0) B(0,200,5,1) C(1,150,20,0.25) D(1,120,30,0.5) E(1,80,25,0), N = 3:
  // A is the oldest (first minimum); over {B,C,D,E}: B 2.1667, C 1.6667, D 2.1, E 1.2333.
  const std::vector<int64_t> generations{0, 0, 1, 1, 1};
  const std::vector<search::MetricValues> metrics{m3(100, 10, 0), m3(200, 5, 1), m3(150, 20, 0.25),
                                                  m3(120, 30, 0.5), m3(80, 25, 0)};
  const auto kept = search::freerea_prune(generations, metrics, 3, freerea_metrics(), std::nullopt);
  CHECK(kept == std::vector<size_t>{1, 2, 3});
  const auto over = search::freerea_aggregate({metrics[1], metrics[2], metrics[3], metrics[4]},
                                              freerea_metrics());
  CHECK(over[0] == doctest::Approx(2.1667).epsilon(1e-4));
  CHECK(over[1] == doctest::Approx(1.6667).epsilon(1e-4));
  CHECK(over[2] == doctest::Approx(2.1).epsilon(1e-4));
  CHECK(over[3] == doctest::Approx(1.2333).epsilon(1e-4));
  // At or under N nothing is removed.
  CHECK(freerea_prune({0, 1, 2}, {metrics[0], metrics[1], metrics[2]}, 3, freerea_metrics(),
                      std::nullopt)
            .size() == 3);
}

TEST_CASE("metric lists and names") {
  const auto m = search::parse_metric_weights("naswot,logsynflow:0.5,skip");
  REQUIRE(m.size() == 3);
  CHECK(m[1].name == "logsynflow");
  CHECK(m[1].weight == 0.5);
  CHECK(search::metric_weights_text(m) == "naswot,logsynflow:0.5,skip");
  CHECK_THROWS_AS(search::parse_metric_weights(""), Error);
  CHECK_THROWS_AS(search::parse_metric_weights("a,a"), Error);
  CHECK_THROWS_AS(search::parse_metric_weights("a:x"), Error);
  CHECK(search::parse_aggregator("zscore") == search::AggregatorKind::ZScore);
  CHECK_THROWS_AS(search::parse_aggregator("mean"), Error);
  CHECK(search::parse_strategy("rea") == search::StrategyKind::Rea);
  CHECK_THROWS_AS(search::parse_strategy("bo"), Error);
}
