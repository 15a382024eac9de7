// The metric list X-macro (nas/metrics/metric_list.def): one list of names, refused early.
#include <doctest/doctest.h>

#include "core/error.h"
#include "nas/metrics/metric_list.h"
#include "nas/metrics/score.h"
#include "nas/search/aggregate.h"
#include "nas/search/search_space.h"

using namespace piconas;
using namespace piconas::nas;

TEST_CASE("metric list: names round-trip and split into network and architecture metrics") {
  const std::vector<std::string> names = metrics::metric_names();
  CHECK(names.size() == 11);
  for (const std::string& name : names) {
    INFO(name);
    const metrics::Metric m = metrics::parse_metric(name);
    CHECK(metrics::metric_name(m) == name);
    CHECK(search::is_architecture_metric(name) == !metrics::needs_network(m));
  }
  CHECK(metrics::network_metric_names() == std::vector<std::string>{"naswot", "jacob_cov",
                                                                    "synflow", "logsynflow", "snip",
                                                                    "grad_norm"});
  CHECK(search::is_architecture_metric("skip"));
  CHECK(search::is_architecture_metric("peak_sram"));
  CHECK_FALSE(search::is_architecture_metric("naswot"));
  CHECK_FALSE(search::is_architecture_metric("bogus"));
}

TEST_CASE("metric list: an unknown metric is refused when the list is parsed, naming it") {
  CHECK_THROWS_WITH_AS(search::parse_metric_weights("naswot,synflw:0.5"),
                       doctest::Contains("unknown metric 'synflw'"), Error);
  CHECK_THROWS_WITH_AS(metrics::parse_metric("NASWOT"), doctest::Contains("known metrics: naswot"),
                       Error);
  CHECK(search::parse_metric_weights("naswot,logsynflow:0.5,flash").size() == 3);
}
