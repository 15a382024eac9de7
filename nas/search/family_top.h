// A shortlist that keeps at most a few networks per family: the candidate part of the
// `piconas run` shortlist when shortlist_per_family is set (nas/pipeline). The aggregate's top
// of a search is often one family, near copies that differ in a kernel size or one block's
// kind (docs/search_quality.md, sixth study), so the successive halving that follows compares
// siblings instead of designs.
//
// A network's family is its block count and each block's stride and output width, in order;
// block kinds, kernel sizes, expansions and the options of ir blocks are free. Two networks of
// one family have the same resolution schedule and feature widths.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/search/search.h"

namespace piconas::nas::search {

// "s2c32|s1c32|s2c64": each block's stride and output width, in order.
std::string family_key(const ArchSpec& arch);

// History indices of the `count` feasible entries with the highest aggregate (aggregates per
// history entry, as SearchResult::aggregates; NaN entries skipped), best first, ties to the
// earlier entry, one entry per text, and at most `per_family` entries per family_key (an entry
// without an architecture is a family of its own text). per_family 0: no family limit, which is
// the search's own top (SearchResult::top). Fewer when the history has fewer such entries.
// count >= 0, per_family >= 0.
std::vector<int64_t> top_per_family(const std::vector<HistoryEntry>& history,
                                    const std::vector<double>& aggregates, int count,
                                    int per_family);

}  // namespace piconas::nas::search
