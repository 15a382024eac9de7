// nas/pipeline end to end on a tiny synthetic data set (8x8 images): every artifact of
// `piconas run`, and a run stopped after stages then resumed ending with the same numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/verify.h"
#include "nas/pipeline/pipeline.h"
#include "nas/pipeline/stages.h"
#include "nas/search/family_top.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;
namespace fs = std::filesystem;

namespace {

pipeline::PipelineConfig tiny_config(const testing::TempDir& root, const std::string& run,
                                     int64_t mcu_images) {
  const train::TrainSettings data =
      testing::small_config(root, "unused");  // writes the synthetic IDX files
  pipeline::PipelineConfig c;
  c.shared.data = data::DatasetKind::Mnist;
  c.shared.data_path = data.data.path;
  c.search.constraints.max_peak_sram = 16 * 1024;
  c.search.constraints.max_flash = 32 * 1024;
  c.search.constraints.max_macs = 400000;
  c.activation = "relu";
  c.stem = "4k3s1";
  c.min_blocks = 1;
  c.max_blocks = 2;
  c.search.constraints.scoring_images = 16;
  c.search.steps = 2;
  c.search.population = 4;
  c.search.sample_size = 2;
  c.search.top_k = 2;
  c.shortlist_largest = 0;  // the aggregate's top_k only; the size-aware shortlist: its tests below
  c.halving_eta = 0;  // the one-rung shortlist; successive halving: the test below
  c.halving_val_images = 0;  // per-rung hold-out; the fixed validation set: its tests below
  c.shortlist_epochs = 1;
  c.shortlist_limit = 0;
  c.train.epochs = 2;
  c.train.batch_size = 16;
  c.train.lr = 0.05;
  c.export_.calibration_images = 16;
  c.export_.eval_images = 30;
  c.verify.images = 8;
  c.verify.mcu_images = mcu_images;
  c.shared.threads = 1;
  c.out = (root.path() / run).string();
  return c;
}

nlohmann::json stage_json(const pipeline::PipelineConfig& c, pipeline::Stage s) {
  return nlohmann::json::parse(read_file(pipeline::stage_result_path(c.out, s)));
}

// The report without its wall-time section (the only numbers that differ between runs) and
// with the run directory name replaced.
std::string report_numbers(const pipeline::PipelineConfig& c) {
  std::string md = read_file(c.out + "/report.md");
  md = md.substr(0, md.find("## Wall time"));
  for (size_t at; (at = md.find(c.out)) != std::string::npos;) md.replace(at, c.out.size(), "RUN");
  return md;
}

}  // namespace

TEST_CASE("piconas run end to end on a tiny data set, then a stopped and resumed run ends identically") {
  testing::TempDir root;
  const bool mcu = !deploy::find_program("arm-none-eabi-gcc").empty() &&
                   !deploy::find_program("qemu-system-arm").empty() &&
                   !deploy::find_program("arm-none-eabi-size").empty();
  const pipeline::PipelineConfig a = tiny_config(root, "a", 2);
  std::vector<std::string> lines;
  pipeline::RunControl control;
  control.on_progress = [&](pipeline::Stage, const std::string& line, bool) {
    lines.push_back(line);
  };
  const pipeline::PipelineResult ra = run_pipeline(a, control);
  REQUIRE(ra.finished);
  REQUIRE(ra.stages.size() == pipeline::kStageCount);
  for (const pipeline::StageOutcome& s : ra.stages) CHECK_FALSE(s.already_done);
  for (const char* file : {"config.json", "search/history.csv", "search/pareto.svg", "shortlist/1/best.ckpt",
                           "shortlist/2/best.ckpt", "train/best.ckpt", "train/metrics.csv", "export/model.c",
                           "export/model.h", "verify/host/prog", "report.md", "report.html", "training_curves.svg",
                           "layer_sram.svg", "layer_flash.svg"})
    CHECK_MESSAGE(fs::exists(fs::path(a.out) / file), file);
  // Progress names the stage.
  bool saw_train = false;
  for (const std::string& l : lines) saw_train |= l.rfind("[3/6 train]", 0) == 0;
  CHECK(saw_train);

  const auto search = stage_json(a, pipeline::Stage::Search);
  REQUIRE(search["candidates"].size() == 2);
  for (const auto& e : search["candidates"]) {
    CHECK(e["peak_sram"].get<int64_t>() <= 16 * 1024);
    CHECK(e["flash"].get<int64_t>() <= 32 * 1024);
    CHECK(e["macs"].get<int64_t>() <= 400000);
  }
  CHECK(search["command"].get<std::string>().find("piconas search --dataset mnist") == 0);
  const auto train = stage_json(a, pipeline::Stage::Train);
  CHECK(train["history"].size() == 2);
  CHECK(train["eval_command"].get<std::string>() ==
        "piconas eval " + pipeline::shell_word(a.out + "/train/best.ckpt"));
  const auto exported = stage_json(a, pipeline::Stage::Export);
  CHECK(exported["peak_sram"].get<int64_t>() <= 16 * 1024);
  CHECK(exported["eval_images"].get<int64_t>() == 30);
  int64_t layer_flash = 0;
  for (const auto& l : exported["layers"]) layer_flash += l["flash"].get<int64_t>();
  CHECK(layer_flash + 256 == exported["flash_bytes"].get<int64_t>());  // + the input table
  const auto verify = stage_json(a, pipeline::Stage::Verify);
  CHECK(verify["host"]["ran"].get<bool>());
  CHECK(verify["host"]["identical"].get<bool>());
  CHECK(verify["host"]["matching"].get<int64_t>() == 8);
  CHECK(verify["mcu"]["ran"].get<bool>() == mcu);
  if (mcu) CHECK(verify["mcu"]["matching"].get<int64_t>() == 2);
  else CHECK(verify["mcu"]["skipped"].get<std::string>().find("not found") != std::string::npos);
  CHECK(verify["command"].get<std::string>().find(" --target cortex-m4 ") != std::string::npos);
  if (mcu) CHECK(verify["layer_instructions"].size() == exported["layers"].size());

  const std::string md = read_file(a.out + "/report.md");
  const std::string html = read_file(a.out + "/report.html");
  CHECK(md.find("piconas eval ") != std::string::npos);
  CHECK(md.find("piconas export ") != std::string::npos);
  CHECK(md.find("piconas info ") != std::string::npos);
  CHECK(md.find("piconas verify ") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("Live SRAM per layer") != std::string::npos);
  CHECK(html.find("Winner: accuracy per epoch") != std::string::npos);
  CHECK((md.find("Instructions per layer on cortex-m4") != std::string::npos) == mcu);

  // The calibration keys reach the export and the verification (which re-exports and must
  // find the same model.c): run a's winner exported as `piconas export --calibration minmax`.
  pipeline::PipelineConfig minmax = tiny_config(root, "minmax", 0);
  pipeline::apply_text(minmax, "calibration", "minmax");
  fs::create_directories(minmax.out);
  const Communicator single;
  pipeline::StageContext ctx{minmax, single, {{pipeline::Stage::Train, train}}, [](const std::string&, bool) {}};
  const nlohmann::json minmax_export = run_export_stage(ctx);
  ctx.results[pipeline::Stage::Export] = minmax_export;
  const nlohmann::json minmax_verify = run_verify_stage(ctx);
  CHECK(minmax_verify["host"]["identical"].get<bool>());
  for (const auto& stage : {minmax_export, minmax_verify})
    CHECK(stage["command"].get<std::string>().find(" --calib 16 --calibration minmax ") != std::string::npos);
  CHECK(exported["command"].get<std::string>().find("--calibration") == std::string::npos);  // mae: the default
  deploy::ExportOptions by_flags = pipeline::export_options(a, minmax.out + "/by_flags");
  by_flags.calibration.method = deploy::CalibrationMethod::MinMax;
  deploy::export_checkpoint(train["best_checkpoint"].get<std::string>(), by_flags);
  CHECK(read_file(minmax.out + "/export/model.c") == read_file(by_flags.out_dir + "/model.c"));
  CHECK(read_file(minmax.out + "/export/model.c") != read_file(a.out + "/export/model.c"));

  // A rerun of a finished run does nothing.
  const pipeline::PipelineResult again = run_pipeline(a);
  for (const pipeline::StageOutcome& s : again.stages) CHECK(s.already_done);

  // Run b: "killed" after the search, then after the training, then continued to the end.
  const pipeline::PipelineConfig b = tiny_config(root, "b", 2);
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Search;
  pipeline::PipelineResult rb = run_pipeline(b, stop);
  CHECK_FALSE(rb.finished);
  CHECK(rb.stages.size() == 1);
  stop.stop_after = pipeline::Stage::Train;
  rb = pipeline::run_pipeline(b, stop);
  REQUIRE(rb.stages.size() == 3);
  CHECK(rb.stages[0].already_done);
  CHECK_FALSE(rb.stages[1].already_done);
  CHECK_FALSE(fs::exists(pipeline::stage_result_path(b.out, pipeline::Stage::Export)));
  rb = run_pipeline(b);
  REQUIRE(rb.finished);
  for (int i = 0; i < 3; ++i) CHECK(rb.stages[static_cast<size_t>(i)].already_done);
  for (int i = 3; i < pipeline::kStageCount; ++i)
    CHECK_FALSE(rb.stages[static_cast<size_t>(i)].already_done);
  CHECK(read_file(b.out + "/search/history.csv") == read_file(a.out + "/search/history.csv"));
  CHECK(stage_json(b, pipeline::Stage::Train)["test_accuracy"] == train["test_accuracy"]);
  CHECK(stage_json(b, pipeline::Stage::Export)["int8_accuracy"] == exported["int8_accuracy"]);
  CHECK(report_numbers(b) == report_numbers(a));
}

TEST_CASE("piconas run with successive halving: rungs in the report and the CSV, resumed identically") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.search.steps = 8;
  a.search.top_k = 4;
  a.halving_eta = 2;
  a.halving_images = 16;
  a.halving_val_fraction = 0.5;
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Shortlist;
  std::vector<std::string> lines;
  stop.on_progress = [&](pipeline::Stage, const std::string& line, bool transient) {
    if (!transient) lines.push_back(line);
  };
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 2);
  const auto search = stage_json(a, pipeline::Stage::Search);
  const auto n = static_cast<int64_t>(search["candidates"].size());
  REQUIRE(n == 4);
  const auto shortlist = stage_json(a, pipeline::Stage::Shortlist);
  // 4 candidates at 16 images, the best 2 at 32; the last one is the winner, not trained here.
  const auto& trainings = shortlist["trainings"];
  REQUIRE(trainings.size() == 6);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(trainings[i]["rung"] == 1);
    CHECK(trainings[i]["rank"] == static_cast<int64_t>(i + 1));
    CHECK(trainings[i]["images"] == 16);
    // 16 x 0.9 training images and as many held out (halving_val_fraction 0.5): 28.8 -> 29.
    const std::string command = trainings[i]["command"].get<std::string>();
    CHECK(command.find(" --limit 29 ") != std::string::npos);
    CHECK(command.find(" --val-fraction 0.5 ") != std::string::npos);
  }
  std::vector<std::pair<double, int64_t>> first;  // the 2 best of rung 1 (ties: better rank) go on
  for (size_t i = 0; i < 4; ++i) first.emplace_back(-trainings[i]["val_accuracy"].get<double>(), i + 1);
  std::sort(first.begin(), first.end());
  std::vector<int64_t> kept{first[0].second, first[1].second};
  std::sort(kept.begin(), kept.end());
  for (size_t i = 0; i < 2; ++i) {
    CHECK(trainings[4 + i]["rung"] == 2);
    CHECK(trainings[4 + i]["images"] == 32);
    CHECK(trainings[4 + i]["rank"] == kept[i]);
  }
  const double a4 = trainings[4]["val_accuracy"].get<double>(), a5 = trainings[5]["val_accuracy"].get<double>();
  CHECK(shortlist["winner"].get<int64_t>() + 1 == (a5 > a4 ? kept[1] : kept[0]));
  CHECK(shortlist["halving"]["total_images"] == 4 * 16 + 2 * 32);
  const std::string csv = read_file(a.out + "/shortlist/halving.csv");
  CHECK(csv.rfind("rung,rank,images,val_accuracy,arch\n1,1,16,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 7);
  bool saw_eta = false;
  for (const std::string& l : lines) saw_eta |= l.find("[2/6 shortlist] halving: rung 2/2") == 0 && l.find("ETA") != std::string::npos;
  CHECK(saw_eta);

  // "Killed" in rung 2: one rung-2 training lost entirely, the stage result not yet written.
  const std::string halving_json = read_file(a.out + "/shortlist/halving.json");
  fs::remove(pipeline::stage_result_path(a.out, pipeline::Stage::Shortlist));
  fs::remove_all(a.out + "/shortlist/rung2/" + std::to_string(kept[1]));
  fs::remove(a.out + "/shortlist/halving.csv");
  const pipeline::PipelineResult resumed = run_pipeline(a, stop);
  REQUIRE(resumed.stages.size() == 2);
  CHECK(resumed.stages[0].already_done);
  CHECK_FALSE(resumed.stages[1].already_done);
  CHECK(read_file(a.out + "/shortlist/halving.csv") == csv);
  CHECK(read_file(a.out + "/shortlist/halving.json") == halving_json);
  // Equal but for wall times.
  const auto without_times = [](nlohmann::json j) {
    j.erase("wall_seconds");
    for (auto& t : j["trainings"])
      for (auto& e : t["history"]) e.erase("seconds"), e.erase("images_per_second");
    return j;
  };
  CHECK(without_times(stage_json(a, pipeline::Stage::Shortlist)) == without_times(shortlist));

  // The report's rung table.
  REQUIRE(pipeline::run_pipeline(a).finished);
  const std::string md = read_file(a.out + "/report.md");
  CHECK(md.find("Successive halving over the top 4") != std::string::npos);
  CHECK(md.find("| rung | rank | images | val accuracy | command |") != std::string::npos);
  CHECK(md.find("| 2 | " + std::to_string(kept[1]) + " | 32 | ") != std::string::npos);
}

TEST_CASE("piconas run with halving_val_images: every rung ranks on one fixed validation set") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.search.steps = 8;
  a.search.top_k = 4;
  a.halving_eta = 2;
  a.halving_images = 16;
  a.halving_val_images = 16;  // within a fifth of the 96 training images
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Shortlist;
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 2);
  const auto shortlist = stage_json(a, pipeline::Stage::Shortlist);
  const auto& trainings = shortlist["trainings"];
  REQUIRE(trainings.size() == 6);  // 4 at 16 images, 2 at 32
  std::set<std::string> val_sets;
  for (const auto& t : trainings) {
    const auto images = t["images"].get<int64_t>();
    const std::string command = t["command"].get<std::string>();
    CHECK(command.find(" --limit " + std::to_string(images) + " ") != std::string::npos);
    CHECK(command.find(" --val-fraction 0 ") != std::string::npos);
    CHECK(command.find(" --val-images 16 ") != std::string::npos);
    const auto summary = nlohmann::json::parse(read_file(t["dir"].get<std::string>() + "/summary.json"));
    CHECK(summary["train_images"] == images);  // the rung trains on all its images
    CHECK(summary["val_images"] == 16);
    val_sets.insert(summary["val_set_fnv1a"].get<std::string>());
  }
  CHECK(val_sets.size() == 1);  // one set for both rungs and every candidate
  CHECK(shortlist["halving"]["val_images"] == 16);
  CHECK(read_file(a.out + "/shortlist/halving.json").find("\"val_images\": 16") != std::string::npos);

  // Resumed after losing a rung-2 training: the same rungs.
  const std::string csv = read_file(a.out + "/shortlist/halving.csv");
  fs::remove(pipeline::stage_result_path(a.out, pipeline::Stage::Shortlist));
  fs::remove_all(trainings[5]["dir"].get<std::string>());
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 2);
  CHECK(read_file(a.out + "/shortlist/halving.csv") == csv);

  // halving_val_images 0 ranks each rung on a part of its own subset.
  pipeline::PipelineConfig b = tiny_config(root, "b", 0);
  b.search.steps = 8;
  b.search.top_k = 4;
  b.halving_eta = 2;
  b.halving_images = 16;
  REQUIRE(pipeline::run_pipeline(b, stop).stages.size() == 2);
  std::set<std::string> held_out;
  const auto b_shortlist = stage_json(b, pipeline::Stage::Shortlist);
  REQUIRE(b_shortlist["trainings"].size() == 6);
  for (const auto& t : b_shortlist["trainings"])
    held_out.insert(nlohmann::json::parse(read_file(t["dir"].get<std::string>() + "/summary.json"))["val_set_fnv1a"]);
  CHECK(held_out.size() == 2);
}

TEST_CASE("piconas run with the default halving_val_images on a small train split: a fifth of it for the set") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.halving_val_images = pipeline::PipelineConfig{}.halving_val_images;  // 5,000
  a.search.steps = 8;
  a.search.top_k = 4;
  a.halving_eta = 2;
  a.halving_images = 48;  // rung 2 asks for 96 images, more than the 96 - 19 beside the set
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Shortlist;
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 2);
  CHECK(stage_json(a, pipeline::Stage::Search)["train_split_images"] == 96);  // the synthetic train split
  const auto shortlist = stage_json(a, pipeline::Stage::Shortlist);
  CHECK(shortlist["halving"]["val_images"] == 19);  // 96 / 5
  REQUIRE(shortlist["trainings"].size() == 6);
  std::set<std::string> val_sets;
  for (const auto& t : shortlist["trainings"]) {
    const auto summary = nlohmann::json::parse(read_file(t["dir"].get<std::string>() + "/summary.json"));
    CHECK(summary["val_images"] == 19);
    CHECK(summary["train_images"] == std::min<int64_t>(t["images"].get<int64_t>(), 77));
    val_sets.insert(summary["val_set_fnv1a"].get<std::string>());
  }
  CHECK(val_sets.size() == 1);
  CHECK(pipeline::halving_validation_images(a, 60000) == 5000);  // Fashion-MNIST: the whole 5,000
  a.halving_val_images = 0;
  CHECK(pipeline::halving_validation_images(a, 60000) == 0);
}

TEST_CASE("piconas run with shortlist_largest: the top_k, then the largest feasible draws outside it") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.search.steps = 8;
  a.search.top_k = 2;
  a.shortlist_largest = 2;
  a.shortlist_largest_from = "all";  // every draw of the search; initial: the test below
  pipeline::apply_text(a, "in_place", "off");  // the search plans memory with the export's options
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Search;
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 1);
  CHECK(stage_json(a, pipeline::Stage::Search)["command"].get<std::string>().find(" --no-in-place --output ") !=
        std::string::npos);
  const auto candidates = stage_json(a, pipeline::Stage::Search)["candidates"];
  REQUIRE(candidates.size() == 4);
  // Expected from history.csv: step,generation,feasible,"text",params,... (texts have commas).
  std::vector<std::pair<int64_t, std::string>> eligible;  // (-params, text), first draw only
  std::istringstream csv(read_file(a.out + "/search/history.csv"));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    const size_t open = line.find('"'), close = line.find('"', open + 1);
    const bool feasible = line[open - 2] == '1';
    const std::string text = line.substr(open + 1, close - open - 1);
    const int64_t params = std::stoll(line.substr(close + 2));
    const bool in_top = text == candidates[0]["text"] || text == candidates[1]["text"];
    const bool seen = std::any_of(eligible.begin(), eligible.end(), [&](const auto& e) { return e.second == text; });
    if (feasible && !in_top && !seen) eligible.emplace_back(-params, text);
  }
  std::stable_sort(eligible.begin(), eligible.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  REQUIRE(eligible.size() >= 2);
  for (size_t i = 0; i < 4; ++i) CHECK(candidates[i]["rank"] == static_cast<int64_t>(i + 1));
  CHECK(candidates[0]["chosen_by"] == "aggregate");
  CHECK(candidates[1]["chosen_by"] == "aggregate");
  CHECK(candidates[0]["aggregate"].get<double>() >= candidates[1]["aggregate"].get<double>());
  for (size_t i = 0; i < 2; ++i) {
    CHECK(candidates[2 + i]["chosen_by"] == "largest params");
    CHECK(candidates[2 + i]["text"] == eligible[i].second);
    CHECK(candidates[2 + i]["params"] == -eligible[i].first);
  }
  // shortlist_largest_by params,macs: the same 4, then the 2 feasible draws with the most MACs
  // outside them (first draw of a text only; ties to the earlier draw).
  pipeline::PipelineConfig b = tiny_config(root, "b", 0);
  b.search = a.search;
  b.shortlist_largest = 2;
  b.shortlist_largest_from = "all";
  pipeline::apply_text(b, "in_place", "off");
  pipeline::apply_text(b, "shortlist_largest_by", "params,macs");
  REQUIRE(pipeline::run_pipeline(b, stop).stages.size() == 1);
  CHECK(read_file(b.out + "/search/history.csv") == read_file(a.out + "/search/history.csv"));
  const auto both = stage_json(b, pipeline::Stage::Search)["candidates"];
  REQUIRE(both.size() == 6);
  std::vector<std::pair<int64_t, std::string>> by_macs;  // (-macs, text) outside the first 4
  std::istringstream csv_b(read_file(b.out + "/search/history.csv"));
  std::getline(csv_b, line);
  while (std::getline(csv_b, line)) {
    const size_t open = line.find('"'), close = line.find('"', open + 1);
    const std::string text = line.substr(open + 1, close - open - 1);
    const std::string sizes = line.substr(close + 2);
    const int64_t macs = std::stoll(sizes.substr(sizes.find(',') + 1));
    const bool shortlisted = std::any_of(both.begin(), both.begin() + 4, [&](const auto& e) { return e["text"] == text; });
    const bool seen = std::any_of(by_macs.begin(), by_macs.end(), [&](const auto& e) { return e.second == text; });
    if (line[open - 2] == '1' && !shortlisted && !seen) by_macs.emplace_back(-macs, text);
  }
  std::stable_sort(by_macs.begin(), by_macs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  REQUIRE(by_macs.size() >= 2);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(both[i]["text"] == candidates[i]["text"]);
    CHECK(both[i]["chosen_by"] == candidates[i]["chosen_by"]);
  }
  for (size_t i = 0; i < 2; ++i) {
    CHECK(both[4 + i]["chosen_by"] == "largest macs");
    CHECK(both[4 + i]["text"] == by_macs[i].second);
    CHECK(both[4 + i]["macs"] == -by_macs[i].first);
  }
}

TEST_CASE("piconas run with shortlist_largest_from initial: the largest of the initial population; search_seed") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.search.steps = 8;
  a.search.top_k = 1;
  a.shortlist_largest = 2;
  pipeline::apply_text(a, "shortlist_largest_from", "initial");
  pipeline::apply_text(a, "search_seed", "7");
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Search;
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 1);
  const auto candidates = stage_json(a, pipeline::Stage::Search)["candidates"];
  // Expected from history.csv: step,generation,feasible,"text",params,... (texts have commas).
  std::vector<std::pair<int64_t, std::string>> initial;  // (-params, text) of generation 0
  std::istringstream csv(read_file(a.out + "/search/history.csv"));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    const size_t open = line.find('"'), close = line.find('"', open + 1);
    const bool generation0 = line.substr(line.find(',') + 1, 2) == "0,";
    const std::string text = line.substr(open + 1, close - open - 1);
    const bool seen = std::any_of(initial.begin(), initial.end(), [&](const auto& e) { return e.second == text; });
    if (line[open - 2] == '1' && generation0 && text != candidates[0]["text"] && !seen)
      initial.emplace_back(-std::stoll(line.substr(close + 2)), text);
  }
  std::stable_sort(initial.begin(), initial.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  REQUIRE(candidates.size() == std::min<size_t>(3, 1 + initial.size()));
  REQUIRE(candidates.size() >= 2);
  for (size_t i = 1; i < candidates.size(); ++i) {
    CHECK(candidates[i]["chosen_by"] == "largest params");
    CHECK(candidates[i]["text"] == initial[i - 1].second);
  }
  // search_seed 7 runs the search of seed 7 (its draws and scoring batch): the history of a run
  // with seed 7 byte for byte, and the repro command says so.
  pipeline::PipelineConfig b = tiny_config(root, "b", 0);
  b.search.steps = 8;
  b.search.top_k = 1;
  b.shared.seed = 7;
  REQUIRE(pipeline::run_pipeline(b, stop).stages.size() == 1);
  CHECK(read_file(a.out + "/search/history.csv") == read_file(b.out + "/search/history.csv"));
  CHECK(stage_json(a, pipeline::Stage::Search)["command"].get<std::string>().find(" --seed 7 ") != std::string::npos);
  pipeline::PipelineConfig c = tiny_config(root, "c", 0);
  c.search.steps = 8;
  c.search.top_k = 1;
  REQUIRE(pipeline::run_pipeline(c, stop).stages.size() == 1);
  CHECK(read_file(a.out + "/search/history.csv") != read_file(c.out + "/search/history.csv"));
  // random: every draw is uniform, so initial ranks the same draws as all.
  std::vector<nlohmann::json> random_candidates;
  for (const char* from : {"initial", "all"}) {
    pipeline::PipelineConfig r = tiny_config(root, std::string("random_") + from, 0);
    r.search.steps = 8;
    r.search.top_k = 1;
    r.shortlist_largest = 2;
    pipeline::apply_text(r, "strategy", "random");
    pipeline::apply_text(r, "shortlist_largest_from", from);
    REQUIRE(pipeline::run_pipeline(r, stop).stages.size() == 1);
    random_candidates.push_back(stage_json(r, pipeline::Stage::Search)["candidates"]);
  }
  REQUIRE(random_candidates[0].size() >= 2);
  CHECK(random_candidates[0] == random_candidates[1]);
}

TEST_CASE("piconas run with shortlist_per_family 1: the best draw of each of the top families") {
  testing::TempDir root;
  pipeline::PipelineConfig a = tiny_config(root, "a", 0);
  a.search.steps = 12;
  a.search.top_k = 3;
  pipeline::apply_text(a, "shortlist_per_family", "1");
  pipeline::RunControl stop;
  stop.stop_after = pipeline::Stage::Search;
  REQUIRE(pipeline::run_pipeline(a, stop).stages.size() == 1);
  const auto candidates = stage_json(a, pipeline::Stage::Search)["candidates"];
  // From history.csv: step,generation,feasible,"text",params,macs,peak_sram,flash,aggregate,...
  std::map<std::string, double> family_best;  // family -> its best aggregate
  std::istringstream csv(read_file(a.out + "/search/history.csv"));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    const size_t open = line.find('"'), close = line.find('"', open + 1);
    if (line[open - 2] != '1') continue;  // refused
    const std::string family = search::family_key(parse_arch(line.substr(open + 1, close - open - 1)));
    size_t field = close + 1;
    for (int skip = 0; skip < 5; ++skip) field = line.find(',', field) + 1;  // params .. flash
    const double aggregate = std::stod(line.substr(field));
    if (!family_best.count(family) || aggregate > family_best[family]) family_best[family] = aggregate;
  }
  std::vector<double> best;
  for (const auto& [family, aggregate] : family_best) best.push_back(aggregate);
  std::sort(best.rbegin(), best.rend());
  REQUIRE(candidates.size() == std::min<size_t>(3, family_best.size()));
  REQUIRE(candidates.size() >= 2);
  std::set<std::string> families;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string family = search::family_key(parse_arch(candidates[i]["arch"].get<std::string>()));
    CHECK(families.insert(family).second);  // one per family
    CHECK(candidates[i]["chosen_by"] == "aggregate");
    CHECK(candidates[i]["aggregate"].get<double>() == best[i]);  // the i-th best family, its best draw
  }
  CHECK(read_file(a.out + "/config.json").find("\"shortlist_per_family\": 1") != std::string::npos);
}
