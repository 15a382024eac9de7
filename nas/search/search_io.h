// Files of a search, all written atomically (core/atomic_file.h):
//   search_state.json  the checkpoint: settings that fix the draws, the RNG state, step,
//                      population, full history, z-score statistics, elapsed time.
//   history.csv        one row per history entry: step (row index), generation, feasible,
//                      text, params, macs, peak_sram, flash, aggregate, then each metric.
//   best.json          the top-k distinct candidates with their metrics, costs and aggregate.
//   search.json        space, settings, seed, counts and timing.
//   pareto.svg         aggregate vs MACs and aggregate vs peak SRAM (pareto_svg.h).
// Doubles are printed with 17 significant digits ("%.17g"), so a rerun with the same settings
// gives byte-identical history.csv and best.json. Non-finite metric values are written as
// the strings "nan", "inf", "-inf" in JSON and as nan / inf / -inf in the CSV.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "nas/search/search.h"

namespace piconas::nas::search {

std::string search_state_path(const std::string& output_dir);

// Settings that determine the sequence of draws (compared on resume).
nlohmann::json draw_settings_json(const SearchSpace& space, const SearchSettings& settings);
// Every setting, for search.json.
nlohmann::json settings_json(const SearchSpace& space, const SearchSettings& settings);

nlohmann::json state_to_json(const SearchState& state);
// Candidates are re-parsed with `space`; Error when a text does not belong to it.
SearchState state_from_json(const nlohmann::json& json, const SearchSpace& space);

void save_search_state(const std::string& path, const SearchSpace& space,
                       const SearchSettings& settings, const SearchState& state);
// Error naming the file when it is missing, malformed, or was written with settings whose
// draws differ (naming the first differing setting).
SearchState load_search_state(const std::string& path, const SearchSpace& space,
                              const SearchSettings& settings);
// The same from the file's text already in memory; `source` names it in error messages.
SearchState decode_search_state(const std::string& text, const std::string& source,
                                const SearchSpace& space, const SearchSettings& settings);

std::string history_csv(const SearchResult& result, const SearchSettings& settings);
std::string best_json(const SearchResult& result, const SearchSettings& settings);
std::string search_json(const SearchResult& result, const SearchSpace& space,
                        const SearchSettings& settings);
// Writes history.csv, best.json, search.json and pareto.svg into settings.output_dir.
void write_search_outputs(const SearchResult& result, const SearchSpace& space,
                          const SearchSettings& settings);

}  // namespace piconas::nas::search
