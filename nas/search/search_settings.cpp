// The settings-level helpers of nas/search/search.h: strategy names, constraint checks and
// the progress line.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/duration.h"
#include "core/error.h"
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
    const double ms = deploy::latency_ms(instructions, limits.mcu_mhz);
    if (ms > limits.max_latency_ms) {
      std::ostringstream v;
      v << "latency_ms " << ms << " > " << limits.max_latency_ms << " ("
        << deploy::mcu_board(limits.latency_target).name << " at " << limits.mcu_mhz << " MHz)";
      out.push_back(v.str());
    }
  }
  // An SRAM, flash or latency budget is an MCU budget: a network the int8 export refuses cannot
  // meet it.
  if (has_deployment_budget(limits) && !cost.int8_deployable)
    out.push_back("not int8-deployable (ConvNeXt or GELU/Hardswish) under an SRAM/flash/latency budget");
  return out;
}

void check_constraints(const Constraints& limits) {
  for (const auto& [name, value] : {std::pair{"max params", limits.max_params}, std::pair{"max MACs", limits.max_macs},
                                    std::pair{"max peak SRAM", limits.max_peak_sram},
                                    std::pair{"max flash", limits.max_flash},
                                    std::pair{"max scoring memory", limits.max_scoring_memory}})
    PICONAS_CHECK(value >= 0, "search: " << name << " must be >= 0 (0: no limit), got " << value);
  PICONAS_CHECK(limits.scoring_images >= 1, "search: scoring images must be >= 1, got " << limits.scoring_images);
  PICONAS_CHECK(limits.max_latency_ms == 0 || (std::isfinite(limits.max_latency_ms) && limits.max_latency_ms > 0),
                "search: max latency must be a positive, finite number of milliseconds (0: no limit), got "
                    << limits.max_latency_ms);
  if (limits.max_latency_ms > 0) {
    deploy::check_mcu_mhz(limits.mcu_mhz, "search: the MCU clock (--mcu-mhz)");
    PICONAS_CHECK(deploy::builtin_latency_table().calibrated(limits.latency_target),
                  "search: no latency calibration for " << deploy::mcu_board(limits.latency_target).name
                                                        << " (bench/latency_calibrate.sh)");
  }
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
