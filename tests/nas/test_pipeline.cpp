// nas/pipeline end to end on a tiny synthetic data set (8x8 images): every artifact of
// `piconas run`, and a run stopped after stages then resumed ending with the same numbers.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "nas/deploy/verify.h"
#include "nas/pipeline/pipeline.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;
namespace fs = std::filesystem;

namespace {

PipelineConfig tiny_config(const testing::TempDir& root, const std::string& run, int64_t mcu_images) {
  const TrainConfig data = testing::small_config(root, "unused");  // writes the synthetic IDX files
  PipelineConfig c;
  c.data = "mnist";
  c.data_path = data.data.path;
  c.budget_sram = {16 * 1024};
  c.budget_flash = {32 * 1024};
  c.max_macs = 400000;
  c.activation = "relu";
  c.stem = "4k3s1";
  c.min_blocks = 1;
  c.max_blocks = 2;
  c.scoring_images = 16;
  c.search_steps = 2;
  c.population = 4;
  c.sample_size = 2;
  c.top_k = 2;
  c.shortlist_epochs = 1;
  c.shortlist_limit = 0;
  c.epochs = 2;
  c.batch = 16;
  c.lr = 0.05;
  c.calib_images = 16;
  c.eval_images = 30;
  c.verify_images = 8;
  c.mcu_images = mcu_images;
  c.threads = 1;
  c.out = (root.path() / run).string();
  return c;
}

nlohmann::json stage_json(const PipelineConfig& c, Stage s) {
  return nlohmann::json::parse(read_file(stage_result_path(c.out, s)));
}

// The report without its wall-time section (the only numbers that differ between runs) and
// with the run directory name replaced.
std::string report_numbers(const PipelineConfig& c) {
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
  const PipelineConfig a = tiny_config(root, "a", 2);
  std::vector<std::string> lines;
  RunControl control;
  control.on_progress = [&](Stage, const std::string& line, bool) { lines.push_back(line); };
  const PipelineResult ra = run_pipeline(a, control);
  REQUIRE(ra.finished);
  REQUIRE(ra.stages.size() == kStageCount);
  for (const StageOutcome& s : ra.stages) CHECK_FALSE(s.already_done);
  for (const char* file : {"config.json", "search/history.csv", "search/pareto.svg", "shortlist/1/best.ckpt",
                           "shortlist/2/best.ckpt", "train/best.ckpt", "train/metrics.csv", "export/model.c",
                           "export/model.h", "verify/host/prog", "report.md", "report.html", "training_curves.svg",
                           "layer_sram.svg", "layer_flash.svg"})
    CHECK_MESSAGE(fs::exists(fs::path(a.out) / file), file);
  // Progress names the stage.
  bool saw_train = false;
  for (const std::string& l : lines) saw_train |= l.rfind("[3/6 train]", 0) == 0;
  CHECK(saw_train);

  const auto search = stage_json(a, Stage::Search);
  REQUIRE(search["candidates"].size() == 2);
  for (const auto& e : search["candidates"]) {
    CHECK(e["peak_sram"].get<int64_t>() <= 16 * 1024);
    CHECK(e["flash"].get<int64_t>() <= 32 * 1024);
    CHECK(e["macs"].get<int64_t>() <= 400000);
  }
  CHECK(search["command"].get<std::string>().find("piconas search --dataset mnist") == 0);
  const auto train = stage_json(a, Stage::Train);
  CHECK(train["history"].size() == 2);
  CHECK(train["eval_command"].get<std::string>() == "piconas eval " + shell_word(a.out + "/train/best.ckpt"));
  const auto exported = stage_json(a, Stage::Export);
  CHECK(exported["peak_sram"].get<int64_t>() <= 16 * 1024);
  CHECK(exported["eval_images"].get<int64_t>() == 30);
  int64_t layer_flash = 0;
  for (const auto& l : exported["layers"]) layer_flash += l["flash"].get<int64_t>();
  CHECK(layer_flash + 256 == exported["flash_bytes"].get<int64_t>());  // + the input table
  const auto verify = stage_json(a, Stage::Verify);
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

  // A rerun of a finished run does nothing.
  const PipelineResult again = run_pipeline(a);
  for (const StageOutcome& s : again.stages) CHECK(s.already_done);

  // Run b: "killed" after the search, then after the training, then continued to the end.
  const PipelineConfig b = tiny_config(root, "b", 2);
  RunControl stop;
  stop.stop_after = Stage::Search;
  PipelineResult rb = run_pipeline(b, stop);
  CHECK_FALSE(rb.finished);
  CHECK(rb.stages.size() == 1);
  stop.stop_after = Stage::Train;
  rb = run_pipeline(b, stop);
  REQUIRE(rb.stages.size() == 3);
  CHECK(rb.stages[0].already_done);
  CHECK_FALSE(rb.stages[1].already_done);
  CHECK_FALSE(fs::exists(stage_result_path(b.out, Stage::Export)));
  rb = run_pipeline(b);
  REQUIRE(rb.finished);
  for (int i = 0; i < 3; ++i) CHECK(rb.stages[static_cast<size_t>(i)].already_done);
  for (int i = 3; i < kStageCount; ++i) CHECK_FALSE(rb.stages[static_cast<size_t>(i)].already_done);
  CHECK(read_file(b.out + "/search/history.csv") == read_file(a.out + "/search/history.csv"));
  CHECK(stage_json(b, Stage::Train)["test_accuracy"] == train["test_accuracy"]);
  CHECK(stage_json(b, Stage::Export)["int8_accuracy"] == exported["int8_accuracy"]);
  CHECK(report_numbers(b) == report_numbers(a));
}
