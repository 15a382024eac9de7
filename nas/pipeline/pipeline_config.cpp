#include "nas/pipeline/pipeline_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/input_checks.h"
#include "data/dataset.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/mcu_target.h"
#include "nas/metrics/score.h"
#include "nas/pipeline/scoring_batch.h"
#include "nas/pipeline/stages.h"
#include "nas/search/aggregate.h"
#include "nas/search/largest_feasible.h"
#include "nas/search/search.h"
#include "nas/search/search_space.h"
#include "nas/search/successive_halving.h"
#include "nas/train/trainer.h"

namespace piconas::nas::pipeline {

search::SearchSettings default_search_settings() {
  search::SearchSettings s;
  s.population = 50;
  s.sample_size = 10;
  s.steps = 300;
  s.top_k = 9;
  s.constraints.max_peak_sram = 64 * 1024;
  s.constraints.max_flash = 256 * 1024;
  s.constraints.max_macs = 2000000;  // bounds training time
  s.constraints.max_scoring_memory = int64_t{1} << 30;
  s.constraints.mcu_mhz = 120;  // the MCU clock of the latency budget (nas/deploy/latency.h)
  return s;
}

train::TrainSettings default_train_settings() {
  train::TrainSettings t;
  t.epochs = 8;
  t.batch_size = 128;
  t.lr = 0.1;
  t.limit = 0;
  t.warmup_epochs = 1.0;
  t.evaluate_test = true;
  t.resume = true;  // a rerun of the run continues the training
  t.checkpoint_every_steps = 100;
  return t;
}

deploy::ExportOptions default_export_options() {
  deploy::ExportOptions o;
  o.prefix = "model";
  o.calibration_images = 256;
  o.eval_images = 10000;
  o.memory.patch.grid_h = o.memory.patch.grid_w = 2;
  return o;
}

namespace {

// A byte key's field (an int64_t of the search's Constraints) seen through the byte syntax.
template <class Int>
struct Bytes {
  Int& bytes;
};
template <class Int>
Bytes(Int&) -> Bytes<Int>;

// A bool seen as "on" | "off" (in_place).
template <class Bool>
struct OnOff {
  Bool& on;
};
template <class Bool>
OnOff(Bool&) -> OnOff<Bool>;

// The patch_layers and patch_grid keys of the memory plan, in their command-line text
// (deploy::parse_patch_layers / parse_patch_grid, patch_layers_text / patch_grid_text).
template <class Plan>
struct PatchLayers {
  Plan& plan;
};
template <class Plan>
PatchLayers(Plan&) -> PatchLayers<Plan>;
template <class Plan>
struct PatchGrid {
  Plan& plan;
};
template <class Plan>
PatchGrid(Plan&) -> PatchGrid<Plan>;

// Calls f(key, member, help) for every stored field, in declaration order. Shared by the JSON
// writer, the JSON and text readers and the key list, so a new field cannot miss one of them.
template <class Config, class F>
void visit_fields(Config& c, F&& f) {
  f("data", c.shared.data, "data set: fashion-mnist | mnist | cifar10");
  f("data_path", c.shared.data_path, "data set location (\"\": the standard one)");
  f("budget_sram", Bytes{c.search.constraints.max_peak_sram}, "peak int8 SRAM budget in bytes (K/M/G suffixes; 0: none)");
  f("budget_flash", Bytes{c.search.constraints.max_flash}, "int8 flash budget in bytes (K/M/G suffixes; 0: none)");
  f("max_macs", c.search.constraints.max_macs, "MACs per image limit for the search (0: none)");
  f("max_memory", Bytes{c.search.constraints.max_scoring_memory}, "refuse search candidates whose estimated scoring memory exceeds this many bytes (K/M/G suffixes; 0: none)");
  f("max_latency_ms", c.search.constraints.max_latency_ms, "predicted milliseconds per inference on the target at mcu_mhz (0: none)");
  f("mcu_mhz", c.search.constraints.mcu_mhz, "MCU clock in MHz of the latency budget");
  f("in_place", OnOff{c.export_.memory.in_place_depthwise}, "int8 plan: in-place depthwise where it lowers the arena: on | off");
  f("patch_layers", PatchLayers{c.export_.memory}, "int8 plan: leading layers run patch by patch: if-needed (when budget_sram needs it), 0 (off), a count or auto");
  f("patch_grid", PatchGrid{c.export_.memory}, "int8 plan: patch grid HxW for a patch_layers count");
  f("patch_max_extra_macs", c.export_.memory.max_extra_macs, "int8 plan: patch_layers auto / if-needed recomputes at most this fraction of the MACs");
  f("space", c.space, "search space: blocks | mbv2");
  f("strategy", c.search.strategy, "search strategy: random | rea | freerea");
  f("metrics", c.search.metrics, "training-free metrics[:weight], comma-separated");
  f("aggregator", c.search.aggregator, "metric aggregation: freerea | zscore");
  f("activation", c.activation, "activation: relu | relu6");
  f("stem", c.stem, "stem conv <channels>k<kernel>s<stride>");
  f("head", c.head, "1x1 head conv channels (0: none)");
  f("min_blocks", c.min_blocks, "blocks space: fewest blocks");
  f("max_blocks", c.max_blocks, "blocks space: most blocks");
  f("ir_options", c.ir_options,
    "blocks space: draw and mutate ir blocks' se and activation, and MobileNetV3's expansions and widths: on | off");
  f("scoring_images", c.search.constraints.scoring_images, "training images in the scoring batch");
  f("search_steps", c.search.steps, "search steps");
  f("population", c.search.population, "search population");
  f("sample_size", c.search.sample_size, "search tournament size");
  f("trials", c.trials, "re-initialisations averaged per metric");
  f("top_k", c.search.top_k, "search candidates trained briefly to pick the winner");
  f("shortlist_largest", c.shortlist_largest, "shortlist also the N feasible search draws with the most shortlist_largest_by, beyond the top_k (0: none)");
  f("shortlist_largest_by", c.shortlist_largest_by, "size of shortlist_largest: params | macs | params,macs (shortlist_largest draws by each, in turn)");
  f("shortlist_largest_from", c.shortlist_largest_from, "draws shortlist_largest ranks: all (the whole search) | initial (the uniform draws before the search steers: rea and freerea's initial population, every random draw, rl's first batch)");
  f("shortlist_per_family", c.shortlist_per_family, "top_k with at most N per family (block count, strides and widths; 0: no limit)");
  f("halving_eta", c.halving_eta, "successive halving of the shortlist: keep 1/eta per rung (2..16; 0: off, one rung)");
  f("halving_images", c.halving_images, "successive halving: training images per candidate in the first rung (x eta per rung)");
  f("halving_val_fraction", c.halving_val_fraction,
    "successive halving: part of each rung's subset held out to rank by (the rung still trains on its images)");
  f("halving_val_images", c.halving_val_images,
    "successive halving: rank every rung on one fixed set of this many train-split images (at most a fifth of the split), disjoint from the rungs' training images (0: per-rung hold-out, halving_val_fraction)");
  f("shortlist_epochs", c.shortlist_epochs, "epochs of each shortlist training (halving_eta 0)");
  f("shortlist_limit", c.shortlist_limit, "training images of each shortlist training (halving_eta 0; 0: all)");
  f("epochs", c.train.epochs, "epochs of the winner's training");
  f("batch", c.train.batch_size, "training batch size");
  f("lr", c.train.lr, "peak learning rate");
  f("train_limit", c.train.limit, "training images of the winner's training (0: all)");
  f("calib_images", c.export_.calibration_images, "int8 calibration images");
  f("calibration", c.export_.calibration.method,
    "int8 activation ranges (docs/int8.md): mae | mse | minmax | percentile (at the key percentile)");
  f("percentile", c.export_.calibration.percentile,
    "calibration percentile: keep this % of each tensor's values on each side (50, 100]");
  f("eval_images", c.export_.eval_images, "test images for the float vs int8 accuracy");
  f("verify_images", c.verify.images, "test images for the host C check");
  f("mcu_images", c.verify.mcu_images, "test images for the Cortex-M check under QEMU (0: skip)");
  f("target", c.search.constraints.latency_target, "Cortex-M target of the verification: cortex-m0 | cortex-m4 | cortex-m7 | cortex-m55");
  f("seed", c.shared.seed, "random seed of every stage");
  f("search_seed", c.search_seed, "random seed of the search stage only (0: seed)");
  f("threads", c.shared.threads, "worker threads");
}

template <class T>
T parse_number(const std::string& key, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  PICONAS_CHECK(ec == std::errc() && ptr == end && !text.empty(),
                "config key '" << key << "': '" << text << "' is not a valid number");
  return value;
}

// Runs parse(text), the error naming the key.
template <class Parse>
auto parsed(const std::string& key, Parse&& parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw Error("config key '" + key + "': " + e.what());
  }
}

void set_text(const std::string&, std::string& field, const std::string& text) { field = text; }
void set_text(const std::string& key, Bytes<int64_t> field, const std::string& text) {
  field.bytes = parse_byte_size(text, "config key '" + key + "'");
}
void set_text(const std::string& key, search::StrategyKind& field, const std::string& text) {
  field = parsed(key, [&] { return search::parse_strategy(text); });
}
void set_text(const std::string& key, search::AggregatorKind& field, const std::string& text) {
  field = parsed(key, [&] { return search::parse_aggregator(text); });
}
// The one check of the metric list (search::parse_metric_weights refuses an unknown metric
// through nas/metrics' list).
void set_text(const std::string& key, std::vector<search::MetricWeight>& field, const std::string& text) {
  field = parsed(key, [&] { return search::parse_metric_weights(text); });
}
void set_text(const std::string& key, deploy::McuTarget& field, const std::string& text) {
  field = parsed(key, [&] { return deploy::parse_mcu_target(text); });
}
void set_text(const std::string& key, data::DatasetKind& field, const std::string& text) {
  field = parsed(key, [&] { return data::parse_dataset_kind(text); });
}
void set_text(const std::string& key, deploy::CalibrationMethod& field, const std::string& text) {
  field = parsed(key, [&] { return deploy::parse_calibration_method(text); });
}
void set_text(const std::string& key, OnOff<bool> field, const std::string& text) {
  PICONAS_CHECK(text == "on" || text == "off", "config key '" << key << "' must be on or off, got '" << excerpt(text, 40) << "'");
  field.on = text == "on";
}
// Parsed into a copy, so that a refused value changes nothing.
void set_text(const std::string& key, PatchLayers<deploy::PlanOptions> field, const std::string& text) {
  deploy::PlanOptions plan = field.plan;
  parsed(key, [&] { deploy::parse_patch_layers(text, plan); });
  field.plan = plan;
}
void set_text(const std::string& key, PatchGrid<deploy::PlanOptions> field, const std::string& text) {
  deploy::PlanOptions plan = field.plan;
  parsed(key, [&] { deploy::parse_patch_grid(text, plan); });
  field.plan = plan;
}
void set_text(const std::string& key, int& field, const std::string& text) { field = parse_number<int>(key, text); }
void set_text(const std::string& key, int64_t& field, const std::string& text) {
  field = parse_number<int64_t>(key, text);
}
void set_text(const std::string& key, uint64_t& field, const std::string& text) {
  field = parse_number<uint64_t>(key, text);
}
void set_text(const std::string& key, double& field, const std::string& text) {
  field = parse_number<double>(key, text);
}

nlohmann::json to_json_value(Bytes<const int64_t> b) { return b.bytes; }
nlohmann::json to_json_value(search::StrategyKind k) { return search::strategy_name(k); }
nlohmann::json to_json_value(search::AggregatorKind k) { return search::aggregator_name(k); }
nlohmann::json to_json_value(const std::vector<search::MetricWeight>& m) {
  return search::metric_weights_text(m);
}
nlohmann::json to_json_value(deploy::McuTarget t) { return deploy::mcu_board(t).name; }
nlohmann::json to_json_value(data::DatasetKind k) { return data::dataset_kind_name(k); }
nlohmann::json to_json_value(deploy::CalibrationMethod m) { return deploy::calibration_method_name(m); }
nlohmann::json to_json_value(OnOff<const bool> b) { return b.on ? "on" : "off"; }
nlohmann::json to_json_value(PatchLayers<const deploy::PlanOptions> p) { return deploy::patch_layers_text(p.plan); }
nlohmann::json to_json_value(PatchGrid<const deploy::PlanOptions> p) { return deploy::patch_grid_text(p.plan); }
template <class T>
nlohmann::json to_json_value(const T& v) { return v; }

// Fields whose JSON form is a string parsed by set_text.
template <class T>
constexpr bool kParsedFromString =
    std::is_same_v<T, search::StrategyKind> || std::is_same_v<T, search::AggregatorKind> ||
    std::is_same_v<T, std::vector<search::MetricWeight>> || std::is_same_v<T, deploy::McuTarget> ||
    std::is_same_v<T, data::DatasetKind> || std::is_same_v<T, deploy::CalibrationMethod> ||
    std::is_same_v<T, OnOff<bool>> || std::is_same_v<T, PatchLayers<deploy::PlanOptions>> ||
    std::is_same_v<T, PatchGrid<deploy::PlanOptions>>;

template <class T>
void set_json(const std::string& key, T&& field, const nlohmann::json& j) {
  using Field = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<Field, std::string> || kParsedFromString<Field>) {
    PICONAS_CHECK(j.is_string(), "config key '" << key << "': expected a string, got " << j.dump());
    set_text(key, field, j.get<std::string>());
  } else if constexpr (std::is_same_v<Field, Bytes<int64_t>>) {
    if (j.is_string()) {
      field.bytes = parse_byte_size(j.get<std::string>(), "config key '" + key + "'");
    } else {
      PICONAS_CHECK(j.is_number_integer() && j.get<int64_t>() >= 0,
                    "config key '" << key << "': expected bytes (a whole number or \"64K\"), got " << j.dump());
      field.bytes = j.get<int64_t>();
    }
  } else if constexpr (std::is_floating_point_v<Field>) {
    PICONAS_CHECK(j.is_number(), "config key '" << key << "': expected a number, got " << j.dump());
    field = j.get<Field>();
  } else {
    PICONAS_CHECK(j.is_number_integer(), "config key '" << key << "': expected a whole number, got " << j.dump());
    // j.get<int>() would wrap 4294967298 to 2: the value must fit the field's type.
    if (j.is_number_unsigned()) field = checked_int<Field>(j.get<uint64_t>(), "config key '" + key + "'");
    else field = checked_int<Field>(j.get<int64_t>(), "config key '" + key + "'");
  }
}

}  // namespace

nlohmann::json config_to_json(const PipelineConfig& config) {
  nlohmann::json j = nlohmann::json::object();
  visit_fields(config, [&](const char* key, const auto& field, const char*) { j[key] = to_json_value(field); });
  return j;
}

void apply_json(PipelineConfig& config, const nlohmann::json& json, const std::string& source) {
  PICONAS_CHECK(json.is_object(), source << ": the configuration must be a JSON object");
  std::set<std::string> known;
  visit_fields(config, [&](const char* key, auto&& field, const char*) {
    known.insert(key);
    if (json.contains(key)) {
      try {
        set_json(key, field, json.at(key));
      } catch (const Error& e) {
        throw Error(source + ": " + e.what());
      }
    }
  });
  for (const auto& [key, value] : json.items())
    PICONAS_CHECK(known.count(key), source << ": unknown configuration key '" << key << "'");
}

void apply_text(PipelineConfig& config, const std::string& key, const std::string& text) {
  bool found = false;
  visit_fields(config, [&](const char* name, auto&& field, const char*) {
    if (key == name) {
      set_text(key, field, text);
      found = true;
    }
  });
  PICONAS_CHECK(found, "unknown configuration key '" << key << "'");
}

std::vector<std::pair<std::string, std::string>> config_keys() {
  std::vector<std::pair<std::string, std::string>> keys;
  PipelineConfig c;
  visit_fields(c, [&](const char* key, const auto&, const char* help) { keys.emplace_back(key, help); });
  return keys;
}

// Everything a stage parses from the configuration is parsed here too, so that a bad value is
// refused before config.json is written (a stored bad configuration would block the rerun).
// The ranges of the search, training and export settings are those libraries' own checks
// (check_search_settings, check_train_settings, check_export_options) on the settings the
// stages will use (stages.h), with the configuration keys as names; only the rules of a run
// itself are checked here.
void check_pipeline_config(const PipelineConfig& c) {
  // data, strategy, metrics, aggregator, target, calibration, in_place and patch_layers /
  // patch_grid were parsed when they were read (set_text).
  try {
    ScoringBatch shape_only;
    shape_only.input = {1, 28, 28};
    shape_only.num_classes = 10;
    search::make_search_space(c.space, space_options(c, shape_only));
  } catch (const Error& e) {
    throw Error(std::string("configuration: ") + e.what());
  }
  check_utf8(c.shared.data_path, "config key 'data_path'");
  check_utf8(c.out, "the run directory");
  PICONAS_CHECK(c.space == "blocks" || c.space == "mbv2",
                "config key 'space': '" << c.space << "' cannot be trained and exported (use blocks or mbv2)");
  // A run has no time budget: its search needs steps.
  PICONAS_CHECK(c.search.steps > 0, "config key 'search_steps' must be positive, got " << c.search.steps);
  search::check_search_settings(search_settings(c, ""), pipeline_config_names());
  const std::string out = c.out.empty() ? std::string("run") : c.out;
  // The shortlist's trainings (halving_eta 0: the winner's settings with their own epochs and
  // images) and the winner's.
  train::check_train_settings(
      shortlist_train_settings(c, "", c.shortlist_epochs, c.shortlist_limit, out + "/shortlist"),
      prefixed_names("config key '", {{"epochs", "shortlist_epochs"}, {"limit", "shortlist_limit"}, {"batch_size", "batch"}}, "'"));
  train::check_train_settings(train_settings(c, "", out + "/train"), pipeline_config_names());
  deploy::check_export_options(export_options(c, out + "/export"), pipeline_config_names());
  // `piconas export --percentile P` means percentile calibration and excludes --calibration; the
  // two keys are stored together, so a percentile other than the default must come with it.
  const deploy::CalibrationOptions& calibration = c.export_.calibration;
  PICONAS_CHECK(calibration.method == deploy::CalibrationMethod::Percentile ||
                    calibration.percentile == deploy::CalibrationOptions{}.percentile,
                "config keys 'percentile' " << calibration.percentile << " and 'calibration' '"
                                            << deploy::calibration_method_name(calibration.method)
                                            << "' exclude each other (a percentile is for calibration 'percentile' only)");
  deploy::check_verify_options(verify_options(c, out + "/verify"), pipeline_config_names());
  auto positive = [](const char* key, int64_t v) { PICONAS_CHECK(v > 0, "config key '" << key << "' must be positive, got " << v); };
  positive("trials", c.trials);
  PICONAS_CHECK(c.search.top_k <= kMaxShortlist, "config key 'top_k' must be <= " << kMaxShortlist << ", got " << c.search.top_k);
  PICONAS_CHECK(c.shortlist_largest >= 0 && c.shortlist_largest <= kMaxShortlist,
                "config key 'shortlist_largest' must be in 0.." << kMaxShortlist << ", got " << c.shortlist_largest);
  size_t size_keys = 0;
  try {
    size_keys = search::parse_size_keys(c.shortlist_largest_by).size();
  } catch (const Error& e) {
    throw Error(std::string("config key 'shortlist_largest_by': ") + e.what());
  }
  const int64_t shortlisted = c.search.top_k + c.shortlist_largest * static_cast<int64_t>(size_keys);
  PICONAS_CHECK(shortlisted <= kMaxShortlist,
                "config keys 'top_k' " << c.search.top_k << " and 'shortlist_largest' " << c.shortlist_largest
                                       << (size_keys > 1 ? " per size key of 'shortlist_largest_by'" : "")
                                       << " shortlist more than " << kMaxShortlist
                                       << " candidates: lower one (shortlist_largest 0 shortlists the top_k alone)");
  PICONAS_CHECK(c.shortlist_per_family >= 0 && c.shortlist_per_family <= kMaxShortlist,
                "config key 'shortlist_per_family' must be in 0.." << kMaxShortlist << " (0: no limit), got "
                                                                   << c.shortlist_per_family);
  try {
    search::parse_draw_set(c.shortlist_largest_from);
  } catch (const Error& e) {
    throw Error(std::string("config key 'shortlist_largest_from': ") + e.what());
  }
  PICONAS_CHECK(c.halving_eta == 0 || (c.halving_eta >= 2 && c.halving_eta <= 16),
                "config key 'halving_eta' must be 0 (off) or in 2..16, got " << c.halving_eta);
  positive("halving_images", c.halving_images);
  PICONAS_CHECK(c.halving_val_fraction > 0 && c.halving_val_fraction <= 0.9,
                "config key 'halving_val_fraction' must be in (0, 0.9], got " << c.halving_val_fraction);
  PICONAS_CHECK(c.halving_val_images >= 0 && c.halving_val_images <= train::kMaxValImages,
                "config key 'halving_val_images' must be in [0, " << train::kMaxValImages << "], got "
                                                                  << c.halving_val_images);
  PICONAS_CHECK(c.halving_val_images == 0 || c.halving_val_fraction == PipelineConfig{}.halving_val_fraction,
                "config keys 'halving_val_images' " << c.halving_val_images << " and 'halving_val_fraction' "
                                                    << c.halving_val_fraction
                                                    << " exclude each other (a fixed validation set or a held-out part of each rung: halving_val_images 0 ranks on the held-out part)");
  if (c.halving_eta > 0) {
    int64_t cost = 0;
    try {
      cost = search::halving_cost(shortlisted, c.halving_images, c.halving_eta, false);
    } catch (const Error& e) {
      throw Error(std::string("config keys 'top_k', 'halving_eta', 'halving_images': ") + e.what());
    }
    PICONAS_CHECK(cost <= kMaxShortlistImages, "config keys 'top_k', 'halving_eta', 'halving_images': successive halving "
                                                   "would train " << cost << " images in all, more than "
                                                                  << kMaxShortlistImages);
  }
}

SettingName pipeline_config_names() {
  // The members of the search, train and export settings whose key differs from their name.
  return prefixed_names("config key '",
                        {{"steps", "search_steps"},
                         {"max_peak_sram", "budget_sram"},
                         {"max_flash", "budget_flash"},
                         {"max_scoring_memory", "max_memory"},
                         {"latency_target", "target"},
                         {"batch_size", "batch"},
                         {"limit", "train_limit"},
                         {"calibration_images", "calib_images"},
                         {"max_sram", "budget_sram"},
                         {"images", "verify_images"},
                         {"work_dir", "out"},
                         {"out_dir", "out"},
                         {"output_dir", "out"}},
                        "'");
}

search::SpaceOptions space_options(const PipelineConfig& c, const ScoringBatch& batch) {
  PICONAS_CHECK(c.ir_options == "on" || c.ir_options == "off",
                "config key 'ir_options' must be on or off, got '" << excerpt(c.ir_options, 40) << "'");
  PICONAS_CHECK(c.ir_options == "off" || c.space == "blocks",
                "config key 'ir_options' is on but space is '" << excerpt(c.space, 40)
                                                               << "' (only the blocks space has ir options)");
  search::SpaceOptions o = make_space_options(batch, c.activation, c.stem, c.head, c.min_blocks, c.max_blocks);
  o.ir_options = c.ir_options == "on";
  return o;
}

bool PipelineConfig::operator==(const PipelineConfig& other) const {
  return out == other.out && config_to_json(*this) == config_to_json(other);
}

std::vector<std::string> config_differences(const PipelineConfig& a, const PipelineConfig& b) {
  const nlohmann::json ja = config_to_json(a), jb = config_to_json(b);
  std::vector<std::string> keys;
  for (const auto& [key, value] : ja.items())
    if (key != "threads" && value != jb.at(key)) keys.push_back(key + " (" + value.dump() + " vs " + jb.at(key).dump() + ")");
  return keys;
}

}  // namespace piconas::nas::pipeline
