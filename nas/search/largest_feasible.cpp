#include "nas/search/largest_feasible.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>

#include "core/error.h"

namespace piconas::nas::search {

SizeKey parse_size_key(const std::string& text) {
  if (text == "params") return SizeKey::Params;
  if (text == "macs") return SizeKey::Macs;
  throw Error("unknown size key '" + text + "' (params | macs)");
}

std::vector<SizeKey> parse_size_keys(const std::string& text) {
  std::vector<SizeKey> keys;
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    const std::string item = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    SizeKey key{};
    try {
      key = parse_size_key(item);
    } catch (const Error& e) {
      throw Error("size keys '" + text + "': " + e.what());
    }
    PICONAS_CHECK(std::find(keys.begin(), keys.end(), key) == keys.end(),
                  "size keys '" << text << "' name '" << item << "' twice");
    keys.push_back(key);
    if (comma == std::string::npos) return keys;
    begin = comma + 1;
  }
}

const char* size_key_name(SizeKey key) { return key == SizeKey::Params ? "params" : "macs"; }

DrawSet parse_draw_set(const std::string& text) {
  if (text == "all") return DrawSet::All;
  if (text == "initial") return DrawSet::Initial;
  throw Error("unknown draw set '" + text + "' (all | initial)");
}

const char* draw_set_name(DrawSet set) { return set == DrawSet::All ? "all" : "initial"; }

int64_t last_counted_generation(DrawSet from, StrategyKind strategy, int64_t batch) {
  if (from == DrawSet::All) return std::numeric_limits<int64_t>::max();
  switch (strategy) {
    case StrategyKind::Rea:
    case StrategyKind::FreeRea:
      return 0;
    case StrategyKind::Random:
      return std::numeric_limits<int64_t>::max();
    case StrategyKind::Rl:
      return batch;
  }
  throw Error("last_counted_generation: unknown strategy");
}

std::vector<int64_t> largest_feasible(const std::vector<HistoryEntry>& history,
                                      const std::vector<int64_t>& exclude, int count, SizeKey by,
                                      int64_t last_generation) {
  PICONAS_CHECK(count >= 0, "largest_feasible: count must be >= 0, got " << count);
  std::set<std::string> taken;
  for (int64_t index : exclude) taken.insert(history.at(static_cast<size_t>(index)).candidate.text);
  const auto size = [&](size_t i) {
    return by == SizeKey::Params ? history[i].cost.params : history[i].cost.macs;
  };
  std::vector<size_t> order(history.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return size(a) > size(b); });
  std::vector<int64_t> largest;
  for (size_t i : order) {
    if (static_cast<int>(largest.size()) == count) break;
    if (!history[i].feasible || history[i].generation > last_generation) continue;
    if (!taken.insert(history[i].candidate.text).second) continue;
    largest.push_back(static_cast<int64_t>(i));
  }
  return largest;
}

}  // namespace piconas::nas::search
