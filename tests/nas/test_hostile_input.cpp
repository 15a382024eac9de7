// Issue 13 (hostile input), nas part: training configuration ranges (no overflow, no hang, no
// "no limit" from a negative number), a diverging run stops with a clear error and never
// checkpoints non-finite weights, resumes and checkpoints with inconsistent or ill-typed
// fields are Errors, run configurations are validated fully before anything is stored, and
// architecture texts are bounded.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/pipeline/pipeline.h"
#include "nas/pipeline/pipeline_config.h"
#include "nas/search/search.h"
#include "nas/search/search_space.h"
#include "nas/train/evaluate.h"
#include "nas/train/model_io.h"
#include "search_test_util.h"
#include "train_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::testing;

TEST_CASE("train: out-of-range numbers are refused up front, before anything is written") {
  TempDir root;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    const char* what;
    void (*edit)(train::TrainSettings&);
  };
  static double s_inf = inf, s_nan = nan;
  const Case cases[] = {
      {"batch size",
       [](train::TrainSettings& c) { c.batch_size = std::numeric_limits<int64_t>::max(); }},
      {"epochs", [](train::TrainSettings& c) { c.epochs = std::numeric_limits<int64_t>::max(); }},
      {"warm-up", [](train::TrainSettings& c) { c.warmup_epochs = 1e308; }},
      {"learning rate", [](train::TrainSettings& c) { c.lr = s_inf; }},
      {"learning rate", [](train::TrainSettings& c) { c.lr = 1e30; }},
      {"learning rate", [](train::TrainSettings& c) { c.lr = s_nan; }},
      {"weight decay", [](train::TrainSettings& c) { c.weight_decay = s_inf; }},
      {"threads", [](train::TrainSettings& c) { c.threads = 1 << 30; }},
      {"output directory", [](train::TrainSettings& c) { c.out_dir += "/caf\xe9"; }},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    train::TrainSettings c = small_config(root, "bad");
    k.edit(c);
    CHECK_THROWS_WITH_AS(train::train_model(c), doctest::Contains(k.what), Error);
    CHECK_FALSE(std::filesystem::exists(root.path() / "bad"));
  }
}

TEST_CASE("train: a diverging run stops with a clear error; no checkpoint holds non-finite weights") {
  TempDir root;
  train::TrainSettings c = small_config(root, "diverge");
  c.lr = 100;
  c.weight_decay = 0.99;  // every step multiplies the weights by about -98
  c.epochs = 20;
  c.warmup_epochs = 0;
  CHECK_THROWS_WITH_AS(train::train_model(c), doctest::Contains("diverged"), Error);
  for (const char* file : {"last.ckpt", "best.ckpt"}) {
    const std::string path = c.out_dir + "/" + file;
    if (std::filesystem::exists(path)) CHECK_NOTHROW(train::load_model(path));
  }
}

TEST_CASE("train: resuming an inconsistent or ill-typed training state is an Error, not a crash") {
  TempDir root;
  train::TrainSettings c = small_config(root, "run");
  c.epochs = 1;
  c.evaluate_test = false;
  train::train_model(c);
  const std::string last = c.out_dir + "/last.ckpt";
  const Checkpoint good = load_checkpoint(last);
  c.resume = true;
  SUBCASE("all steps done but an empty history (once history.back() on an empty vector)") {
    Checkpoint bad = good;
    bad.meta["train_state"]["history"] = nlohmann::json::array();
    save_checkpoint(last, bad);
    CHECK_THROWS_WITH_AS(train_model(c), doctest::Contains("inconsistent"), Error);
  }
  SUBCASE("a string where a number belongs (once a raw JSON exception)") {
    Checkpoint bad = good;
    bad.meta["train_state"]["epoch_seen"] = "many";
    save_checkpoint(last, bad);
    CHECK_THROWS_WITH_AS(train_model(c), doctest::Contains("malformed training state"), Error);
  }
}

TEST_CASE("model checkpoints: wrapped version, bad class names, duplicate tensors, NaN weights") {
  TempDir root;
  train::TrainSettings c = small_config(root, "m");
  c.epochs = 1;
  c.evaluate_test = false;
  train::train_model(c);
  const Checkpoint good = load_checkpoint(c.out_dir + "/best.ckpt");
  CHECK_NOTHROW(train::load_model(good, "good"));
  Checkpoint bad = good;
  SUBCASE("version 2^32 + 1 (once read as 1)") {
    bad.meta["version"] = uint64_t{4294967297};
    CHECK_THROWS_WITH_AS(train::load_model(bad, "m.ckpt"), doctest::Contains("version 4294967297"),
                         Error);
  }
  SUBCASE("class names of the wrong length or type") {
    bad.meta["class_names"] = {"a", "b"};
    CHECK_THROWS_WITH_AS(train::load_model(bad, "m.ckpt"), doctest::Contains("class_names"), Error);
    bad.meta["class_names"] = 7;
    CHECK_THROWS_WITH_AS(train::load_model(bad, "m.ckpt"), doctest::Contains("class_names"), Error);
  }
  SUBCASE("an ill-typed epoch (eval printed it through a raw JSON exception)") {
    bad.meta["epoch"] = "three";
    CHECK_THROWS_WITH_AS(train::load_model(bad, "m.ckpt"), doctest::Contains("\"epoch\""), Error);
  }
  SUBCASE("a duplicate tensor name") {
    bad.tensors.push_back(bad.tensors.front());
    CHECK_THROWS_WITH_AS(decode_checkpoint(encode_checkpoint(bad), "m.ckpt"), doctest::Contains("appears twice"),
                         Error);
  }
  SUBCASE("a NaN weight (a diverged run: eval printed an accuracy, export a misleading error)") {
    bad.tensors.front().second = bad.tensors.front().second.clone();
    bad.tensors.front().second.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(train::load_model(bad, "m.ckpt"), doctest::Contains("finite"), Error);
  }
}

TEST_CASE("evaluate: a batch size near INT64_MAX evaluates every image (once 0 images, NaN accuracy)") {
  TempDir root;
  train::TrainSettings c = small_config(root, "e");
  c.epochs = 1;
  c.evaluate_test = false;
  train::train_model(c);
  const train::LoadedModel m = train::load_model(c.out_dir + "/best.ckpt");
  data::DatasetSpec spec = c.data;
  spec.split = data::Split::Test;
  const data::Dataset test = data::load_dataset(train::data_spec_for(spec, m.arch));
  const train::EvalResult r =
      train::evaluate(*m.module, test, m.normalization, {}, std::numeric_limits<int64_t>::max());
  CHECK(r.count == test.count);
  CHECK(std::isfinite(r.accuracy));
}

TEST_CASE("run config: integers that do not fit are refused, not wrapped") {
  pipeline::PipelineConfig c;
  CHECK_THROWS_WITH_AS(pipeline::apply_json(c, {{"population", uint64_t{4294967298}}}, "run.json"),
                       doctest::Contains("population"), Error);
  CHECK_THROWS_WITH_AS(pipeline::apply_json(c, {{"threads", uint64_t{4294967297}}}, "run.json"),
                       doctest::Contains("threads"), Error);
  CHECK_THROWS_AS(pipeline::apply_json(c, {{"seed", -1}}, "run.json"), Error);
  const pipeline::PipelineConfig defaults;  // named: GCC 12 warns maybe-uninitialized on a temporary here
  CHECK(c == defaults);
}

TEST_CASE("run config: every value a stage parses is validated before config.json is written") {
  test::SearchTempDir dir;
  const std::string out = dir.file("run");
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"min_blocks", 0}, {"data", "../etc"}, {"strategy", "best"}, {"metrics", "nope"},
           {"stem", "99999k3s1"}, {"head", -1}, {"lr", 1e30}, {"epochs", int64_t{1} << 40}}) {
    CAPTURE(key);
    const nlohmann::json file = {{key, value}};
    CHECK_THROWS_AS(pipeline::resolve_run_config(out, file, {}),
                    Error);  // run_pipeline writes config.json after it
    CHECK_FALSE(std::filesystem::exists(out));
  }
  pipeline::PipelineConfig c;
  pipeline::apply_text(c, "lr", "nan");
  CHECK_THROWS_AS(pipeline::check_pipeline_config(c), Error);
}

TEST_CASE("search: a negative budget is an Error, never \"no limit\"") {
  search::SpaceOptions o;
  auto space = search::make_search_space("blocks", o);
  search::SearchSettings s;
  s.steps = 2;
  s.population = 2;
  s.sample_size = 1;
  for (int64_t search::Constraints::*field :
       {&search::Constraints::max_peak_sram, &search::Constraints::max_flash,
        &search::Constraints::max_macs, &search::Constraints::max_params,
        &search::Constraints::max_scoring_memory}) {
    search::SearchSettings bad = s;
    bad.constraints.*field = -1;
    CHECK_THROWS_WITH_AS(run_search(*space, bad, test::synthetic_metrics), doctest::Contains("no limit"), Error);
  }
  search::SearchSettings bad = s;
  bad.output_dir = "out\xff";
  CHECK_THROWS_WITH_AS(search::run_search(*space, bad, test::synthetic_metrics),
                       doctest::Contains("UTF-8"), Error);
}

TEST_CASE("architecture text: a million blocks is refused early with a short message") {
  std::string text = "blocks:in=1x28x28,classes=10,act=relu,stem=8k3s1";
  for (int i = 0; i < 1000000; ++i) text += "|ds:k3s1c16";
  text += "|head=0";
  CHECK_THROWS_WITH_AS(parse_arch(text), doctest::Contains("over the limit"), Error);
  try {
    parse_arch(text);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).size() < 1000);
  }
  std::string many = "blocks:in=1x28x28,classes=10,act=relu,stem=8k3s1";
  for (size_t i = 0; i < kMaxBlocks + 1; ++i) many += "|ds:k3s1c8";
  many += "|head=0";
  CHECK_THROWS_WITH_AS(parse_arch(many), doctest::Contains("blocks"), Error);
}
