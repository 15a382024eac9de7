// Fuzzes the text parsers of the search (nas/search): the NAS-Bench-201 genotype
// (parse_nb201), the metric list (parse_metric_weights), strategy and aggregator names, and
// SearchSpace::parse of the three spaces. Properties of accepted texts: nb201 and space texts
// are canonical (they print back to themselves), a space's candidate is a valid member that
// its genes rebuild, and a metric list survives printing and re-parsing.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "nas/search/aggregate.h"
#include "nas/search/nb201_space.h"
#include "nas/search/search.h"
#include "nas/search/search_space.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::search;

namespace {

bool same_weights(const std::vector<MetricWeight>& a, const std::vector<MetricWeight>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].weight != b[i].weight) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<SearchSpace> spaces[] = {make_search_space("blocks", SpaceOptions{}),
                                                        make_search_space("mbv2", SpaceOptions{}),
                                                        make_search_space("nb201", SpaceOptions{})};
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    FUZZ_CHECK(nb201_text(parse_nb201(text)) == text);
  } catch (const Error&) {
  }
  try {
    const std::vector<MetricWeight> metrics = parse_metric_weights(text);
    FUZZ_CHECK(same_weights(parse_metric_weights(metric_weights_text(metrics)), metrics));
  } catch (const Error&) {
  }
  try {
    FUZZ_CHECK(strategy_name(parse_strategy(text)) == text);
  } catch (const Error&) {
  }
  try {
    FUZZ_CHECK(aggregator_name(parse_aggregator(text)) == text);
  } catch (const Error&) {
  }
  for (const auto& space : spaces) {
    try {
      const Candidate c = space->parse(text);
      FUZZ_CHECK(c.text == text);
      FUZZ_CHECK(space->problems(c).empty());
      FUZZ_CHECK(space->from_genes(c.genes).text == text);
      FUZZ_CHECK(space->cost(c).params > 0);
    } catch (const Error&) {
    }
  }
  return 0;
}
