// The search, shortlist and train stages of run_pipeline.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/checkpoint.h"
#include "nas/pipeline/scoring_batch.h"
#include "nas/pipeline/stages.h"
#include "nas/search/distributed_scoring.h"
#include "nas/search/family_top.h"
#include "nas/search/largest_feasible.h"
#include "nas/search/search_io.h"
#include "nas/search/successive_halving.h"

namespace piconas::nas::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

std::string search_command(const PipelineConfig& c, const std::string& out_dir) {
  const search::SearchSettings& s = c.search;
  const search::Constraints& limits = s.constraints;
  return "piconas search" + data_flags(dataset_spec(c.shared), "--dataset") + " --images " + std::to_string(limits.scoring_images) +
         " --space " + c.space + " --activation " + c.activation + " --stem " + c.stem + " --head " +
         std::to_string(c.head) + " --min-blocks " + std::to_string(c.min_blocks) + " --max-blocks " +
         std::to_string(c.max_blocks) + (c.ir_options == "on" ? " --ir-options" : "") + " --strategy " + search::strategy_name(s.strategy) + " --metrics " +
         shell_word(search::metric_weights_text(s.metrics)) + " --aggregator " + search::aggregator_name(s.aggregator) +
         " --population " + std::to_string(s.population) + " --sample-size " + std::to_string(s.sample_size) +
         " --steps " + std::to_string(s.steps) + " --seed " + std::to_string(search_seed(c)) + " --trials " +
         std::to_string(c.trials) + " --max-sram " + std::to_string(limits.max_peak_sram) + " --max-flash " +
         std::to_string(limits.max_flash) + " --max-macs " + std::to_string(limits.max_macs) + " --max-memory " +
         byte_size_str(limits.max_scoring_memory) +
         (limits.max_latency_ms > 0 ? " --max-latency-ms " + num(limits.max_latency_ms) + " --mcu-mhz " +
                                          num(limits.mcu_mhz) + " --target " +
                                          deploy::mcu_board(limits.latency_target).name
                                    : std::string()) +
         " --top-k " + std::to_string(s.top_k) + " --threads " + std::to_string(c.shared.threads) + memory_flags(c.export_.memory) +
         " --output " + shell_word(out_dir);
}

// Trains with progress lines "what epoch e/E step s/S loss .. acc .. img/s ETA .."; data-parallel
// over `communicator`'s ranks when given (trainer.h).
train::TrainResult train_with_progress(const train::TrainSettings& t, const std::string& what,
                                       StageContext& ctx,
                                       const Communicator* communicator = nullptr) {
  train::TrainHooks hooks;
  hooks.communicator = communicator;
  hooks.on_progress = [&](const train::TrainProgress& p) {
    if (p.kind == train::TrainProgress::Kind::Step) {
      char line[256];
      std::snprintf(line, sizeof line, "%s epoch %lld/%lld step %lld/%lld loss %.4f acc %.1f%% %.0f img/s ETA %s",
                    what.c_str(), static_cast<long long>(p.epoch), static_cast<long long>(p.epochs),
                    static_cast<long long>(p.step_in_epoch), static_cast<long long>(p.steps_per_epoch), p.loss,
                    100 * p.accuracy, p.images_per_second, duration_str(p.eta_seconds).c_str());
      ctx.progress(line, true);
    } else if (p.kind == train::TrainProgress::Kind::Epoch) {
      const train::EpochMetrics& m = p.metrics;
      char line[256];
      std::snprintf(line, sizeof line, "%s epoch %lld/%lld done: train acc %.2f%%  val acc %.2f%%  %.0f img/s",
                    what.c_str(), static_cast<long long>(m.epoch), static_cast<long long>(p.epochs),
                    100 * m.train_accuracy, 100 * m.val_accuracy, m.images_per_second);
      ctx.progress(line, false);
    } else if (p.kind == train::TrainProgress::Kind::Start && p.resumed) {
      ctx.progress(what + " resuming at step " + std::to_string(p.global_step), false);
    }
    return true;
  };
  return train::train_model(t, hooks);
}

json history_json(const std::vector<train::EpochMetrics>& history) {
  json out = json::array();
  for (const train::EpochMetrics& m : history)
    out.push_back({{"epoch", m.epoch},
                   {"train_loss", m.train_loss},
                   {"train_accuracy", m.train_accuracy},
                   {"val_loss", std::isfinite(m.val_loss) ? json(m.val_loss) : json()},
                   {"val_accuracy", std::isfinite(m.val_accuracy) ? json(m.val_accuracy) : json()},
                   {"images_per_second", m.images_per_second},
                   {"seconds", m.seconds}});
  return out;
}

std::string csv_word(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// make_entry(k) for the positions k < count that fall to this rank (k % ranks == rank); every
// position's entry, in order, on every rank (the root gathers them and broadcasts the list).
std::vector<json> entries_on_ranks(const Communicator& comm, size_t count,
                                   const std::function<json(size_t)>& make_entry) {
  json mine = json::array();
  const auto ranks = static_cast<size_t>(comm.size());
  for (size_t k = static_cast<size_t>(comm.rank()); k < count; k += ranks)
    mine.push_back(make_entry(k));
  const std::vector<std::string> parts = comm.gather(mine.dump());
  std::string all;
  if (comm.is_root()) {
    std::vector<json> per_rank;
    for (const std::string& part : parts) per_rank.push_back(json::parse(part));
    json list = json::array();
    for (size_t k = 0; k < count; ++k) list.push_back(per_rank.at(k % ranks).at(k / ranks));
    all = list.dump();
  }
  comm.broadcast(all);
  return json::parse(all).get<std::vector<json>>();
}

// Rungs of successive_halving(n, .., eta, .., false) that train: every rung but the last.
int trained_rungs(int64_t n, int eta) {
  int rungs = 0;
  for (int64_t size = n; size > 1; size = (size + eta - 1) / eta) ++rungs;
  return rungs;
}

// One rung training of `images`: with a fixed validation set of val_images (> 0), `images`
// training images (the trainer takes all the train split holds beside the set when that is
// fewer) and that set; otherwise as many training images as the trainer's usual hold-out
// leaves of `images`, the subset grown so that halving_val_fraction of it is held out to rank
// by (0.1: `images` itself).
train::TrainSettings rung_train_settings(const PipelineConfig& c, const std::string& arch, int64_t images,
                                        int64_t val_images, const std::string& dir) {
  if (val_images > 0) {
    train::TrainSettings t =
        shortlist_train_settings(c, arch, 1, images, dir);
    t.val_fraction = 0;
    t.val_images = val_images;
    return t;
  }
  const double train_images = static_cast<double>(images) * (1.0 - train::TrainSettings{}.val_fraction);
  const auto subset = static_cast<int64_t>(std::llround(train_images / (1.0 - c.halving_val_fraction)));
  train::TrainSettings t = shortlist_train_settings(c, arch, 1, subset, dir);
  t.val_fraction = c.halving_val_fraction;
  return t;
}

// The train split's image count: recorded by the search stage (a search stage finished by an
// earlier version has none: then counted from the data set).
int64_t train_split_images(const StageContext& ctx) {
  const json& search = ctx.results.at(Stage::Search);
  if (search.contains("train_split_images")) return search.at("train_split_images").get<int64_t>();
  data::DatasetSpec spec = dataset_spec(ctx.config.shared);
  spec.split = data::Split::Train;
  return data::load_dataset(spec).count;
}

// The shortlist by successive halving (pipeline_config.h, halving_eta). Every training is
// one epoch on a seeded subset of the rung's images, in shortlist/rung<r>/<rank> (r from 1), and leaves
// shortlist_result.json there: a rerun reads what is done and resumes the rest, so the rungs
// and the winner are the same as in an uninterrupted run.
json run_halving(StageContext& ctx, const json& candidates) {
  const PipelineConfig& c = ctx.config;
  const auto n = static_cast<int64_t>(candidates.size());
  const int64_t total_images = search::halving_cost(n, c.halving_images, c.halving_eta, false);
  const int rung_count = trained_rungs(n, c.halving_eta);
  const int64_t split_images = train_split_images(ctx);
  const int64_t val_images = halving_validation_images(c, split_images);
  ctx.progress(std::to_string(n) + " candidates, eta " + std::to_string(c.halving_eta) + ", " +
                   std::to_string(rung_count) + " rungs from " + std::to_string(c.halving_images) + " images: " +
                   std::to_string(total_images) + " training images in all; ranked on " +
                   (val_images > 0 ? "one fixed set of " + std::to_string(val_images) + " of the " +
                                         std::to_string(split_images) + " train-split images"
                                   : std::string("each rung's held-out part")),
               false);
  const auto start = std::chrono::steady_clock::now();
  int64_t images_done = 0, images_trained_here = 0;
  int rung = 0;  // 1-based, as in the directory names and the report
  json rows = json::array();
  // One call per rung: its candidates train on the ranks (entries_on_ranks), then the root
  // reports them in order.
  const auto evaluate_rung = [&](const std::vector<int64_t>& indices, int64_t images) {
    ++rung;
    const std::vector<json> results = entries_on_ranks(ctx.comm, indices.size(), [&](size_t k) {
      const int64_t index = indices[k];
      const std::string arch = candidates[static_cast<size_t>(index)].at("arch").get<std::string>();
      const std::string name = "shortlist/rung" + std::to_string(rung) + "/" + std::to_string(index + 1);
      const std::string marker = ctx.path(name + "/shortlist_result.json");
      if (fs::exists(marker)) return json{{"entry", json::parse(read_file(marker))}, {"trained", false}};
      train::TrainSettings t = rung_train_settings(c, arch, images, val_images, ctx.path(name));
      const train::TrainResult r = train_with_progress(
          t,
          "rung " + std::to_string(rung) + "/" + std::to_string(rung_count) + " rank " +
              std::to_string(index + 1) + " (" + std::to_string(images) + " images)",
          ctx);
      const json entry = {{"rung", rung},
                          {"rank", index + 1},
                          {"images", images},
                          {"arch", arch},
                          {"val_accuracy", r.best_accuracy},
                          {"history", history_json(r.history)},
                          {"dir", ctx.path(name)},
                          {"command", train_command(t, ctx.path("repro/" + name))}};
      write_file_atomic(marker, entry.dump(2) + "\n");
      return json{{"entry", entry}, {"trained", true}};
    });
    std::vector<double> scores;
    for (size_t k = 0; k < indices.size(); ++k) {
      const json& entry = results[k].at("entry");
      images_done += images;
      if (results[k].at("trained").get<bool>()) images_trained_here += images;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double eta_seconds =
          images_trained_here > 0 ? seconds / static_cast<double>(images_trained_here) *
                                        static_cast<double>(total_images - images_done)
                                  : 0.0;
      char line[256];
      std::snprintf(line, sizeof line, "halving: rung %d/%d rank %lld val acc %.2f%%; %lld/%lld images, ETA %s",
                    rung, rung_count, static_cast<long long>(indices[k] + 1),
                    100 * entry.at("val_accuracy").get<double>(), static_cast<long long>(images_done),
                    static_cast<long long>(total_images),
                    images_trained_here > 0 ? duration_str(eta_seconds).c_str() : "unknown (resumed)");
      ctx.progress(line, false);
      rows.push_back(entry);
      scores.push_back(entry.at("val_accuracy").get<double>());
    }
    return scores;
  };
  const std::vector<search::HalvingRung> rungs =
      search::successive_halving_by_rung(n, c.halving_images, c.halving_eta, evaluate_rung, false);
  const int64_t winner = rungs.back().candidates.at(0);
  std::string csv = "rung,rank,images,val_accuracy,arch\n";
  for (const json& e : rows) {
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.6f", e.at("val_accuracy").get<double>());
    csv += std::to_string(e.at("rung").get<int>()) + "," + std::to_string(e.at("rank").get<int64_t>()) + "," +
           std::to_string(e.at("images").get<int64_t>()) + "," + accuracy + "," + csv_word(e.at("arch")) + "\n";
  }
  json summary = {{"eta", c.halving_eta},
                  {"first_images", c.halving_images},
                  {"total_images", total_images},
                  {"winner_rank", winner + 1},
                  {"rows", json::array()}};
  if (val_images > 0) summary["val_images"] = val_images;
  for (const json& e : rows)
    summary["rows"].push_back(
        {{"rung", e["rung"]}, {"rank", e["rank"]}, {"images", e["images"]}, {"val_accuracy", e["val_accuracy"]}, {"arch", e["arch"]}});
  if (ctx.comm.is_root()) {
    write_file_atomic(ctx.path("shortlist/halving.csv"), csv);
    write_file_atomic(ctx.path("shortlist/halving.json"), summary.dump(2) + "\n");
  }
  return {{"winner", winner},
          {"candidates", json::array()},
          {"halving", summary},
          {"trainings", rows},
          {"files", {ctx.path("shortlist/halving.csv"), ctx.path("shortlist/halving.json")}},
          {"arch", candidates[static_cast<size_t>(winner)].at("arch")}};
}

}  // namespace

data::DatasetSpec dataset_spec(const SharedSettings& shared) {
  data::DatasetSpec spec;
  spec.kind = shared.data;
  spec.path = shared.data_path;
  return spec;
}

std::string data_flags(const data::DatasetSpec& data, const char* data_flag) {
  std::string s = std::string(" ") + data_flag + " " + shell_word(data::dataset_kind_name(data.kind));
  if (!data.path.empty()) s += " --data-path " + shell_word(data.path);
  return s;
}

int64_t halving_validation_images(const PipelineConfig& c, int64_t train_split_images) {
  return std::min(c.halving_val_images, train_split_images / 5);
}

uint64_t search_seed(const PipelineConfig& c) { return c.search_seed > 0 ? c.search_seed : c.shared.seed; }

search::SearchSettings search_settings(const PipelineConfig& c, const std::string& out_dir) {
  search::SearchSettings s = c.search;
  s.seed = search_seed(c);
  s.output_dir = out_dir;
  return s;
}

train::TrainSettings train_settings(const PipelineConfig& c, const std::string& arch,
                                    const std::string& out_dir) {
  train::TrainSettings t = c.train;
  t.arch = arch;
  t.data = dataset_spec(c.shared);
  t.seed = c.shared.seed;
  t.threads = c.shared.threads;
  t.out_dir = out_dir;
  return t;
}

train::TrainSettings shortlist_train_settings(const PipelineConfig& c, const std::string& arch,
                                              int64_t epochs, int64_t limit,
                                              const std::string& out_dir) {
  train::TrainSettings t = train_settings(c, arch, out_dir);
  t.epochs = epochs;
  t.limit = limit;
  t.warmup_epochs = 0.2;
  t.evaluate_test = false;
  return t;
}

std::string train_command(const train::TrainSettings& t, const std::string& repro_dir) {
  std::string s = "piconas train --arch " + shell_word(t.arch) + data_flags(t.data, "--data");
  if (t.limit > 0) s += " --limit " + std::to_string(t.limit);
  s += " --epochs " + std::to_string(t.epochs) + " --batch " + std::to_string(t.batch_size) + " --lr " + num(t.lr) +
       " --warmup " + num(t.warmup_epochs) + " --seed " + std::to_string(t.seed) + " --threads " +
       std::to_string(t.threads);
  if (t.val_fraction != train::TrainSettings{}.val_fraction)
    s += " --val-fraction " + num(t.val_fraction);
  if (t.val_images > 0) s += " --val-images " + std::to_string(t.val_images);
  if (!t.evaluate_test) s += " --no-test";
  return s + " --out " + shell_word(repro_dir);
}

json run_search_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  set_num_threads(c.shared.threads);
  const std::string out_dir = ctx.path("search");
  const ScoringBatch batch =
      load_scoring_batch(dataset_spec(c.shared), static_cast<int>(c.search.constraints.scoring_images), search_seed(c));
  search::SearchSettings s = search_settings(c, out_dir);
  search::SpaceOptions space_options = pipeline::space_options(c, batch);
  space_options.int8_block_kinds_only = search::has_deployment_budget(s.constraints);
  space_options.deploy_memory = c.export_.memory;
  space_options.deploy_max_sram = c.search.constraints.max_peak_sram;
  const auto space = search::make_search_space(c.space, space_options);
  s.resume = fs::exists(search::search_state_path(out_dir));
  make_directories(out_dir);
  ctx.progress(std::string(space->name()) + " space, " + search::strategy_name(s.strategy) + ", " +
                   search::metric_weights_text(s.metrics) + (s.resume ? ", resuming" : "") +
                   "; scoring on " + batch.description,
               false);
  const search::ScoreFn score =
      make_network_score_fn(*space, batch, network_metrics(s.metrics), c.trials, search_seed(c));
  if (!ctx.comm.is_root()) {
    search::serve_scoring(ctx.comm, *space, score);
    return json();
  }
  const search::SearchResult r =
      run_search(*space, s, make_distributed_score_fn(ctx.comm, *space, score),
                 [&](const search::SearchProgress& p) { ctx.progress(format_progress(p), true); });
  search::stop_scoring(ctx.comm);
  search::write_search_outputs(r, *space, s);
  PICONAS_CHECK(r.best >= 0, "run: the search scored no feasible candidate under the budgets");
  // The aggregate's top_k (at most shortlist_per_family per family when set), then for each
  // size key of shortlist_largest_by the shortlist_largest largest feasible draws not shortlisted yet.
  const std::vector<int64_t> top =
      c.shortlist_per_family > 0
          ? search::top_per_family(r.state.history, r.aggregates, c.search.top_k, c.shortlist_per_family)
          : r.top;
  std::vector<int64_t> shortlisted = top;
  std::vector<std::string> chosen_by(top.size(), "aggregate");
  const int64_t last_generation = search::last_counted_generation(
      search::parse_draw_set(c.shortlist_largest_from), c.search.strategy, c.search.batch);
  for (search::SizeKey key : search::parse_size_keys(c.shortlist_largest_by)) {
    const std::vector<int64_t> largest =
        search::largest_feasible(r.state.history, shortlisted, c.shortlist_largest, key, last_generation);
    shortlisted.insert(shortlisted.end(), largest.begin(), largest.end());
    chosen_by.resize(shortlisted.size(), std::string("largest ") + search::size_key_name(key));
  }
  json candidates = json::array();
  for (size_t rank = 0; rank < shortlisted.size(); ++rank) {
    const search::HistoryEntry& e = r.state.history[static_cast<size_t>(shortlisted[rank])];
    PICONAS_CHECK(e.candidate.arch, "run: candidate " << e.candidate.text << " has no architecture");
    candidates.push_back({{"rank", rank + 1},
                          {"chosen_by", chosen_by[rank]},
                          {"history_row", shortlisted[rank]},
                          {"text", e.candidate.text},
                          {"arch", to_text(*e.candidate.arch)},
                          {"aggregate", r.aggregates[static_cast<size_t>(shortlisted[rank])]},
                          {"params", e.cost.params},
                          {"macs", e.cost.macs},
                          {"peak_sram", e.cost.peak_sram},
                          {"flash", e.cost.flash}});
  }
  int64_t infeasible = 0;
  for (const search::HistoryEntry& e : r.state.history) infeasible += !e.feasible;
  return {{"candidates", candidates},
          {"history", r.state.history.size()},
          {"feasible", static_cast<int64_t>(r.state.history.size()) - infeasible},
          {"infeasible", infeasible},
          {"steps", r.state.step},
          {"scoring", batch.description},
          {"train_split_images", batch.train_split_images},
          {"search_seconds", r.state.elapsed_seconds},
          {"files", {out_dir + "/history.csv", out_dir + "/best.json", out_dir + "/pareto.svg"}},
          {"command", search_command(c, ctx.path("repro/search"))}};
}

json run_shortlist_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  const json& candidates = ctx.results.at(Stage::Search).at("candidates");
  json trained = json::array();
  int64_t winner = 0;
  if (candidates.size() == 1) {
    ctx.progress("one candidate: no shortlist training", false);
    return {{"winner", 0}, {"candidates", trained}, {"arch", candidates[0].at("arch")}};
  }
  if (c.halving_eta > 0) return run_halving(ctx, candidates);
  const std::vector<json> entries = entries_on_ranks(ctx.comm, candidates.size(), [&](size_t i) {
    const std::string arch = candidates[i].at("arch").get<std::string>();
    const std::string dir = ctx.path("shortlist/" + std::to_string(i + 1));
    const std::string marker = dir + "/shortlist_result.json";
    if (fs::exists(marker)) return json::parse(read_file(marker));
    const train::TrainSettings t =
        shortlist_train_settings(c, arch, c.shortlist_epochs, c.shortlist_limit, dir);
    const train::TrainResult r = train_with_progress(
        t, "candidate " + std::to_string(i + 1) + "/" + std::to_string(candidates.size()), ctx);
    const json entry = {{"rank", i + 1},
                        {"arch", arch},
                        {"val_accuracy", r.best_accuracy},
                        {"best_epoch", r.best_epoch},
                        {"history", history_json(r.history)},
                        {"dir", dir},
                        {"command", train_command(t, ctx.path("repro/shortlist/" + std::to_string(i + 1)))}};
    write_file_atomic(marker, entry.dump(2) + "\n");
    return entry;
  });
  double best = -1;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double accuracy = entries[i].at("val_accuracy").get<double>();
    if (accuracy > best) best = accuracy, winner = static_cast<int64_t>(i);
    trained.push_back(entries[i]);
  }
  return {{"winner", winner}, {"candidates", trained}, {"arch", candidates[static_cast<size_t>(winner)].at("arch")}};
}

json run_train_stage(StageContext& ctx) {
  const PipelineConfig& c = ctx.config;
  const std::string arch = ctx.results.at(Stage::Shortlist).at("arch").get<std::string>();
  const std::string dir = ctx.path("train");
  const train::TrainSettings t = train_settings(c, arch, dir);
  // data-parallel over the ranks (trainer.h)
  const train::TrainResult r = train_with_progress(t, "winner", ctx, &ctx.comm);
  if (!ctx.comm.is_root()) return json();
  PICONAS_CHECK(r.completed, "run: the training in " << dir << " stopped before its last epoch");
  // The trainer stores the test accuracy of best.ckpt in its meta (what `piconas eval` prints).
  const Checkpoint best = load_checkpoint(r.best_checkpoint);
  json out = {{"arch", arch},
              {"params", arch_cost(parse_arch(arch)).params},
              {"macs", arch_cost(parse_arch(arch)).macs},
              {"history", history_json(r.history)},
              {"best_epoch", r.best_epoch},
              {"best_val_accuracy", r.best_accuracy},
              {"best_checkpoint", r.best_checkpoint},
              {"last_test_accuracy", r.has_test ? json(r.test.accuracy) : json()},
              {"test_accuracy", best.meta.value("test_accuracy", json())},
              {"test_images", r.has_test ? json(r.test.count) : json()},
              {"command", train_command(t, ctx.path("repro/train"))},
              {"eval_command", "piconas eval " + shell_word(r.best_checkpoint)},
              {"info_command", "piconas info " + shell_word(arch)}};
  return out;
}

}  // namespace piconas::nas::pipeline
