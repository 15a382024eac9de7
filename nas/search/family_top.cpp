#include "nas/search/family_top.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"

namespace piconas::nas::search {

std::string family_key(const ArchSpec& arch) {
  std::string key;
  for (const BlockSpec& b : arch.blocks) {
    if (!key.empty()) key += '|';
    key += 's';
    key += std::to_string(b.stride);
    key += 'c';
    key += std::to_string(b.out_channels);
  }
  return key;
}

std::vector<int64_t> top_per_family(const std::vector<HistoryEntry>& history,
                                    const std::vector<double>& aggregates, int count,
                                    int per_family) {
  PICONAS_CHECK(count >= 0, "top_per_family: count must be >= 0, got " << count);
  PICONAS_CHECK(per_family >= 0, "top_per_family: per_family must be >= 0, got " << per_family);
  PICONAS_CHECK(aggregates.size() == history.size(),
                "top_per_family: " << aggregates.size() << " aggregates for " << history.size()
                                   << " history entries");
  std::vector<size_t> order;
  for (size_t i = 0; i < history.size(); ++i)
    if (history[i].feasible && !std::isnan(aggregates[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return aggregates[a] > aggregates[b]; });
  std::set<std::string> texts;
  std::map<std::string, int> family_count;
  std::vector<int64_t> top;
  for (size_t i : order) {
    if (static_cast<int>(top.size()) == count) break;
    const Candidate& c = history[i].candidate;
    const std::string family = c.arch ? family_key(*c.arch) : "text:" + c.text;
    if (per_family > 0 && family_count[family] >= per_family) continue;
    if (!texts.insert(c.text).second) continue;
    ++family_count[family];
    top.push_back(static_cast<int64_t>(i));
  }
  return top;
}

}  // namespace piconas::nas::search
