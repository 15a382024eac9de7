// pareto.svg of a search: two side-by-side scatter panels of the feasible history,
// aggregate (y) against MACs (x) and against peak SRAM (x). Points on the Pareto front
// (no other point has lower or equal cost and a higher aggregate) are drawn darker, the
// chosen architecture (result.best) is a larger red point. Hand-written SVG 1.1, no scripts.
#pragma once
#include <string>

#include "nas/search/search.h"

namespace piconas::nas::search {

std::string pareto_svg(const SearchResult& result);

}  // namespace piconas::nas::search
