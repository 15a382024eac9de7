// nas/pipeline configuration: byte sizes with suffixes, JSON / flag merging, the stored
// configuration of a run directory, and the search's --max-memory refusal.
#include <cmath>
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "core/atomic_file.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/pipeline/pipeline.h"
#include "nas/pipeline/stages.h"
#include "nas/search/cost_model.h"
#include "nas/search/search_space.h"
#include "nas/search/successive_halving.h"
#include "nas/train/trainer.h"
#include "search_test_util.h"

using namespace piconas;
using namespace piconas::nas;

TEST_CASE("byte sizes accept K/M/G suffixes and refuse anything else") {
  CHECK(parse_byte_size("64K") == 65536);
  CHECK(parse_byte_size("256k") == 262144);
  CHECK(parse_byte_size("256KB") == 262144);
  CHECK(parse_byte_size("64KiB") == 65536);
  CHECK(parse_byte_size("1M") == 1048576);
  CHECK(parse_byte_size("2G") == 2147483648LL);
  CHECK(parse_byte_size("1000") == 1000);
  CHECK(parse_byte_size("0") == 0);
  for (const char* bad : {"", "K", "1.5M", "64X", "-1", "64 K", "9999999999999G"})
    CHECK_THROWS_WITH_AS(parse_byte_size(bad, "--budget-sram"), doctest::Contains("--budget-sram"), Error);
  CHECK(byte_size_str(65536) == "64K");
  CHECK(byte_size_str(1 << 30) == "1G");
  CHECK(byte_size_str(1000) == "1000");
  for (int64_t v : {int64_t{1}, int64_t{1024}, int64_t{3} << 20, int64_t{1500}})
    CHECK(parse_byte_size(byte_size_str(v)) == v);
}

TEST_CASE("config file and flags merge over the defaults, flags win; bad keys are errors") {
  pipeline::PipelineConfig c;
  pipeline::apply_json(
      c,
      nlohmann::json::parse(
          R"({"budget_sram": "32K", "budget_flash": 100000, "epochs": 3, "lr": 0.05})"),
      "test.json");
  pipeline::apply_text(c, "epochs", "5");
  apply_text(c, "budget_flash", "128K");
  CHECK(c.search.constraints.max_peak_sram == 32768);
  CHECK(c.search.constraints.max_flash == 131072);
  CHECK(c.train.epochs == 5);
  CHECK(c.train.lr == doctest::Approx(0.05));
  CHECK(c.search.top_k == pipeline::PipelineConfig{}.search.top_k);
  // JSON round trip of every key.
  pipeline::PipelineConfig back;
  pipeline::apply_json(back, pipeline::config_to_json(c), "round trip");
  CHECK(back == c);
  CHECK(config_to_json(c).size() == pipeline::config_keys().size());
  CHECK_THROWS_WITH_AS(apply_json(c, nlohmann::json::parse(R"({"epochz": 3})"), "f.json"),
                       doctest::Contains("unknown configuration key 'epochz'"), Error);
  CHECK_THROWS_WITH_AS(apply_json(c, nlohmann::json::parse(R"({"epochs": "many"})"), "f.json"),
                       doctest::Contains("'epochs'"), Error);
  CHECK_THROWS_WITH_AS(apply_text(c, "top_k", "3x"), doctest::Contains("'top_k'"), Error);
  CHECK_THROWS_AS(apply_text(c, "no_such_key", "1"), Error);
  pipeline::PipelineConfig nb = c;
  nb.space = "nb201";
  CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(nb), doctest::Contains("space"), Error);
}

TEST_CASE("the run's trainings, export and verification are its embedded settings plus the shared keys") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  pipeline::apply_json(c,
                       nlohmann::json::parse(R"({"epochs": 3, "batch": 32, "lr": 0.05, "train_limit": 500,
                         "calib_images": 64, "calibration": "percentile", "percentile": 99.9,
                         "eval_images": 200, "data": "mnist", "data_path": "d",
                         "seed": 7, "threads": 3, "budget_sram": "32K", "shortlist_epochs": 2,
                         "shortlist_limit": 900, "in_place": "off", "patch_layers": "3",
                         "patch_grid": "4x2", "patch_max_extra_macs": 0.5, "verify_images": 7,
                         "mcu_images": 0, "target": "cortex-m7"})"),
                       "t.json");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  CHECK(c.train.batch_size == 32);
  CHECK(c.train.limit == 500);
  CHECK(c.export_.calibration_images == 64);
  // Each key has one owner: the shared ones once, the export's and verification's in their
  // embedded settings.
  CHECK(c.shared.data == data::DatasetKind::Mnist);
  CHECK(c.shared.seed == 7);
  CHECK(c.export_.memory.patch.layers == 3);
  CHECK(c.verify.images == 7);
  // What `piconas train --arch tiny-bench --data mnist --data-path d --limit 500 --epochs 3
  // --batch 32 --lr 0.05 --warmup 1 --seed 7 --threads 3 --resume --checkpoint-every 100` fills.
  train::TrainSettings winner;
  winner.arch = "tiny-bench";
  winner.data.kind = data::DatasetKind::Mnist;
  winner.data.path = "d";
  winner.limit = 500;
  winner.epochs = 3;
  winner.batch_size = 32;
  winner.lr = 0.05;
  winner.warmup_epochs = 1.0;
  winner.evaluate_test = true;
  winner.seed = 7;
  winner.threads = 3;
  winner.out_dir = "runs/x/train";
  winner.resume = true;
  winner.checkpoint_every_steps = 100;
  CHECK(pipeline::train_settings(c, "tiny-bench", "runs/x/train") == winner);
  // A shortlist training: the same but its epochs and images, a 0.2-epoch warm-up, no test.
  train::TrainSettings shortlist = winner;
  shortlist.epochs = 2;
  shortlist.limit = 900;
  shortlist.warmup_epochs = 0.2;
  shortlist.evaluate_test = false;
  shortlist.out_dir = "runs/x/shortlist/1";
  CHECK(pipeline::shortlist_train_settings(c, "tiny-bench", c.shortlist_epochs, c.shortlist_limit,
                                           "runs/x/shortlist/1") == shortlist);
  // What `piconas export --calib 64 --percentile 99.9 --eval 200 --dataset mnist --data-path d
  // --max-sram 32768 --no-in-place --patch-layers 3 --patch-grid 4x2 --patch-max-extra-macs 0.5`
  // fills.
  deploy::ExportOptions exported;
  exported.out_dir = "runs/x/export";
  exported.calibration_images = 64;
  exported.calibration.method = deploy::CalibrationMethod::Percentile;
  exported.calibration.percentile = 99.9;
  exported.eval_images = 200;
  exported.dataset = "mnist";
  exported.data_path = "d";
  exported.max_sram = 32768;
  exported.memory.in_place_depthwise = false;
  exported.memory.patch_if_needed = false;
  exported.memory.patch.layers = 3;
  exported.memory.patch.grid_h = 4;
  exported.memory.patch.grid_w = 2;
  exported.memory.max_extra_macs = 0.5;
  CHECK(pipeline::export_options(c, "runs/x/export") == exported);
  // What `piconas verify --out runs/x/verify --images 7 --mcu-images 0 --target cortex-m7` fills
  // (beside the export options above, verify's --calib ... flags).
  deploy::VerifyOptions verified;
  verified.work_dir = "runs/x/verify";
  verified.images = 7;
  verified.mcu_images = 0;
  verified.target = deploy::McuTarget::CortexM7;
  CHECK(pipeline::verify_options(c, "runs/x/verify") == verified);
  // The search plans int8 memory with the same options (the stage passes export_.memory).
  CHECK(pipeline::search_settings(c, "runs/x/search").seed == 7);
  // The keys keep their names and values in config.json.
  const nlohmann::json j = pipeline::config_to_json(c);
  CHECK(j.at("batch") == 32);
  CHECK(j.at("train_limit") == 500);
  CHECK(j.at("calib_images") == 64);
  CHECK(j.at("eval_images") == 200);
  CHECK(j.at("epochs") == 3);
  CHECK(j.at("lr") == 0.05);
  CHECK(j.at("data") == "mnist");
  CHECK(j.at("data_path") == "d");
  CHECK(j.at("seed") == 7);
  CHECK(j.at("threads") == 3);
  CHECK(j.at("calibration") == "percentile");
  CHECK(j.at("percentile") == 99.9);
  CHECK(j.at("in_place") == "off");
  CHECK(j.at("patch_layers") == "3");
  CHECK(j.at("patch_grid") == "4x2");
  CHECK(j.at("patch_max_extra_macs") == 0.5);
  CHECK(j.at("verify_images") == 7);
  CHECK(j.at("mcu_images") == 0);
  // The defaults keep the texts of config.json before the keys had typed owners.
  const nlohmann::json d = pipeline::config_to_json(pipeline::PipelineConfig{});
  CHECK(d.at("data") == "fashion-mnist");
  CHECK(d.at("data_path") == "");
  CHECK(d.at("in_place") == "on");
  CHECK(d.at("patch_layers") == "if-needed");
  CHECK(d.at("patch_grid") == "2x2");
  CHECK(d.at("patch_max_extra_macs") == 0.2);
  CHECK(d.at("verify_images") == 100);
  CHECK(d.at("mcu_images") == 10);
  CHECK(d.at("calibration") == "mae");
  CHECK(d.at("percentile") == 99.99);
}

TEST_CASE("the latency budget of a run is range-checked") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  pipeline::apply_text(c, "max_latency_ms", "25");
  apply_text(c, "mcu_mhz", "64");
  apply_text(c, "target", "cortex-m7");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  CHECK(c.search.constraints.max_latency_ms == 25);
  CHECK(c.search.constraints.mcu_mhz == 64);
  CHECK(c.search.constraints.latency_target == deploy::McuTarget::CortexM7);
  for (const char* bad : {"-1", "nan", "inf"}) {
    pipeline::PipelineConfig b = c;
    pipeline::apply_text(b, "max_latency_ms", bad);
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(b), doctest::Contains("max_latency_ms"),
                         Error);
  }
  for (const char* bad : {"0", "-5", "nan"}) {
    pipeline::PipelineConfig b = c;
    pipeline::apply_text(b, "mcu_mhz", bad);
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(b), doctest::Contains("mcu_mhz"), Error);
  }
  pipeline::PipelineConfig m0 = c;  // cortex-m0 is calibrated too (bench/latency_calibrate.sh)
  apply_text(m0, "target", "cortex-m0");
  CHECK_NOTHROW(pipeline::check_pipeline_config(m0));
  CHECK_THROWS_WITH_AS(apply_text(m0, "target", "cortex-m9"),
                       doctest::Contains("config key 'target': unknown target 'cortex-m9'"), Error);
  apply_text(m0, "target", "cortex-m0");
  m0.search.constraints.max_latency_ms = 0;  // without a budget the target only names the verification board
  CHECK_NOTHROW(pipeline::check_pipeline_config(m0));
}

TEST_CASE("the int8 memory plan keys of a run are the export's planner options, bad values named") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  const deploy::PlanOptions& o = c.export_.memory;
  CHECK(o.in_place_depthwise);
  CHECK(!o.patch_auto);
  CHECK(o.patch.layers == 0);
  CHECK(o.patch_if_needed);  // patch_layers "if-needed": patched only when budget_sram needs it
  pipeline::apply_text(c, "patch_layers", "0");
  CHECK(!o.patch_if_needed);
  CHECK(pipeline::config_to_json(c).at("patch_layers") == "0");
  pipeline::apply_text(c, "in_place", "off");
  apply_text(c, "patch_layers", "7");
  apply_text(c, "patch_grid", "4x3");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  CHECK(!o.in_place_depthwise);
  CHECK((o.patch.layers == 7 && o.patch.grid_h == 4 && o.patch.grid_w == 3));
  apply_text(c, "patch_layers", "auto");
  apply_text(c, "patch_max_extra_macs", "0.05");
  CHECK(o.patch_auto);
  CHECK(o.max_extra_macs == doctest::Approx(0.05));
  CHECK(o.patch.grid_h == 4);  // the grid stays for a later count
  // Texts are refused when read, naming the key; a refused value changes nothing.
  for (auto [key, bad] : {std::pair{"in_place", "yes"}, std::pair{"patch_layers", "-1"},
                          std::pair{"patch_layers", "3x"}, std::pair{"patch_grid", "4"},
                          std::pair{"patch_grid", "0x2"}}) {
    pipeline::PipelineConfig b = c;
    const std::string named = std::string("config key '") + key + "'";
    CHECK_THROWS_WITH_AS(pipeline::apply_text(b, key, bad), doctest::Contains(named.c_str()), Error);
    CHECK(b == c);
  }
  CHECK_THROWS_WITH_AS(pipeline::apply_json(c, {{"in_place", true}}, "f.json"),
                       doctest::Contains("f.json: config key 'in_place': expected a string"), Error);
  // Numbers are range-checked by the export's own check, naming the key.
  for (const char* bad : {"-0.5", "1001", "inf", "nan"}) {
    pipeline::PipelineConfig b = c;
    pipeline::apply_text(b, "patch_max_extra_macs", bad);
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(b),
                         doctest::Contains("config key 'patch_max_extra_macs' must be a number in [0, 1000]"), Error);
  }
}

TEST_CASE("the int8 calibration keys: export's methods, checks and error texts; a changed one is refused on resume") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  CHECK(c.export_.calibration == deploy::CalibrationOptions{});  // mae, as `piconas export`
  for (const char* method : {"mse", "minmax", "percentile", "mae"}) {
    pipeline::apply_text(c, "calibration", method);
    CHECK(pipeline::export_options(c, "e").calibration.method == deploy::parse_calibration_method(method));
    CHECK(pipeline::config_to_json(c).at("calibration") == method);
    CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  }
  // An unknown method: export's --calibration text, after the key.
  std::string unknown;
  try {
    deploy::parse_calibration_method("kl");
  } catch (const Error& e) {
    unknown = e.what();
  }
  REQUIRE(!unknown.empty());
  const std::string by_key = "config key 'calibration': " + unknown, in_file = "f.json: " + by_key;
  CHECK_THROWS_WITH_AS(pipeline::apply_text(c, "calibration", "kl"), by_key.c_str(), Error);
  CHECK_THROWS_WITH_AS(pipeline::apply_json(c, {{"calibration", "kl"}}, "f.json"), in_file.c_str(), Error);
  CHECK(c.export_.calibration.method == deploy::CalibrationMethod::Mae);  // unchanged
  // The percentile: export's range check and words, naming the key instead of --percentile.
  pipeline::apply_json(c, {{"calibration", "percentile"}, {"percentile", 99.9}}, "f.json");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  CHECK(pipeline::export_options(c, "e").calibration.percentile == 99.9);
  for (double bad : {50.0, 100.5, std::nan("")}) {
    pipeline::PipelineConfig b = c;
    b.export_.calibration.percentile = bad;
    deploy::ExportOptions by_flags = pipeline::export_options(b, "e");
    std::string export_error;
    try {
      deploy::check_export_options(by_flags);
    } catch (const Error& e) {
      export_error = e.what();
    }
    const std::string flag = "export: --percentile";
    REQUIRE(export_error.rfind(flag + " must be in (50, 100], got ", 0) == 0);
    const std::string by_key = "config key 'percentile'" + export_error.substr(flag.size());
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(b), by_key.c_str(), Error);
  }
  // `--percentile` excludes `--calibration` in export; stored beside it, a percentile needs it.
  pipeline::PipelineConfig mae = c;
  pipeline::apply_text(mae, "calibration", "mae");
  CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(mae),
                       doctest::Contains("config keys 'percentile' 99.9 and 'calibration' 'mae' exclude each other"), Error);
  pipeline::apply_text(mae, "percentile", "99.99");
  CHECK_NOTHROW(pipeline::check_pipeline_config(mae));

  // Resume: the keys change the export's outputs, so another value is refused, naming the key;
  // a run directory stored before the keys existed resumes with the defaults.
  test::SearchTempDir dir;
  const std::string out = dir.file("run");
  std::filesystem::create_directories(out);
  pipeline::PipelineConfig stored = pipeline::resolve_run_config(out, nullptr, {{"calibration", "minmax"}});
  write_file_atomic(out + "/config.json", pipeline::config_to_json(stored).dump(2));
  CHECK_NOTHROW(pipeline::resolve_run_config(out, nullptr, {{"calibration", "minmax"}}));
  CHECK(pipeline::resolve_run_config(out, nullptr, {}).export_.calibration.method == deploy::CalibrationMethod::MinMax);
  CHECK_THROWS_WITH_AS(pipeline::resolve_run_config(out, nullptr, {{"calibration", "mae"}}),
                       doctest::Contains("calibration (\"minmax\" vs \"mae\")"), Error);
  CHECK_THROWS_WITH_AS(
      pipeline::resolve_run_config(out, nullptr, {{"calibration", "percentile"}, {"percentile", "99.9"}}),
      doctest::Contains("percentile (99.99 vs 99.9)"), Error);
  nlohmann::json old = pipeline::config_to_json(pipeline::PipelineConfig{});
  old.erase("calibration");
  old.erase("percentile");
  write_file_atomic(out + "/config.json", old.dump(2));
  CHECK(pipeline::resolve_run_config(out, nullptr, {}).export_.calibration == deploy::CalibrationOptions{});
  CHECK_THROWS_WITH_AS(pipeline::resolve_run_config(out, nullptr, {{"calibration", "mse"}}),
                       doctest::Contains("calibration"), Error);
}

TEST_CASE("ir_options: the blocks space's MobileNetV3 genes from the run configuration") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  pipeline::ScoringBatch batch;
  batch.input = {3, 96, 96};
  batch.num_classes = 10;
  CHECK(!pipeline::space_options(c, batch).ir_options);  // default off: the five-gene draws
  pipeline::apply_json(c, nlohmann::json::parse(R"({"ir_options": "on", "activation": "hswish",
      "stem": "16k3s2", "head": 576, "max_blocks": 11})"), "config.json");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
  const search::SpaceOptions o = pipeline::space_options(c, batch);
  CHECK(o.ir_options);
  CHECK(pipeline::config_to_json(c)["ir_options"] == "on");
  // With it the space takes mobilenetv3-small as a seed; without it refuses it naming the option.
  const auto space = search::make_search_space("blocks", o);
  CHECK_NOTHROW(space->parse("mobilenetv3-small,classes=10"));
  pipeline::PipelineConfig off = c;
  pipeline::apply_text(off, "ir_options", "off");
  CHECK_THROWS_WITH_AS(search::make_search_space("blocks", pipeline::space_options(off, batch))
                           ->parse("mobilenetv3-small,classes=10"),
                       doctest::Contains("--ir-options"), Error);
  for (auto [key, value] : {std::pair{"ir_options", "yes"}, std::pair{"space", "mbv2"}}) {
    pipeline::PipelineConfig b = c;
    pipeline::apply_text(b, key, value);
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(b), doctest::Contains("ir_options"), Error);
  }
}

TEST_CASE("a run directory keeps its configuration; a different one is refused") {
  test::SearchTempDir dir;
  const std::string out = dir.file("run");
  std::filesystem::create_directories(out);
  const nlohmann::json file = nlohmann::json::parse(R"({"epochs": 3, "budget_sram": "32K"})");
  pipeline::PipelineConfig c =
      pipeline::resolve_run_config(out, file, {{"epochs", "4"}, {"threads", "1"}});
  CHECK(c.train.epochs == 4);
  CHECK(c.search.constraints.max_peak_sram == 32768);
  CHECK(c.out == out);
  write_file_atomic(out + "/config.json", pipeline::config_to_json(c).dump(2));
  // Rerun with no options at all continues with the stored configuration.
  const pipeline::PipelineConfig again = pipeline::resolve_run_config(out, nullptr, {});
  CHECK(again.train.epochs == 4);
  CHECK(again.search.constraints.max_peak_sram == 32768);
  // Same values (and another thread count) are fine; another value is refused, naming it.
  CHECK_NOTHROW(pipeline::resolve_run_config(out, file, {{"epochs", "4"}, {"threads", "2"}}));
  CHECK_THROWS_WITH_AS(pipeline::resolve_run_config(out, nullptr, {{"epochs", "9"}}),
                       doctest::Contains("epochs"), Error);
}

TEST_CASE("--max-memory: the scoring-memory estimate refuses large candidates with a reason") {
  const ArchSpec spec = parse_arch("blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2|ir:k3e4s1c16|ds:k5s2c32|head=0");
  const search::CostEstimate cost = search::estimate_cost(spec);
  int64_t elements = 0;
  for (const LayerInfo& l : arch_layers(spec))
    if (l.kind != LayerKind::Input) elements += l.output.c * l.output.h * l.output.w;
  CHECK(cost.activation_elements == elements);
  CHECK(search::scoring_memory_bytes(cost, 64) == 12 * (elements * 64 + cost.params));

  search::Constraints limits;
  limits.scoring_images = 64;
  limits.max_scoring_memory = search::scoring_memory_bytes(cost, 64);
  CHECK(search::constraint_violations(cost, limits).empty());
  limits.max_scoring_memory -= 1;
  const auto v = search::constraint_violations(cost, limits);
  REQUIRE(v.size() == 1);
  CHECK(v[0].find("scoring_memory") != std::string::npos);

  // In a search: every scored candidate is within the bound, larger ones are refused unscored.
  search::SpaceOptions so;
  const auto space = search::make_search_space("blocks", so);
  search::SearchSettings s;
  s.population = 8;
  s.sample_size = 3;
  s.steps = 6;
  s.seed = 3;
  s.metrics = {{"naswot", 1.0}, {"logsynflow", 1.0}};
  s.constraints.scoring_images = 64;
  s.constraints.max_scoring_memory = 64 << 20;
  const search::SearchResult r = run_search(*space, s, test::synthetic_metrics);
  int64_t refused = 0;
  for (const search::HistoryEntry& e : r.state.history) {
    const int64_t need = scoring_memory_bytes(space->cost(e.candidate), 64);
    if (e.feasible) CHECK(need <= s.constraints.max_scoring_memory);
    else refused += need > s.constraints.max_scoring_memory;
  }
  CHECK(refused > 0);
  s.constraints.max_scoring_memory = 1000;
  s.max_infeasible = 20;
  CHECK_THROWS_WITH_AS(search::run_search(*space, s, test::synthetic_metrics),
                       doctest::Contains("scoring_memory"), Error);
}

TEST_CASE("pipeline config: successive halving keys are range-checked where the config is read") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  pipeline::check_pipeline_config(c);  // the defaults: halving on
  c.halving_eta = 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_eta'"), Error);
  c.halving_eta = 17;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_eta'"), Error);
  c.halving_eta = 0;
  check_pipeline_config(c);  // off
  c.halving_eta = 2;
  c.halving_images = 0;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_images'"), Error);
  c.halving_images = int64_t{1} << 40;  // 9 candidates: far more images than any run
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_images'"), Error);
  c.halving_images = INT64_MAX / 2;  // overflows the cost sum
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_images'"), Error);
  c.halving_images = 100;
  for (double bad : {0.0, -0.1, 0.95, std::nan("")}) {
    c.halving_val_fraction = bad;
    CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_val_fraction'"), Error);
  }
  CHECK(c.halving_val_images == 5000);  // the default ranks every rung on one fixed set
  c.halving_val_fraction = 0.9;  // a fixed validation set and a held-out fraction exclude each other
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("halving_val_images 0 ranks on the held-out part"),
                       Error);
  c.halving_val_images = 0;
  check_pipeline_config(c);
  c.halving_val_images = 5000;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("exclude each other"), Error);
  c.halving_val_fraction = pipeline::PipelineConfig{}.halving_val_fraction;
  check_pipeline_config(c);
  c.halving_val_images = -1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'halving_val_images'"), Error);
  pipeline::apply_text(c, "halving_val_images", "3000");
  CHECK(c.halving_val_images == 3000);
  CHECK(pipeline::config_to_json(c)["halving_val_images"] == 3000);
  c.search.top_k = pipeline::kMaxShortlist + 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'top_k'"), Error);
  CHECK_THROWS_WITH_AS(pipeline::apply_text(c, "halving_eta", "2.5"),
                       doctest::Contains("'halving_eta'"), Error);
}

TEST_CASE("pipeline config: shortlist_largest keys are range-checked; the halving cost counts them") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  CHECK(c.shortlist_largest == 3);  // the default shortlist: the aggregate's top_k and 3 largest
  c.shortlist_largest = -1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_largest'"), Error);
  c.shortlist_largest = pipeline::kMaxShortlist + 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_largest' must be in 0..1000"), Error);
  c.shortlist_largest = pipeline::kMaxShortlist - c.search.top_k + 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'top_k' 9 and 'shortlist_largest' 992"), Error);
  c.shortlist_largest = pipeline::kMaxShortlist - c.search.top_k;
  check_pipeline_config(c);
  // top_k at its limit with the default shortlist_largest names both keys and the way out.
  pipeline::PipelineConfig full;
  full.out = "runs/x";
  full.search.top_k = pipeline::kMaxShortlist;
  CHECK_THROWS_WITH_AS(check_pipeline_config(full), doctest::Contains("shortlist_largest 0 shortlists the top_k alone"),
                       Error);
  full.shortlist_largest = 0;
  check_pipeline_config(full);
  c.shortlist_largest_by = "flops";
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_largest_by'"), Error);
  pipeline::apply_text(c, "shortlist_largest_by", "macs");
  pipeline::apply_text(c, "shortlist_largest", "3");
  CHECK(c.shortlist_largest == 3);
  check_pipeline_config(c);
  // 9 candidates at this first budget train 18 x it images (< 2^36); 9 + 991 would train more.
  c.halving_images = pipeline::kMaxShortlistImages / 100;
  c.shortlist_largest = 0;
  check_pipeline_config(c);
  c.shortlist_largest = pipeline::kMaxShortlist - c.search.top_k;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("would train"), Error);
  CHECK(pipeline::config_to_json(c).at("shortlist_largest_by") == "macs");
  // A list of size keys shortlists shortlist_largest per key: the count and the cost count each.
  pipeline::PipelineConfig both;
  both.out = "runs/x";
  pipeline::apply_text(both, "shortlist_largest_by", "params,macs");
  check_pipeline_config(both);
  CHECK(pipeline::config_to_json(both).at("shortlist_largest_by") == "params,macs");
  both.shortlist_largest = (pipeline::kMaxShortlist - both.search.top_k) / 2 + 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(both),
                       doctest::Contains("'shortlist_largest' 496 per size key of 'shortlist_largest_by'"), Error);
  both.shortlist_largest = (pipeline::kMaxShortlist - both.search.top_k) / 2;
  check_pipeline_config(both);
  // A first budget at which 15 candidates fit: 9 + 6 by params fit, 9 + 6 by params + 6 by MACs not.
  both.halving_images = pipeline::kMaxShortlistImages / search::halving_cost(15, 1, both.halving_eta, false);
  both.shortlist_largest_by = "params";
  both.shortlist_largest = 6;
  check_pipeline_config(both);
  both.shortlist_largest_by = "params,macs";
  CHECK_THROWS_WITH_AS(check_pipeline_config(both), doctest::Contains("would train"), Error);
  both.shortlist_largest = 3;
  check_pipeline_config(both);  // 9 + 3 + 3
  for (const char* bad : {"params,params", "params,", "params,flops"}) {
    both.shortlist_largest_by = bad;
    CHECK_THROWS_WITH_AS(check_pipeline_config(both),
                         doctest::Contains(("config key 'shortlist_largest_by': size keys '" + std::string(bad) + "'").c_str()),
                         Error);
  }
}

TEST_CASE("pipeline config: shortlist_largest_from is checked and stored; search_seed seeds the search only") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  // The default: the 3 largest of the uniform draws made before the search steers.
  CHECK(c.shortlist_largest == 3);
  CHECK(c.shortlist_largest_from == "initial");
  check_pipeline_config(c);
  pipeline::apply_text(c, "shortlist_largest_from", "first");
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_largest_from'"), Error);
  pipeline::apply_text(c, "shortlist_largest_from", "all");
  check_pipeline_config(c);
  CHECK(pipeline::config_to_json(c).at("shortlist_largest_from") == "all");
  pipeline::apply_text(c, "shortlist_largest_from", "initial");
  for (const char* strategy : {"random", "rea", "rl", "freerea"}) {  // every strategy has initial draws
    pipeline::apply_text(c, "strategy", strategy);
    check_pipeline_config(c);
  }
  CHECK(pipeline::config_to_json(c).at("shortlist_largest_from") == "initial");

  CHECK(c.search_seed == 0);
  pipeline::apply_text(c, "seed", "5");
  CHECK(pipeline::search_settings(c, "").seed == 5);  // 0: the run's seed
  pipeline::apply_text(c, "search_seed", "105");
  CHECK(pipeline::search_settings(c, "").seed == 105);
  CHECK(pipeline::train_settings(c, "", "").seed == 5);
  CHECK(pipeline::shortlist_train_settings(c, "", 1, 100, "").seed == 5);
  CHECK(pipeline::config_to_json(c).at("search_seed") == 105);
  CHECK_THROWS_AS(pipeline::apply_text(c, "search_seed", "-1"), Error);
}

TEST_CASE("pipeline config: shortlist_per_family is range-checked and stored") {
  pipeline::PipelineConfig c;
  c.out = "runs/x";
  CHECK(c.shortlist_per_family == 0);  // the default: the search's own top_k
  c.shortlist_per_family = -1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_per_family' must be in 0..1000"), Error);
  c.shortlist_per_family = pipeline::kMaxShortlist + 1;
  CHECK_THROWS_WITH_AS(check_pipeline_config(c), doctest::Contains("'shortlist_per_family'"), Error);
  pipeline::apply_text(c, "shortlist_per_family", "2");
  CHECK(c.shortlist_per_family == 2);
  check_pipeline_config(c);
  CHECK(pipeline::config_to_json(c).at("shortlist_per_family") == 2);
  CHECK_THROWS_WITH_AS(pipeline::apply_text(c, "shortlist_per_family", "one"),
                       doctest::Contains("shortlist_per_family"), Error);
}

TEST_CASE("pipeline config: an unknown metric is refused once, naming the key and the metric") {
  pipeline::PipelineConfig c;
  CHECK_THROWS_WITH_AS(pipeline::apply_text(c, "metrics", "naswot,synflw"),
                       doctest::Contains("config key 'metrics': metric list 'naswot,synflw': "
                                         "unknown metric 'synflw'"),
                       Error);
  CHECK_THROWS_WITH_AS(pipeline::apply_json(c, {{"metrics", "naswot,synflw"}}, "f.json"),
                       doctest::Contains("f.json: config key 'metrics': metric list 'naswot,synflw'"), Error);
  CHECK(c == pipeline::PipelineConfig{});  // a refused value changes nothing
  pipeline::apply_text(c, "metrics", "naswot,logsynflow:0.5,flash");
  CHECK_NOTHROW(pipeline::check_pipeline_config(c));
}

TEST_CASE("one range check per settings struct; its errors name the caller's flag or key and the value") {
  // nas/search: the library's names, `piconas search`'s flags, the run configuration's keys.
  search::SearchSettings s;
  s.population = 0;
  CHECK_THROWS_WITH_AS(search::check_search_settings(s),
                       doctest::Contains("search: population must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(search::check_search_settings(s, flag_names()),
                       doctest::Contains("--population must be >= 1, got 0"), Error);
  s.population = 4;
  s.constraints.max_peak_sram = -1;
  CHECK_THROWS_WITH_AS(search::check_search_settings(s, flag_names({{"max_peak_sram", "--max-sram"}})),
                       doctest::Contains("--max-sram must be >= 0 (0: no limit), got -1"), Error);
  pipeline::PipelineConfig good;
  good.out = "runs/x";
  pipeline::check_pipeline_config(good);
  const std::pair<std::function<void(pipeline::PipelineConfig&)>, const char*> cases[] = {
      {[](pipeline::PipelineConfig& c) { c.search.population = 0; }, "config key 'population' must be >= 1, got 0"},
      {[](pipeline::PipelineConfig& c) { c.search.sample_size = -2; }, "config key 'sample_size' must be >= 1, got -2"},
      {[](pipeline::PipelineConfig& c) { c.search.constraints.max_peak_sram = -1; },
       "config key 'budget_sram' must be >= 0 (0: no limit), got -1"},
      {[](pipeline::PipelineConfig& c) { c.search.constraints.max_scoring_memory = -5; },
       "config key 'max_memory' must be >= 0 (0: no limit), got -5"},
      {[](pipeline::PipelineConfig& c) { c.search.constraints.scoring_images = 0; },
       "config key 'scoring_images' must be in [1, 1048576], got 0"},
      {[](pipeline::PipelineConfig& c) { c.search.steps = 0; }, "config key 'search_steps' must be positive, got 0"},
      // nas/train's check, once for the shortlist's trainings and once for the winner's.
      {[](pipeline::PipelineConfig& c) { c.train.batch_size = 0; }, "config key 'batch' must be in [1, 65536], got 0"},
      {[](pipeline::PipelineConfig& c) { c.train.lr = 1e9; }, "config key 'lr' must be in (0, 100], got 1e+09"},
      {[](pipeline::PipelineConfig& c) { c.train.epochs = 0; }, "config key 'epochs' must be in [1, 1000000], got 0"},
      {[](pipeline::PipelineConfig& c) { c.shortlist_epochs = 0; },
       "config key 'shortlist_epochs' must be in [1, 1000000], got 0"},
      {[](pipeline::PipelineConfig& c) { c.train.limit = -1; }, "config key 'train_limit' must be >= 0 (0: all), got -1"},
      {[](pipeline::PipelineConfig& c) { c.shortlist_limit = -3; },
       "config key 'shortlist_limit' must be >= 0 (0: all), got -3"},
      {[](pipeline::PipelineConfig& c) { c.shared.threads = 0; }, "config key 'threads' must be in [1, 1024], got 0"},
      // nas/deploy's export check.
      {[](pipeline::PipelineConfig& c) { c.export_.calibration_images = 0; }, "config key 'calib_images' must be >= 1"},
      {[](pipeline::PipelineConfig& c) { c.export_.eval_images = -1; }, "config key 'eval_images' must be >= 0, got -1"},
      {[](pipeline::PipelineConfig& c) { c.export_.memory.patch.layers = -1; },
       "config key 'patch_layers' must be >= 0 (0: off), got -1"},
      // nas/deploy's verification check.
      {[](pipeline::PipelineConfig& c) { c.verify.images = 0; }, "config key 'verify_images' must be >= 1 (test images), got 0"},
      {[](pipeline::PipelineConfig& c) { c.verify.mcu_images = -1; }, "config key 'mcu_images' must be >= 0 (0: skip), got -1"},
  };
  for (const auto& [edit, message] : cases) {
    CAPTURE(message);
    pipeline::PipelineConfig c = good;
    edit(c);
    CHECK_THROWS_WITH_AS(pipeline::check_pipeline_config(c), doctest::Contains(message), Error);
  }
  // `piconas train`'s flags and the library's own words, from the same check.
  train::TrainSettings t;
  t.out_dir = "t";
  t.batch_size = 0;
  CHECK_THROWS_WITH_AS(train::check_train_settings(t, flag_names({{"batch_size", "--batch"}})),
                       doctest::Contains("--batch must be in [1, 65536], got 0"), Error);
  CHECK_THROWS_WITH_AS(train::check_train_settings(t), doctest::Contains("train: batch size must be in"), Error);
}
