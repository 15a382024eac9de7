// Training-free architecture search (docs/metrics.md section 5): random search, regularized (aging)
// evolution and FreeREA, with hard cost constraints, step or wall-time budgets, parallel
// scoring, atomic checkpoints and exact resume.
//
// Steps: random search counts scored candidates; rea and freerea count cycles after the
// initial population (generation 0). A candidate's generation is the step that produced it.
// History: every candidate drawn, in draw order. Infeasible ones (violating a constraint) are
// recorded with feasible = false and are never scored; a feasible candidate whose text is
// already in the history reuses the stored metrics instead of being scored again.
// Strategies:
//   random   sample, reject infeasible, score; batches of `batch` candidates scored in parallel.
//   rea      population P of feasible random candidates; a cycle draws `sample_size` members
//            with replacement, mutates the best until the child is feasible, appends it and
//            removes the oldest: |population| = P after every cycle, |feasible history| = P +
//            cycles.
//   freerea  population N of distinct feasible random candidates; a cycle draws `sample_size`
//            members without replacement, ranks them by the aggregate over the sample, and the
//            top two yield 2 mutants + 1 uniform crossover (scored in parallel). Infeasible
//            children are rejected; a child already in the history is rejuvenated (its member
//            takes the new generation, re-entering the population if it had left); then, when
//            the population exceeds N, the single oldest is removed and the rest truncated to N
//            by the aggregate over the population (freerea_prune).
//   rl       REINFORCE (gene_policy.h): a policy with one categorical distribution per
//            decision of the space's encoding (SearchSpace::decision_sizes) draws `batch`
//            feasible candidates per step (infeasible draws are recorded and redrawn, draws
//            outside the space redrawn); their rewards are the aggregate (freerea: over the whole
//            feasible history, zscore: frozen statistics, no update before they exist); one
//            policy update per batch with a moving-average baseline. Steps count candidates,
//            as for random search; the policy is part of the checkpoint.
// Ranking: freerea aggregation over the set being ranked, or z-scores frozen on the first P
// feasible candidates (the initial population). Final pick: the best aggregate over the
// feasible history (freerea: aggregated over that whole set), ties to the earlier candidate.
// Impossible constraints: `max_infeasible` consecutive infeasible candidates throw Error.
//
// Reproducibility: one Rng (the seed) drives every draw in a fixed order; scoring never
// touches it and results are stored by position, so the history is the same for every
// thread count. The score callback must be thread-safe and deterministic. Every candidate's
// kernels run on one thread (inside the scoring threads, or with the thread count set to 1
// while a lone candidate is scored), so metric values do not depend on the thread count
// either; rea scores one child per cycle and therefore uses one core after initialisation.
// Checkpoint: "<output_dir>/search_state.json" (atomic) after the initial population, every
// `checkpoint_every` steps and at the end; `resume` continues from it and ends exactly where an
// uninterrupted run ends. Only settings that do not change the draws may differ on resume
// (steps, time budget, checkpointing, outputs, top_k).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/setting_name.h"
#include "nas/deploy/mcu_target.h"
#include "nas/search/aggregate.h"
#include "nas/search/gene_policy.h"
#include "nas/search/search_space.h"

namespace piconas::nas::search {

enum class StrategyKind { Random, Rea, FreeRea, Rl };
StrategyKind parse_strategy(const std::string& name);  // "random" | "rea" | "freerea" | "rl"
const char* strategy_name(StrategyKind kind);

// Upper bounds per image; 0 = unlimited. max_scoring_memory bounds the estimated memory of
// scoring one candidate on scoring_images images (scoring_memory_bytes in cost_model.h), so a
// search refuses candidates the machine could not score instead of being killed; candidates
// scored concurrently (one per thread) each count separately.
struct Constraints {
  int64_t max_params = 0, max_macs = 0, max_peak_sram = 0, max_flash = 0;
  int64_t max_scoring_memory = 0;
  int64_t scoring_images = 64;
  // Latency budget (nas/deploy/latency.h): predicted milliseconds per inference of the emitted
  // C on latency_target at mcu_mhz (one instruction per cycle); 0: none. With a budget, mcu_mhz
  // must be positive and finite and the target calibrated.
  double max_latency_ms = 0;
  double mcu_mhz = 0;
  deploy::McuTarget latency_target = deploy::McuTarget::CortexM4;
};
// Human-readable violations ("macs 1200 > 1000"); empty = feasible. Under an SRAM, flash or
// latency limit, a network that is not int8-deployable is a violation too.
// An SRAM or flash limit: only int8-deployable networks can meet it, so the search space
// should draw only deployable block kinds (SpaceOptions::int8_block_kinds_only).
bool has_deployment_budget(const Constraints& limits);
std::vector<std::string> constraint_violations(const CostEstimate& cost, const Constraints& limits);
// Every limit >= 0 (0: none; a negative budget is an Error, never "no limit"), scoring_images >= 1;
// a latency budget needs a valid clock and a calibrated target. Errors name the field through
// `name` (core/setting_name.h; default: "search: max MACs" etc.).
void check_constraints(const Constraints& limits, const SettingName& name = {});

struct SearchSettings {
  StrategyKind strategy = StrategyKind::FreeRea;
  int population = 100;
  int sample_size = 25;
  int batch = 8;           // random and rl: candidates scored together (rl: per policy update)
  int64_t steps = 100;     // 0: no step limit (then a time budget is required)
  double time_budget = 0;  // seconds of search (summed over resumes); 0: none
  uint64_t seed = 0;
  std::vector<MetricWeight> metrics{{"naswot", 1.0}, {"logsynflow", 1.0}, {"skip", 1.0}};
  AggregatorKind aggregator = AggregatorKind::FreeRea;
  Constraints constraints;
  int max_infeasible = 1000;
  int64_t checkpoint_every = 10;  // steps; 0: only after initialisation and at the end
  std::string output_dir;         // "": no checkpoint
  bool resume = false;
  int top_k = 10;
  double rl_learning_rate = 1.0;   // rl: step on the logits per unit of advantage
  double rl_baseline_decay = 0.9;  // rl: baseline <- decay * baseline + (1 - decay) * mean
  // rea, freerea: architectures (texts or reference names the space parses, e.g. "resnet8")
  // placed first in the initial population, the random draws filling the rest. One that is
  // outside the space, violates a constraint or repeats another is an Error.
  std::vector<std::string> initial_archs;
};

// The one range check of SearchSettings, called by run_search, by `piconas search` before the
// data is loaded (names: its flags) and by the run configuration (names: its keys). Errors name
// the field through `name` and give the value.
void check_search_settings(const SearchSettings& settings, const SettingName& name = {});

struct HistoryEntry {
  Candidate candidate;
  int64_t generation = 0;
  bool feasible = true;
  CostEstimate cost;
  MetricValues metrics;  // empty when infeasible
};

struct Member {
  int64_t entry = 0;  // index into the history
  int64_t generation = 0;
};

struct SearchState {
  std::vector<HistoryEntry> history;
  std::vector<Member> population;
  std::array<uint64_t, 5> rng{};
  int64_t step = 0;
  bool initialized = false;  // initial population complete (rea, freerea)
  int64_t consecutive_infeasible = 0;
  std::optional<ZScoreStats> zscore;
  std::optional<PolicyState> policy;  // rl only, after its first step
  double elapsed_seconds = 0;
};

struct SearchProgress {
  int64_t step = 0, total_steps = 0;  // total 0: time budget only
  int64_t evaluated = 0, infeasible = 0;
  double elapsed_seconds = 0, eta_seconds = -1;  // -1: unknown
};
// "step 12/100  evaluated 136  infeasible 3  elapsed 1m02s  ETA 8m10s"
std::string format_progress(const SearchProgress& progress);

using ScoreFn = std::function<MetricValues(const Candidate&)>;
using ProgressFn = std::function<void(const SearchProgress&)>;
// Scores a batch of candidates; results by position. It must give every candidate the values
// score_candidates(batch, score) gives it (nas/search/distributed_scoring.h spreads a batch over
// MPI ranks this way).
using BatchScoreFn = std::function<std::vector<MetricValues>(const std::vector<Candidate>&)>;

// Scores the candidates on this process's threads, one candidate per thread, each candidate's
// kernels on one thread (so the values do not depend on the thread count); results by position.
// An exception of any candidate is rethrown once all have finished.
std::vector<MetricValues> score_candidates(const std::vector<Candidate>& candidates,
                                           const ScoreFn& score);

struct SearchResult {
  SearchState state;
  std::vector<double> aggregates;  // per history entry; NaN for infeasible entries
  std::vector<int64_t> top;        // history indices of the top_k distinct texts, best first
  int64_t best = -1;               // top.front()
  double run_seconds = 0;          // this invocation only
};

// Kept members of a freerea population after a cycle: when |members| > n, drop the single
// oldest (smallest generation, first one on ties), then keep the n best aggregates over the
// remaining members (ties to the earlier one). Returns kept positions in their original order.
std::vector<size_t> freerea_prune(const std::vector<int64_t>& generations,
                                  const std::vector<MetricValues>& metrics, size_t n,
                                  const std::vector<MetricWeight>& weights,
                                  const std::optional<ZScoreStats>& zscore);

// Aggregates of `set` with the settings' aggregator (freerea over the set, or zscore frozen).
std::vector<double> aggregate_set(const std::vector<const MetricValues*>& set,
                                  const SearchSettings& settings,
                                  const std::optional<ZScoreStats>& zscore);

SearchResult run_search(const SearchSpace& space, const SearchSettings& settings,
                        const ScoreFn& score, const ProgressFn& progress = {});
// The same search with the data metrics of each batch computed by batch_score.
SearchResult run_search(const SearchSpace& space, const SearchSettings& settings,
                        const BatchScoreFn& batch_score, const ProgressFn& progress);

}  // namespace piconas::nas::search
