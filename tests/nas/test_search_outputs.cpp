// Search outputs: history.csv, best.json, search.json, pareto.svg and the checkpoint are
// written and parseable, and agree with the in-memory result.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "nas/search/pareto_svg.h"
#include "nas/search/search_io.h"
#include "search_test_util.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::test;

TEST_CASE("search outputs are written atomically and parse back") {
  search::SpaceOptions o;
  o.input = {3, 32, 32};
  auto space = search::make_search_space("nb201", o);
  SearchTempDir dir;
  search::SearchSettings s;
  s.population = 10;
  s.sample_size = 4;
  s.steps = 6;
  s.seed = 5;
  s.top_k = 3;
  s.constraints.max_params = 500000;
  s.output_dir = dir.file("run");  // created on demand
  const search::SearchResult r = run_search(*space, s, synthetic_metrics);
  search::write_search_outputs(r, *space, s);

  // history.csv: header + one row per history entry, the metric columns in settings order.
  std::istringstream csv(read_file(dir.file("run/history.csv")));
  std::string line;
  std::getline(csv, line);
  CHECK(
      line ==
      "step,generation,feasible,text,params,macs,peak_sram,flash,aggregate,naswot,logsynflow,skip");
  size_t rows = 0;
  while (std::getline(csv, line)) {
    const std::string prefix =
        std::to_string(rows) + "," + std::to_string(r.state.history[rows].generation) + ",";
    CHECK(line.rfind(prefix, 0) == 0);
    CHECK(line.find("\"" + r.state.history[rows].candidate.text + "\"") != std::string::npos);
    ++rows;
  }
  CHECK(rows == r.state.history.size());

  const auto best = nlohmann::json::parse(read_file(dir.file("run/best.json")));
  CHECK(best.at("top").size() == 3);
  CHECK(best.at("best").at("text") == r.state.history[r.best].candidate.text);
  CHECK(best.at("best").at("cost").at("params").get<int64_t>() <= 500000);
  CHECK(best.at("aggregator") == "freerea");
  CHECK(best.at("top").at(0).at("aggregate").get<double>() >=
        best.at("top").at(2).at("aggregate").get<double>());

  const auto search = nlohmann::json::parse(read_file(dir.file("run/search.json")));
  CHECK(search.at("seed") == 5);
  CHECK(search.at("settings").at("strategy") == "freerea");
  CHECK(search.at("steps_done") == 6);
  CHECK(search.at("timing").at("elapsed_seconds").get<double>() >= 0);

  const std::string svg = read_file(dir.file("run/pareto.svg"));
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("MACs per image") != std::string::npos);
  CHECK(svg.find("peak SRAM") != std::string::npos);
  CHECK(svg.find("#d62728") != std::string::npos);  // the chosen point
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");

  // The checkpoint restores the same state (non-finite metrics included).
  const auto state_json = nlohmann::json::parse(read_file(search::search_state_path(s.output_dir)));
  const search::SearchState restored = state_from_json(state_json.at("state"), *space);
  REQUIRE(restored.history.size() == r.state.history.size());
  for (size_t i = 0; i < restored.history.size(); ++i) {
    CHECK(restored.history[i].candidate.text == r.state.history[i].candidate.text);
    CHECK(restored.history[i].metrics.size() == r.state.history[i].metrics.size());
    for (const auto& [name, v] : r.state.history[i].metrics) {
      const double w = restored.history[i].metrics.at(name);
      CHECK((v == w || (std::isnan(v) && std::isnan(w))));
    }
  }
  CHECK(restored.rng == r.state.rng);
  CHECK(restored.population.size() == r.state.population.size());
  // No temporary files are left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("run")))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("pareto svg of an empty result is still a valid document") {
  search::SearchResult empty;
  const std::string svg = search::pareto_svg(empty);
  CHECK(svg.find("0 feasible candidates") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}
