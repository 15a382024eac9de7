#include "nas/search/search_io.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/search/pareto_svg.h"

namespace piconas::nas::search {

using nlohmann::json;

namespace {

std::string number_str(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

json double_json(double v) { return std::isfinite(v) ? json(v) : json(number_str(v)); }

double double_from(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "nan") return std::nan("");
  if (s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  throw Error("search state: bad number '" + s + "'");
}

// Integers are read only from JSON integers: nlohmann would cast a float (1.5 -> 1, and 1e30 is
// undefined behaviour).
int64_t int_from(const json& j) {
  PICONAS_CHECK(j.is_number_integer() &&
                    (!j.is_number_unsigned() || j.get<uint64_t>() <= uint64_t{INT64_MAX}),
                "search state: expected an integer, found " << j.dump());
  return j.get<int64_t>();
}

uint64_t uint_from(const json& j) {
  PICONAS_CHECK(j.is_number_unsigned(),
                "search state: expected a non-negative integer, found " << j.dump());
  return j.get<uint64_t>();
}

json cost_json(const CostEstimate& c) {
  return {{"params", c.params}, {"macs", c.macs}, {"peak_sram", c.peak_sram}, {"flash", c.flash}};
}

CostEstimate cost_from(const json& j) {
  return {int_from(j.at("params")), int_from(j.at("macs")), int_from(j.at("peak_sram")),
          int_from(j.at("flash"))};
}

json metrics_json(const MetricValues& values) {
  json out = json::object();
  for (const auto& [name, v] : values) out[name] = double_json(v);
  return out;
}

json constraints_json(const Constraints& c) {
  return {{"max_params", c.max_params},
          {"max_macs", c.max_macs},
          {"max_peak_sram", c.max_peak_sram},
          {"max_flash", c.max_flash},
          {"max_scoring_memory", c.max_scoring_memory},
          {"scoring_images", c.scoring_images},
          {"max_latency_ms", c.max_latency_ms},
          {"mcu_mhz", c.mcu_mhz},
          {"latency_target", deploy::mcu_board(c.latency_target).name}};
}

}  // namespace

std::string search_state_path(const std::string& output_dir) {
  return (std::filesystem::path(output_dir) / "search_state.json").string();
}

json draw_settings_json(const SearchSpace& space, const SearchSettings& s) {
  json metrics = json::array();
  for (const MetricWeight& m : s.metrics)
    metrics.push_back({{"name", m.name}, {"weight", m.weight}});
  json j = {{"space", space.name()},
          {"strategy", strategy_name(s.strategy)},
          {"population", s.population},
          {"sample_size", s.sample_size},
          {"batch", s.batch},
          {"seed", s.seed},
          {"metrics", metrics},
          {"aggregator", aggregator_name(s.aggregator)},
          {"constraints", constraints_json(s.constraints)},
          {"max_infeasible", s.max_infeasible}};
  if (s.strategy == StrategyKind::Rl) {
    j["rl_learning_rate"] = s.rl_learning_rate;
    j["rl_baseline_decay"] = s.rl_baseline_decay;
  }
  if (!s.initial_archs.empty()) j["initial_archs"] = s.initial_archs;  // absent: none (as before)
  return j;
}

json settings_json(const SearchSpace& space, const SearchSettings& s) {
  json j = draw_settings_json(space, s);
  j["steps"] = s.steps;
  j["time_budget"] = s.time_budget;
  j["checkpoint_every"] = s.checkpoint_every;
  j["output_dir"] = s.output_dir;
  j["resume"] = s.resume;
  j["top_k"] = s.top_k;
  return j;
}

json state_to_json(const SearchState& state) {
  json history = json::array();
  for (const HistoryEntry& e : state.history)
    history.push_back({{"text", e.candidate.text},
                       {"generation", e.generation},
                       {"feasible", e.feasible},
                       {"cost", cost_json(e.cost)},
                       {"metrics", metrics_json(e.metrics)}});
  json population = json::array();
  for (const Member& m : state.population) population.push_back({m.entry, m.generation});
  json j = {{"history", history},
            {"population", population},
            {"rng", state.rng},
            {"step", state.step},
            {"initialized", state.initialized},
            {"consecutive_infeasible", state.consecutive_infeasible},
            {"elapsed_seconds", state.elapsed_seconds}};
  if (state.zscore) {
    json stats = json::object();
    for (const auto& [name, st] : state.zscore->stats)
      stats[name] = {double_json(st.mean), double_json(st.stddev), double_json(st.finite_min)};
    j["zscore"] = stats;
  }
  if (state.policy)
    j["policy"] = {{"logits", state.policy->logits},
                   {"baseline", state.policy->baseline},
                   {"has_baseline", state.policy->has_baseline},
                   {"updates", state.policy->updates},
                   {"pending_decisions", state.policy->pending_decisions},
                   {"pending_entries", state.policy->pending_entries}};
  return j;
}

SearchState state_from_json(const json& j, const SearchSpace& space) {
  SearchState state;
  for (const json& e : j.at("history")) {
    HistoryEntry entry;
    entry.candidate = space.parse(e.at("text").get<std::string>());
    entry.generation = int_from(e.at("generation"));
    entry.feasible = e.at("feasible").get<bool>();
    entry.cost = cost_from(e.at("cost"));
    for (const auto& [name, v] : e.at("metrics").items()) entry.metrics[name] = double_from(v);
    state.history.push_back(std::move(entry));
  }
  for (const json& m : j.at("population")) {
    const Member member{int_from(m.at(0)), int_from(m.at(1))};
    PICONAS_CHECK(member.entry >= 0 && member.entry < static_cast<int64_t>(state.history.size()),
                  "search state: population entry " << member.entry << " outside the history");
    state.population.push_back(member);
  }
  const json& rng = j.at("rng");
  PICONAS_CHECK(rng.is_array() && rng.size() == state.rng.size(),
                "search state: rng must hold " << state.rng.size() << " integers");
  for (size_t i = 0; i < state.rng.size(); ++i) state.rng[i] = uint_from(rng[i]);
  state.step = int_from(j.at("step"));
  state.initialized = j.at("initialized").get<bool>();
  // What a resumed search relies on: it draws tournaments from the population and ranks the
  // members by their metrics.
  PICONAS_CHECK(state.step >= 0, "search state: negative step " << state.step);
  PICONAS_CHECK(!state.initialized || !state.population.empty(),
                "search state: initialized but the population is empty");
  for (const Member& m : state.population)
    PICONAS_CHECK(state.history[m.entry].feasible,
                  "search state: population entry " << m.entry << " is an infeasible candidate");
  state.consecutive_infeasible = int_from(j.at("consecutive_infeasible"));
  state.elapsed_seconds = j.at("elapsed_seconds").get<double>();
  if (j.contains("zscore")) {
    ZScoreStats stats;
    for (const auto& [name, v] : j.at("zscore").items())
      stats.stats[name] = {double_from(v.at(0)), double_from(v.at(1)), double_from(v.at(2))};
    state.zscore = stats;
  }
  if (j.contains("policy")) {
    const json& p = j.at("policy");
    PolicyState policy;
    const std::vector<int> sizes = space.decision_sizes();
    policy.logits = p.at("logits").get<std::vector<std::vector<double>>>();
    policy.baseline = p.at("baseline").get<double>();
    policy.has_baseline = p.at("has_baseline").get<bool>();
    policy.updates = int_from(p.at("updates"));
    policy.pending_decisions = p.at("pending_decisions").get<std::vector<std::vector<int>>>();
    policy.pending_entries = p.at("pending_entries").get<std::vector<int64_t>>();
    PICONAS_CHECK(policy.pending_decisions.size() == policy.pending_entries.size(),
                  "search state: " << policy.pending_decisions.size() << " pending decisions for "
                                   << policy.pending_entries.size() << " pending entries");
    for (int64_t entry : policy.pending_entries)
      PICONAS_CHECK(entry >= 0 && entry < static_cast<int64_t>(state.history.size()) &&
                        state.history[entry].feasible,
                    "search state: pending policy entry " << entry
                                                          << " is not a feasible history entry");
    for (const auto& d : policy.pending_decisions)
      PICONAS_CHECK(d.size() == sizes.size(),
                    "search state: pending decisions of length " << d.size());
    PICONAS_CHECK(policy.logits.size() == sizes.size(),
                  "search state: policy with " << policy.logits.size() << " decisions, the space has "
                                               << sizes.size());
    for (size_t d = 0; d < sizes.size(); ++d)
      PICONAS_CHECK(policy.logits[d].size() == static_cast<size_t>(sizes[d]),
                    "search state: policy decision " << d << " has " << policy.logits[d].size()
                                                     << " values, the space " << sizes[d]);
    for (const auto& logits : policy.logits)
      for (double l : logits)
        PICONAS_CHECK(std::isfinite(l), "search state: non-finite policy logit " << l);
    PICONAS_CHECK(std::isfinite(policy.baseline),
                  "search state: non-finite policy baseline " << policy.baseline);
    state.policy = std::move(policy);
  }
  return state;
}

void save_search_state(const std::string& path, const SearchSpace& space,
                       const SearchSettings& settings, const SearchState& state) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) make_directories(parent.string());
  json j = {{"format", "piconas-search-state"},
            {"version", 1},
            {"settings", draw_settings_json(space, settings)},
            {"state", state_to_json(state)}};
  write_file_atomic(path, j.dump(1) + "\n");
}

SearchState load_search_state(const std::string& path, const SearchSpace& space,
                              const SearchSettings& settings) {
  PICONAS_CHECK(std::filesystem::exists(path), "search: cannot resume, no checkpoint at " << path);
  return decode_search_state(read_file(path), path, space, settings);
}

SearchState decode_search_state(const std::string& text, const std::string& path,
                                const SearchSpace& space, const SearchSettings& settings) {
  json j;
  try {
    j = json::parse(text);
    PICONAS_CHECK(j.at("format") == "piconas-search-state" && j.at("version") == 1,
                  "not a version-1 piconas search state");
    const json expected = draw_settings_json(space, settings);
    for (const auto& [key, value] : expected.items())
      PICONAS_CHECK(j.at("settings").at(key) == value,
                    "setting '" << key << "' differs: checkpoint "
                                << j.at("settings").at(key).dump() << ", now " << value.dump());
    return state_from_json(j.at("state"), space);
  } catch (const json::exception& error) {
    throw Error("search state " + path + ": " + error.what());
  } catch (const Error& error) {
    throw Error("search state " + path + ": " + error.what());
  }
}

std::string history_csv(const SearchResult& result, const SearchSettings& settings) {
  std::string out = "step,generation,feasible,text,params,macs,peak_sram,flash,aggregate";
  for (const MetricWeight& m : settings.metrics) out += "," + m.name;
  out += "\n";
  const auto& history = result.state.history;
  for (size_t i = 0; i < history.size(); ++i) {
    const HistoryEntry& e = history[i];
    // Texts contain ',' (blocks form) and '|': always quote them.
    out += std::to_string(i) + "," + std::to_string(e.generation) + "," + (e.feasible ? "1" : "0") +
           ",\"" + e.candidate.text + "\"," + std::to_string(e.cost.params) + "," +
           std::to_string(e.cost.macs) + "," + std::to_string(e.cost.peak_sram) + "," +
           std::to_string(e.cost.flash) + "," +
           (e.feasible ? number_str(result.aggregates[i]) : "");
    for (const MetricWeight& m : settings.metrics) {
      auto it = e.metrics.find(m.name);
      out += ',';
      if (it != e.metrics.end()) out += number_str(it->second);
    }
    out += "\n";
  }
  return out;
}

namespace {

json entry_json(const SearchResult& result, int64_t index) {
  const HistoryEntry& e = result.state.history[index];
  return {{"step", index},
          {"generation", e.generation},
          {"text", e.candidate.text},
          {"aggregate", double_json(result.aggregates[index])},
          {"cost", cost_json(e.cost)},
          {"metrics", metrics_json(e.metrics)}};
}

}  // namespace

std::string best_json(const SearchResult& result, const SearchSettings& settings) {
  json top = json::array();
  for (int64_t index : result.top) top.push_back(entry_json(result, index));
  json j = {{"aggregator", aggregator_name(settings.aggregator)},
            {"metrics", metric_weights_text(settings.metrics)},
            {"best", result.best >= 0 ? entry_json(result, result.best) : json(nullptr)},
            {"top", top}};
  return j.dump(2) + "\n";
}

std::string search_json(const SearchResult& result, const SearchSpace& space,
                        const SearchSettings& settings) {
  int64_t feasible = 0;
  for (const HistoryEntry& e : result.state.history) feasible += e.feasible ? 1 : 0;
  json j = {{"settings", settings_json(space, settings)},
            {"seed", settings.seed},
            {"steps_done", result.state.step},
            {"history", result.state.history.size()},
            {"feasible", feasible},
            {"infeasible", static_cast<int64_t>(result.state.history.size()) - feasible},
            {"best", result.best >= 0 ? json(result.state.history[result.best].candidate.text)
                                      : json(nullptr)},
            {"timing",
             {{"elapsed_seconds", result.state.elapsed_seconds},
              {"this_run_seconds", result.run_seconds}}}};
  return j.dump(2) + "\n";
}

void write_search_outputs(const SearchResult& result, const SearchSpace& space,
                          const SearchSettings& settings) {
  PICONAS_CHECK(!settings.output_dir.empty(), "write_search_outputs: no output directory");
  const std::filesystem::path dir(settings.output_dir);
  make_directories(dir.string());
  write_file_atomic((dir / "history.csv").string(), history_csv(result, settings));
  write_file_atomic((dir / "best.json").string(), best_json(result, settings));
  write_file_atomic((dir / "search.json").string(), search_json(result, space, settings));
  write_file_atomic((dir / "pareto.svg").string(), pareto_svg(result));
}

}  // namespace piconas::nas::search
