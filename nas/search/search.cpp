#include "nas/search/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/input_checks.h"
#include "core/parallel.h"
#include "nas/search/search_io.h"

namespace piconas::nas::search {

std::vector<double> aggregate_set(const std::vector<const MetricValues*>& set,
                                  const SearchSettings& settings,
                                  const std::optional<ZScoreStats>& zscore) {
  if (settings.aggregator == AggregatorKind::FreeRea) {
    std::vector<MetricValues> values;
    values.reserve(set.size());
    for (const MetricValues* v : set) values.push_back(*v);
    return freerea_aggregate(values, settings.metrics);
  }
  PICONAS_CHECK(zscore, "zscore aggregation before the reference statistics were fitted");
  std::vector<double> out;
  for (const MetricValues* v : set) out.push_back(zscore_aggregate(*v, *zscore, settings.metrics));
  return out;
}

std::vector<size_t> freerea_prune(const std::vector<int64_t>& generations,
                                  const std::vector<MetricValues>& metrics, size_t n,
                                  const std::vector<MetricWeight>& weights,
                                  const std::optional<ZScoreStats>& zscore) {
  PICONAS_CHECK(generations.size() == metrics.size(), "freerea_prune: size mismatch");
  std::vector<size_t> alive(generations.size());
  std::iota(alive.begin(), alive.end(), size_t{0});
  if (alive.size() <= n) return alive;
  const size_t oldest = static_cast<size_t>(
      std::min_element(generations.begin(), generations.end()) - generations.begin());
  alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(oldest));
  if (alive.size() <= n) return alive;
  SearchSettings settings;
  settings.metrics = weights;
  settings.aggregator = zscore ? AggregatorKind::ZScore : AggregatorKind::FreeRea;
  std::vector<const MetricValues*> set;
  for (size_t i : alive) set.push_back(&metrics[i]);
  const std::vector<double> score = aggregate_set(set, settings, zscore);
  std::vector<size_t> order(alive.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return score[a] > score[b]; });
  order.resize(n);
  std::sort(order.begin(), order.end());
  std::vector<size_t> kept;
  for (size_t i : order) kept.push_back(alive[i]);
  return kept;
}

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<MetricValues> score_candidates(const std::vector<Candidate>& candidates,
                                           const ScoreFn& score) {
  std::vector<MetricValues> values(candidates.size());
  std::vector<std::exception_ptr> errors(candidates.size());
  // Candidates on the threads of a parallel region run their kernels serially; a candidate
  // scored alone runs them on every thread. Both give the same bits: the kernels cut their
  // work into parts fixed by its size (core/parallel.h).
  parallel_for(0, static_cast<int64_t>(candidates.size()), [&](int64_t k) {
    try {
      values[k] = score(candidates[k]);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  });
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  return values;
}

namespace {

class Searcher {
 public:
  Searcher(const SearchSpace& space, const SearchSettings& settings, const BatchScoreFn& score,
           const ProgressFn& progress)
      : space_(space), s_(settings), score_(score), progress_(progress), rng_(settings.seed) {}

  SearchResult run();

 private:
  bool budget_left() const;
  double elapsed() const {
    return state_.elapsed_seconds + std::chrono::duration<double>(Clock::now() - start_).count();
  }
  // Draws candidates with `draw` until one is feasible (and, with distinct, not in the
  // history); infeasible ones are recorded.
  template <class Draw>
  std::pair<Candidate, CostEstimate> draw_feasible(Draw&& draw, int64_t generation, bool distinct);
  std::optional<CostEstimate> cost_if_feasible(const Candidate& c, int64_t generation);
  // Scores the candidates (cached texts reuse stored metrics) and appends them to the history.
  // Appends a feasible candidate to the history (metrics filled by score_entries).
  int64_t place(const std::pair<Candidate, CostEstimate>& costed, int64_t generation);
  // Scores the first occurrence of each text among `entries` in parallel (results stored by
  // position); repeats and texts scored before reuse the stored metrics.
  void score_entries(const std::vector<int64_t>& entries);
  void initialise_population();
  // Freezes the z-score statistics on the first P feasible candidates once there are P
  // (at the end of a search, on however many there are, if at least 2).
  void fit_zscore(bool final);
  void random_step();
  void rea_step();
  void freerea_step();
  void rl_step();
  // A candidate decoded from the policy's decisions (stored in `decisions`), redrawn while
  // the decisions leave the space.
  Candidate draw_from_policy(std::vector<int>& decisions);
  std::vector<double> population_aggregate(const std::vector<size_t>& positions) const;
  void checkpoint();
  void report();
  SearchResult finish();

  const SearchSpace& space_;
  const SearchSettings& s_;
  const BatchScoreFn& score_;
  const ProgressFn& progress_;
  SearchState state_;
  Rng rng_;
  std::unordered_map<std::string, int64_t> index_;  // text -> first feasible history entry
  Clock::time_point start_ = Clock::now();
  int64_t start_step_ = 0;
  int64_t last_checkpoint_ = -1;
};

bool Searcher::budget_left() const {
  if (s_.steps > 0 && state_.step >= s_.steps) return false;
  if (s_.time_budget > 0 && elapsed() >= s_.time_budget) return false;
  return true;
}

// The one place a candidate's cost is computed: an infeasible one is recorded here, a feasible
// one's cost goes on to place().
std::optional<CostEstimate> Searcher::cost_if_feasible(const Candidate& c, int64_t generation) {
  const CostEstimate cost = space_.cost(c);
  const auto violations = constraint_violations(cost, s_.constraints);
  if (violations.empty()) {
    state_.consecutive_infeasible = 0;
    return cost;
  }
  state_.history.push_back({c, generation, false, cost, {}});
  ++state_.consecutive_infeasible;
  if (state_.consecutive_infeasible >= s_.max_infeasible) {
    std::string all;
    for (const auto& v : violations) all += (all.empty() ? "" : ", ") + v;
    throw Error("search: " + std::to_string(state_.consecutive_infeasible) +
                " consecutive candidates violate the constraints (last: " + all +
                "); the constraints are probably impossible in this space");
  }
  return std::nullopt;
}

template <class Draw>
std::pair<Candidate, CostEstimate> Searcher::draw_feasible(Draw&& draw, int64_t generation,
                                                          bool distinct) {
  int64_t duplicates = 0;
  while (true) {
    Candidate c = draw();
    if (distinct && index_.count(c.text)) {
      PICONAS_CHECK(++duplicates < 100 * static_cast<int64_t>(s_.max_infeasible),
                    "search: cannot find a new distinct candidate (is the space smaller than the "
                    "population?)");
      continue;
    }
    if (auto cost = cost_if_feasible(c, generation)) return {std::move(c), *cost};
  }
}

int64_t Searcher::place(const std::pair<Candidate, CostEstimate>& costed, int64_t generation) {
  const Candidate& c = costed.first;
  const int64_t entry = static_cast<int64_t>(state_.history.size());
  state_.history.push_back({c, generation, true, costed.second, {}});
  index_.emplace(c.text, entry);  // keeps the first entry of a text
  return entry;
}

void Searcher::score_entries(const std::vector<int64_t>& entries) {
  std::vector<int64_t> to_score;  // first occurrences of their text
  for (int64_t entry : entries)
    if (index_.at(state_.history[entry].candidate.text) == entry) to_score.push_back(entry);
  bool needs_data = false;
  for (const MetricWeight& m : s_.metrics) needs_data |= !is_architecture_metric(m.name);
  std::vector<MetricValues> values(to_score.size());
  if (needs_data && !to_score.empty()) {
    std::vector<Candidate> batch;
    for (int64_t entry : to_score) batch.push_back(state_.history[entry].candidate);
    values = score_(batch);
    PICONAS_CHECK(values.size() == batch.size(), "search: the batch score function returned "
                                                     << values.size() << " results for "
                                                     << batch.size() << " candidates");
  }
  for (size_t k = 0; k < to_score.size(); ++k) {
    const HistoryEntry& e = state_.history[to_score[k]];
    const Candidate& c = e.candidate;
    for (const MetricWeight& m : s_.metrics)
      if (is_architecture_metric(m.name))
        values[k][m.name] = architecture_metric(space_, c, e.cost, m.name);
    for (const MetricWeight& m : s_.metrics)
      PICONAS_CHECK(values[k].count(m.name),
                    "search: the score function returned no '" << m.name << "' for " << c.text);
  }
  for (size_t k = 0; k < to_score.size(); ++k)
    state_.history[to_score[k]].metrics = std::move(values[k]);
  for (int64_t entry : entries) {  // repeats of a text reuse its metrics
    const int64_t first = index_.at(state_.history[entry].candidate.text);
    if (first != entry) state_.history[entry].metrics = state_.history[first].metrics;
  }
}

void Searcher::fit_zscore(bool final) {
  if (s_.aggregator != AggregatorKind::ZScore || state_.zscore) return;
  std::vector<MetricValues> reference;
  for (const HistoryEntry& e : state_.history)
    if (e.feasible && static_cast<int>(reference.size()) < s_.population)
      reference.push_back(e.metrics);
  if (static_cast<int>(reference.size()) == s_.population || (final && reference.size() >= 2))
    state_.zscore = zscore_fit(reference, s_.metrics);
}

void Searcher::initialise_population() {
  std::vector<int64_t> entries;
  for (const std::string& text : s_.initial_archs) {
    Candidate c = space_.parse(text);
    PICONAS_CHECK(!index_.count(c.text), "search: initial architecture " << c.text << " is listed twice");
    const CostEstimate cost = space_.cost(c);
    std::string violations;
    for (const auto& v : constraint_violations(cost, s_.constraints))
      violations += (violations.empty() ? "" : ", ") + v;
    PICONAS_CHECK(violations.empty(),
                  "search: initial architecture " << c.text << " violates the constraints: " << violations);
    entries.push_back(place({std::move(c), cost}, 0));
  }
  const bool distinct = s_.strategy == StrategyKind::FreeRea;
  while (static_cast<int>(entries.size()) < s_.population)
    entries.push_back(place(draw_feasible([&] { return space_.sample(rng_); }, 0, distinct), 0));
  score_entries(entries);
  for (int64_t entry : entries) state_.population.push_back({entry, 0});
  state_.initialized = true;
  fit_zscore(false);
}

void Searcher::random_step() {
  const int64_t count =
      s_.steps > 0 ? std::min<int64_t>(s_.batch, s_.steps - state_.step) : s_.batch;
  std::vector<int64_t> entries;  // a candidate's generation is its 1-based position
  for (int64_t i = 0; i < count; ++i) {
    const int64_t generation = state_.step + 1 + i;
    entries.push_back(
        place(draw_feasible([&] { return space_.sample(rng_); }, generation, false), generation));
  }
  score_entries(entries);
  state_.step += count;
  fit_zscore(false);
}

std::vector<double> Searcher::population_aggregate(const std::vector<size_t>& positions) const {
  std::vector<const MetricValues*> set;
  for (size_t p : positions) set.push_back(&state_.history[state_.population[p].entry].metrics);
  return aggregate_set(set, s_, state_.zscore);
}

void Searcher::rea_step() {
  const int64_t generation = state_.step + 1;
  std::vector<size_t> sample;
  for (int i = 0; i < s_.sample_size; ++i)
    sample.push_back(static_cast<size_t>(
        rng_.uniform_int(0, static_cast<int64_t>(state_.population.size()) - 1)));
  const std::vector<double> score = population_aggregate(sample);
  const size_t best = sample[std::max_element(score.begin(), score.end()) - score.begin()];
  const Candidate parent = state_.history[state_.population[best].entry].candidate;
  const int64_t entry =
      place(draw_feasible([&] { return space_.mutate(parent, rng_); }, generation, false),
            generation);
  score_entries({entry});
  state_.population.push_back({entry, generation});
  state_.population.erase(state_.population.begin());
  state_.step = generation;
}

void Searcher::freerea_step() {
  const int64_t generation = state_.step + 1;
  // Tournament without replacement: a partial Fisher-Yates shuffle of the positions.
  std::vector<size_t> positions(state_.population.size());
  std::iota(positions.begin(), positions.end(), size_t{0});
  const size_t n = std::min(positions.size(), static_cast<size_t>(s_.sample_size));
  for (size_t i = 0; i < n; ++i) {
    const size_t j = static_cast<size_t>(
        rng_.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(positions.size()) - 1));
    std::swap(positions[i], positions[j]);
  }
  positions.resize(n);
  const std::vector<double> score = population_aggregate(positions);
  std::vector<size_t> rank(n);
  std::iota(rank.begin(), rank.end(), size_t{0});
  std::stable_sort(rank.begin(), rank.end(),
                   [&](size_t a, size_t b) { return score[a] > score[b]; });
  const Candidate& first = state_.history[state_.population[positions[rank[0]]].entry].candidate;
  const Candidate& second =
      state_.history[state_.population[positions[rank[n > 1 ? 1 : 0]]].entry].candidate;

  std::vector<Candidate> children{space_.mutate(first, rng_), space_.mutate(second, rng_),
                                  space_.crossover(first, second, rng_)};
  std::vector<int64_t> fresh;   // history entries of new genotypes, in child order
  std::vector<int64_t> revive;  // entries of feasible children already in the history
  for (const Candidate& child : children) {
    const std::optional<CostEstimate> cost = cost_if_feasible(child, generation);
    if (!cost) continue;
    auto known = index_.find(child.text);
    if (known == index_.end())
      fresh.push_back(place({child, *cost}, generation));
    else if (std::find(fresh.begin(), fresh.end(), known->second) == fresh.end() &&
             std::find(revive.begin(), revive.end(), known->second) == revive.end())
      revive.push_back(known->second);
  }
  score_entries(fresh);
  for (int64_t entry : revive) {
    auto it = std::find_if(state_.population.begin(), state_.population.end(),
                           [&](const Member& m) { return m.entry == entry; });
    if (it != state_.population.end())
      it->generation = generation;
    else
      state_.population.push_back({entry, generation});
  }
  for (int64_t entry : fresh) state_.population.push_back({entry, generation});

  std::vector<int64_t> generations;
  std::vector<MetricValues> metrics;
  for (const Member& m : state_.population) {
    generations.push_back(m.generation);
    metrics.push_back(state_.history[m.entry].metrics);
  }
  std::vector<Member> kept;
  for (size_t i : freerea_prune(generations, metrics, static_cast<size_t>(s_.population),
                                s_.metrics, state_.zscore))
    kept.push_back(state_.population[i]);
  state_.population = std::move(kept);
  state_.step = generation;
}

Candidate Searcher::draw_from_policy(std::vector<int>& decisions) {
  constexpr int kMaxDraws = 1000;
  std::string last_error;
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    decisions = sample_decisions(*state_.policy, rng_);
    try {
      return space_.decode(decisions);
    } catch (const Error& e) {
      last_error = e.what();
    }
  }
  throw Error("search: the rl policy drew " + std::to_string(kMaxDraws) +
              " encodings outside the space in a row (last: " + last_error + ")");
}

void Searcher::rl_step() {
  if (!state_.policy) state_.policy = uniform_policy(space_.decision_sizes());
  PolicyState& policy = *state_.policy;
  // Updates fall every `batch` candidates counted from the start, whatever the step budget of
  // this run, so a stopped and resumed search makes the same updates as an uninterrupted one.
  const int64_t boundary = (state_.step / s_.batch + 1) * s_.batch;
  const int64_t count =
      s_.steps > 0 ? std::min(boundary, s_.steps) - state_.step : boundary - state_.step;
  std::vector<int64_t> entries;  // as in random search: generation = 1-based position
  for (int64_t i = 0; i < count; ++i) {
    const int64_t generation = state_.step + 1 + i;
    std::vector<int> chosen;
    entries.push_back(
        place(draw_feasible([&] { return draw_from_policy(chosen); }, generation, false),
              generation));
    policy.pending_decisions.push_back(chosen);
    policy.pending_entries.push_back(entries.back());
  }
  score_entries(entries);
  state_.step += count;
  fit_zscore(false);
  if (state_.step % s_.batch != 0) return;
  std::vector<double> rewards;
  if (s_.aggregator == AggregatorKind::ZScore) {
    if (state_.zscore)
      for (int64_t entry : policy.pending_entries)
        rewards.push_back(
            zscore_aggregate(state_.history[entry].metrics, *state_.zscore, s_.metrics));
  } else {
    std::vector<const MetricValues*> set;
    std::unordered_map<int64_t, size_t> position;
    for (size_t i = 0; i < state_.history.size(); ++i)
      if (state_.history[i].feasible) {
        position[static_cast<int64_t>(i)] = set.size();
        set.push_back(&state_.history[i].metrics);
      }
    const std::vector<double> score = aggregate_set(set, s_, state_.zscore);
    for (int64_t entry : policy.pending_entries) rewards.push_back(score[position.at(entry)]);
  }
  // zscore before its reference statistics exist: nothing to learn from this batch.
  if (!rewards.empty())
    reinforce_update(policy, policy.pending_decisions, rewards, s_.rl_learning_rate,
                     s_.rl_baseline_decay);
  policy.pending_decisions.clear();
  policy.pending_entries.clear();
}

void Searcher::checkpoint() {
  if (s_.output_dir.empty()) return;
  state_.rng = rng_.state();
  SearchState saved = state_;
  saved.elapsed_seconds = elapsed();
  save_search_state(search_state_path(s_.output_dir), space_, s_, saved);
  last_checkpoint_ = state_.step;
}

void Searcher::report() {
  if (!progress_) return;
  SearchProgress p;
  p.step = state_.step;
  p.total_steps = s_.steps;
  for (const HistoryEntry& e : state_.history) (e.feasible ? p.evaluated : p.infeasible) += 1;
  p.elapsed_seconds = elapsed();
  const double run = std::chrono::duration<double>(Clock::now() - start_).count();
  const int64_t done = state_.step - start_step_;
  double eta = -1;
  if (s_.steps > 0 && done > 0)
    eta = run / static_cast<double>(done) * static_cast<double>(s_.steps - state_.step);
  if (s_.time_budget > 0) {
    const double left = std::max(0.0, s_.time_budget - p.elapsed_seconds);
    eta = eta < 0 ? left : std::min(eta, left);
  }
  p.eta_seconds = eta;
  progress_(p);
}

SearchResult Searcher::run() {
  check_search_settings(s_);
  const bool has_population = s_.strategy == StrategyKind::Rea || s_.strategy == StrategyKind::FreeRea;
  if (s_.resume) {
    state_ = load_search_state(search_state_path(s_.output_dir), space_, s_);
    rng_ = Rng(state_.rng);
    for (size_t i = 0; i < state_.history.size(); ++i)
      if (state_.history[i].feasible)
        index_.emplace(state_.history[i].candidate.text, static_cast<int64_t>(i));
  }
  start_ = Clock::now();
  start_step_ = state_.step;
  last_checkpoint_ = state_.step;
  if (has_population && !state_.initialized) {
    initialise_population();
    checkpoint();
    report();
  }
  while (budget_left()) {
    switch (s_.strategy) {
      case StrategyKind::Random:
        random_step();
        break;
      case StrategyKind::Rea:
        rea_step();
        break;
      case StrategyKind::FreeRea:
        freerea_step();
        break;
      case StrategyKind::Rl:
        rl_step();
        break;
    }
    if (s_.checkpoint_every > 0 && state_.step - last_checkpoint_ >= s_.checkpoint_every)
      checkpoint();
    report();
  }
  checkpoint();
  return finish();
}

SearchResult Searcher::finish() {
  SearchResult result;
  state_.rng = rng_.state();
  result.run_seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  state_.elapsed_seconds += result.run_seconds;
  fit_zscore(true);
  std::vector<const MetricValues*> set;
  std::vector<int64_t> feasible;
  for (size_t i = 0; i < state_.history.size(); ++i)
    if (state_.history[i].feasible) {
      set.push_back(&state_.history[i].metrics);
      feasible.push_back(static_cast<int64_t>(i));
    }
  result.aggregates.assign(state_.history.size(), std::numeric_limits<double>::quiet_NaN());
  if (!set.empty() && (s_.aggregator == AggregatorKind::FreeRea || state_.zscore)) {
    const std::vector<double> score = aggregate_set(set, s_, state_.zscore);
    for (size_t k = 0; k < feasible.size(); ++k) result.aggregates[feasible[k]] = score[k];
    std::vector<size_t> order(feasible.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return score[a] > score[b]; });
    std::vector<std::string> texts;
    for (size_t k : order) {
      const std::string& text = state_.history[feasible[k]].candidate.text;
      if (std::find(texts.begin(), texts.end(), text) != texts.end()) continue;
      texts.push_back(text);
      result.top.push_back(feasible[k]);
      if (static_cast<int>(result.top.size()) == s_.top_k) break;
    }
    result.best = result.top.front();
  }
  result.state = std::move(state_);
  return result;
}

}  // namespace

SearchResult run_search(const SearchSpace& space, const SearchSettings& settings,
                        const BatchScoreFn& batch_score, const ProgressFn& progress) {
  Searcher searcher(space, settings, batch_score, progress);
  return searcher.run();
}

SearchResult run_search(const SearchSpace& space, const SearchSettings& settings,
                        const ScoreFn& score, const ProgressFn& progress) {
  const BatchScoreFn local = [&score](const std::vector<Candidate>& batch) {
    return score_candidates(batch, score);
  };
  return run_search(space, settings, local, progress);
}

}  // namespace piconas::nas::search
