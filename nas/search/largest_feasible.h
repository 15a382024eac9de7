// The largest feasible networks of a search history: the size-aware part of the `piconas run`
// shortlist (nas/pipeline, shortlist_largest). The training-free aggregate barely ranks the
// default space, #params and MACs a little better (docs/search_quality.md), so the shortlist
// can add the biggest networks that fit the budgets to the aggregate's top candidates and let
// the short trainings decide.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/search/search.h"

namespace piconas::nas::search {

enum class SizeKey { Params, Macs };

// Which draws of the history count: every one, or only the initial ones: the uniform feasible
// draws of the space made before the strategy steers the search (last_counted_generation).
enum class DrawSet { All, Initial };

// "params" | "macs"; Error naming the value otherwise.
SizeKey parse_size_key(const std::string& text);
// A comma-separated list of size keys, each at most once ("params", "macs", "params,macs",
// "macs,params"), in the order given; Error naming the list otherwise.
std::vector<SizeKey> parse_size_keys(const std::string& text);
const char* size_key_name(SizeKey key);
// "all" | "initial"; Error naming the value otherwise.
DrawSet parse_draw_set(const std::string& text);
const char* draw_set_name(DrawSet set);

// The last generation whose draws `from` counts: every one (All), or the strategy's initial
// draws (Initial): rea and freerea their initial population (generation 0); random every draw
// (all are uniform); rl its first batch of `batch` draws (generations 1..batch, drawn from the
// uniform initial policy).
int64_t last_counted_generation(DrawSet from, StrategyKind strategy, int64_t batch);

// History indices of the `count` feasible entries with the most params (or MACs), largest
// first, ties to the earlier entry; one entry per text, and none whose text is the text of an
// entry in `exclude` (history indices, e.g. the search's top); only entries of generation <=
// last_generation (last_counted_generation). Fewer when the history has fewer such entries.
// count >= 0.
std::vector<int64_t> largest_feasible(const std::vector<HistoryEntry>& history,
                                      const std::vector<int64_t>& exclude, int count, SizeKey by,
                                      int64_t last_generation);

}  // namespace piconas::nas::search
