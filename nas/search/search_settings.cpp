// The settings-level helpers of nas/search/search.h: strategy names, constraint checks and
// the progress line.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/duration.h"
#include "core/error.h"
#include "core/input_checks.h"
#include "nas/deploy/latency.h"
#include "nas/search/search.h"

namespace piconas::nas::search {

StrategyKind parse_strategy(const std::string& name) {
  if (name == "random") return StrategyKind::Random;
  if (name == "rea") return StrategyKind::Rea;
  if (name == "freerea") return StrategyKind::FreeRea;
  if (name == "rl") return StrategyKind::Rl;
  throw Error("unknown search strategy '" + name + "' (known: random, rea, freerea, rl)");
}

const char* strategy_name(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::Random:
      return "random";
    case StrategyKind::Rea:
      return "rea";
    case StrategyKind::FreeRea:
      return "freerea";
    case StrategyKind::Rl:
      return "rl";
  }
  throw Error("strategy_name: invalid StrategyKind");
}

bool has_deployment_budget(const Constraints& limits) {
  return limits.max_peak_sram > 0 || limits.max_flash > 0 || limits.max_latency_ms > 0;
}

std::vector<std::string> constraint_violations(const CostEstimate& cost,
                                               const Constraints& limits) {
  std::vector<std::string> out;
  auto check = [&](const char* name, int64_t value, int64_t limit) {
    if (limit > 0 && value > limit)
      out.push_back(std::string(name) + " " + std::to_string(value) + " > " +
                    std::to_string(limit));
  };
  check("params", cost.params, limits.max_params);
  check("macs", cost.macs, limits.max_macs);
  check("peak_sram", cost.peak_sram, limits.max_peak_sram);
  check("flash", cost.flash, limits.max_flash);
  check("scoring_memory", scoring_memory_bytes(cost, limits.scoring_images),
        limits.max_scoring_memory);
  if (limits.max_latency_ms > 0 && cost.int8_deployable) {
    const double instructions = cost.mcu_instructions.at(static_cast<size_t>(limits.latency_target));
    PICONAS_CHECK(instructions >= 0, "no latency prediction for "
                                         << deploy::mcu_board(limits.latency_target).name);
    // The budget holds the prediction with the target's held-out margin (latency.h).
    const double ms = deploy::latency_ms(
        deploy::budget_instructions(instructions, limits.latency_target), limits.mcu_mhz);
    if (ms > limits.max_latency_ms) {
      std::ostringstream v;
      v << "latency_ms " << ms << " > " << limits.max_latency_ms << " ("
        << deploy::mcu_board(limits.latency_target).name << " at " << limits.mcu_mhz
        << " MHz, prediction + "
        << 100 * deploy::builtin_latency_table().margin(limits.latency_target) << " % margin)";
      out.push_back(v.str());
    }
  }
  // An SRAM, flash or latency budget is an MCU budget: a network the int8 export refuses cannot
  // meet it.
  if (has_deployment_budget(limits) && !cost.int8_deployable)
    out.push_back("not int8-deployable (ConvNeXt or GELU/Hardswish) under an SRAM/flash/latency budget");
  return out;
}

namespace {

// The library's own names of the settings ("search: max MACs").
SettingName library_names() {
  return prefixed_names("search: ", {{"max_params", "max params"},
                                     {"max_macs", "max MACs"},
                                     {"max_peak_sram", "max peak SRAM"},
                                     {"max_flash", "max flash"},
                                     {"max_scoring_memory", "max scoring memory"},
                                     {"scoring_images", "scoring images"},
                                     {"max_latency_ms", "max latency"},
                                     {"mcu_mhz", "the MCU clock (--mcu-mhz)"},
                                     {"latency_target", "the latency target"},
                                     {"time_budget", "time budget"},
                                     {"output_dir", "output directory"},
                                     {"rl_learning_rate", "rl learning rate"},
                                     {"rl_baseline_decay", "rl baseline decay"},
                                     {"initial_archs", "initial architectures"}});
}

}  // namespace

void check_constraints(const Constraints& limits, const SettingName& given_name) {
  const SettingName name = given_name ? given_name : library_names();
  for (const auto& [member, value] : {std::pair{"max_params", limits.max_params}, std::pair{"max_macs", limits.max_macs},
                                      std::pair{"max_peak_sram", limits.max_peak_sram},
                                      std::pair{"max_flash", limits.max_flash},
                                      std::pair{"max_scoring_memory", limits.max_scoring_memory}})
    PICONAS_CHECK(value >= 0, name(member) << " must be >= 0 (0: no limit), got " << value);
  // A larger scoring batch is a typo (and must fit the int of load_scoring_batch).
  constexpr int64_t kMaxScoringImages = int64_t{1} << 20;
  PICONAS_CHECK(limits.scoring_images >= 1 && limits.scoring_images <= kMaxScoringImages,
                name("scoring_images") << " must be in [1, " << kMaxScoringImages << "], got "
                                       << limits.scoring_images);
  PICONAS_CHECK(limits.max_latency_ms == 0 || (std::isfinite(limits.max_latency_ms) && limits.max_latency_ms > 0),
                name("max_latency_ms") << " must be a positive, finite number of milliseconds (0: no limit), got "
                                       << limits.max_latency_ms);
  if (limits.max_latency_ms > 0) {
    deploy::check_mcu_mhz(limits.mcu_mhz, name("mcu_mhz"));
    PICONAS_CHECK(deploy::builtin_latency_table().calibrated(limits.latency_target),
                  name("max_latency_ms") << ": no latency calibration for "
                                         << deploy::mcu_board(limits.latency_target).name
                                         << " (bench/latency_calibrate.sh)");
  }
}

void check_search_settings(const SearchSettings& s, const SettingName& given_name) {
  const SettingName name = given_name ? given_name : library_names();
  for (const auto& [member, value] : {std::pair{"population", s.population}, std::pair{"sample_size", s.sample_size},
                                      std::pair{"batch", s.batch}, std::pair{"max_infeasible", s.max_infeasible},
                                      std::pair{"top_k", s.top_k}})
    PICONAS_CHECK(value >= 1, name(member) << " must be >= 1, got " << value);
  PICONAS_CHECK(s.checkpoint_every >= 0,
                name("checkpoint_every") << " must be >= 0 (0: at the end only), got " << s.checkpoint_every);
  PICONAS_CHECK(s.steps >= 0, name("steps") << " must be >= 0 (0: none), got " << s.steps);
  PICONAS_CHECK(s.time_budget >= 0 && std::isfinite(s.time_budget),
                name("time_budget") << " must be >= 0 seconds (0: none), got " << s.time_budget);
  PICONAS_CHECK(s.steps > 0 || s.time_budget > 0,
                "search: give a step budget (" << name("steps") << ") or a time budget (" << name("time_budget")
                                               << ")");
  check_constraints(s.constraints, name);
  // The output path is written into search.json: a name JSON cannot hold fails now, not after
  // the search.
  check_utf8(s.output_dir, name("output_dir"));
  PICONAS_CHECK(!s.metrics.empty(), name("metrics") << ": no metrics to rank by");
  PICONAS_CHECK(std::isfinite(s.rl_learning_rate) && s.rl_learning_rate > 0,
                name("rl_learning_rate") << " must be > 0, got " << s.rl_learning_rate);
  PICONAS_CHECK(s.rl_baseline_decay >= 0 && s.rl_baseline_decay < 1,
                name("rl_baseline_decay") << " must be in [0, 1), got " << s.rl_baseline_decay);
  PICONAS_CHECK(s.aggregator != AggregatorKind::ZScore || s.population >= 2,
                "search: zscore aggregation needs a reference population of at least 2 ("
                    << name("population") << " " << s.population << ")");
  const bool has_population = s.strategy == StrategyKind::Rea || s.strategy == StrategyKind::FreeRea;
  PICONAS_CHECK(s.initial_archs.empty() || has_population,
                name("initial_archs") << " need a population (rea or freerea)");
  PICONAS_CHECK(static_cast<int64_t>(s.initial_archs.size()) <= s.population,
                name("initial_archs") << ": " << s.initial_archs.size() << " for a population of "
                                      << s.population);
  PICONAS_CHECK(!s.resume || !s.output_dir.empty(), "search: resume needs an output directory");
}

std::string format_progress(const SearchProgress& p) {
  std::ostringstream out;
  out << "step " << p.step;
  if (p.total_steps > 0) out << "/" << p.total_steps;
  out << "  evaluated " << p.evaluated << "  infeasible " << p.infeasible << "  elapsed "
      << duration_str(p.elapsed_seconds) << "  ETA "
      << (p.eta_seconds < 0 ? std::string("?") : duration_str(p.eta_seconds));
  return out.str();
}

}  // namespace piconas::nas::search
