// Calibration of the MCU latency model (nas/deploy/latency.h); driven by
// bench/latency_calibrate.sh, which measures, then fits and validates.
//
//   bench_latency sample COUNT SEED INPUT [TARGET]
//                                           COUNT random int8-deployable architectures of the
//                                           blocks space (seeded; random stems), one text
//                                           form a line; INPUT "1x28x28" or "3x32x32"; with
//                                           TARGET (e.g. cortex-m0), only those whose firmware
//                                           fits that board: RAM for arena + input + logits +
//                                           a 2 KB stack, flash for the constants, as piconas
//                                           verify counts
//   bench_latency fit OUT.cpp FIT_LIST HELDOUT_LIST [HELDOUT_JSON]
//       least-squares fit (nas/deploy/latency_fit.h) per target and kernel variant of the
//       per-layer instruction counts in RUN_DIR/verify-<target>/instructions.json for every
//       RUN_DIR listed in FIT_LIST (RUN_DIR/arch holds the architecture text); writes the table
//       source OUT.cpp, then prints predicted vs measured instructions of the HELDOUT_LIST
//       runs with the error distribution (Markdown); with HELDOUT_JSON, also writes two held-out
//       models per target there (the test data of tests/deploy/test_latency.cpp).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/latency_fit.h"
#include "nas/deploy/mcu_target.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/search/search_space.h"

namespace {

using namespace piconas;
using namespace piconas::nas;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  PICONAS_CHECK(in.good(), "cannot read '" << path << "'");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Whether piconas verify can run text on the board: RAM for the arena, one input, the logits and a
// 2 KB stack, flash for the constants and the input (nas/deploy/verify.cpp).
bool fits_board(const std::string& text, const deploy::McuBoard& board) {
  const ArchSpec spec = parse_blocks(text);
  const deploy::Graph graph = deploy::lower_arch(spec);
  const int64_t input = int64_t{spec.input.c} * spec.input.h * spec.input.w;
  return deploy::plan_memory(graph).arena_bytes + input + spec.num_classes + 2048 <=
             board.ram_bytes &&
         deploy::constant_bytes(graph) + input <= board.flash_bytes;
}

int sample(int count, uint64_t seed, const std::string& input, const std::string& target) {
  search::SpaceOptions options;
  options.input = input == "3x32x32" ? Shape3{3, 32, 32} : Shape3{1, 28, 28};
  options.int8_block_kinds_only = true;
  options.max_blocks = 6;
  Rng rng(seed);
  // The stem varies too (the space fixes it per search), so the im2col conv model sees more
  // than one shape: 8..32 channels, 3x3 or 5x5, stride 2.
  const int stem_channels[] = {8, 16, 24, 32};
  const int stem_kernels[] = {3, 5};
  int found = 0;
  for (int attempt = 0; found < count; ++attempt) {
    PICONAS_CHECK(attempt < 1000 * count, "sample: fewer than " << count << " of " << attempt
                                                                << " architectures fit " << target);
    options.stem =
        StemSpec{stem_channels[rng.uniform_int(0, 3)], stem_kernels[rng.uniform_int(0, 1)], 2};
    const std::string text = search::make_search_space("blocks", options)->sample(rng).text;
    if (!target.empty() && !fits_board(text, deploy::mcu_board(deploy::parse_mcu_target(target))))
      continue;
    std::printf("%s\n", text.c_str());
    ++found;
  }
  return 0;
}

// Every (run, target) with a measurement.
std::vector<deploy::LatencyMeasurement> measurements(const std::string& list) {
  std::vector<deploy::LatencyMeasurement> out;
  std::istringstream dirs(read_text(list));
  for (std::string dir; std::getline(dirs, dir);) {
    if (dir.empty()) continue;
    const ArchSpec arch = parse_arch(read_text(dir + "/arch"));
    for (deploy::McuTarget target : deploy::mcu_targets()) {
      const std::string path =
          dir + "/verify-" + deploy::mcu_board(target).name + "/instructions.json";
      std::ifstream probe(path);
      if (!probe.good()) continue;
      const nlohmann::json json = nlohmann::json::parse(read_text(path));
      deploy::LatencyMeasurement m;
      m.run = dir;
      m.arch = arch;
      m.target = target;
      for (const auto& layer : json.at("layers"))
        m.layer_instructions.push_back(layer.at("instructions").get<double>());
      m.total_instructions = json.at("instructions_per_inference").get<double>();
      out.push_back(std::move(m));
    }
  }
  return out;
}

// The first two held-out models of every target, for the test of the compiled table
// (tests/deploy/test_latency.cpp).
void write_test_data(const std::string& path,
                     const std::vector<deploy::LatencyMeasurement>& heldout) {
  nlohmann::json models = nlohmann::json::array();
  std::map<deploy::McuTarget, int> per_target;
  for (const auto& m : heldout) {
    if (per_target[m.target]++ >= 2) continue;
    models.push_back({{"arch", to_text(m.arch)},
                      {"target", deploy::mcu_board(m.target).name},
                      {"instructions", m.total_instructions}});
  }
  const nlohmann::json data = {
      {"generated_by",
       "bench/latency_calibrate.sh (bench_latency fit): QEMU -icount instructions per inference "
       "of held-out random blocks-space models, not in the fit"},
      {"models", models}};
  write_file_atomic(path, data.dump(2) + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "sample" && (argc == 5 || argc == 6))
      return sample(std::stoi(argv[2]), std::stoull(argv[3]), argv[4], argc == 6 ? argv[5] : "");
    if (command == "fit" && (argc == 5 || argc == 6)) {
      const auto fit = measurements(argv[3]);
      const auto heldout = measurements(argv[4]);
      PICONAS_CHECK(!fit.empty(), "no measurement in the runs of '" << argv[3] << "'");
      std::string targets;
      for (deploy::McuTarget t : deploy::mcu_targets()) {
        int n = 0;
        for (const auto& m : fit) n += m.target == t;
        if (n > 0)
          targets += std::string(targets.empty() ? "" : ", ") + std::to_string(n) + " " +
                     deploy::mcu_board(t).name;
      }
      const deploy::LatencyTable table = deploy::fit_latency(
          fit, "QEMU -icount per-layer counts of random blocks-space models (" + targets + ")");
      write_file_atomic(argv[2], deploy::latency_table_source(table));
      std::printf(
          "Fitted on %zu measurements (model x target), written to %s; held-out models:\n\n%s",
          fit.size(), argv[2], deploy::latency_validation(heldout, table).c_str());
      if (argc == 6) write_test_data(argv[5], heldout);
      return 0;
    }
    std::fprintf(stderr,
                 "usage: bench_latency sample COUNT SEED INPUT [TARGET] | fit OUT.cpp FIT_LIST "
                 "HELDOUT_LIST "
                 "[HELDOUT_JSON]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_latency: %s\n", e.what());
    return 1;
  }
}
