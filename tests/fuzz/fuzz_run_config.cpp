// Fuzzes the `piconas run` configuration (nas/pipeline/pipeline_config.h): the input is a
// config.json, applied over the defaults and validated as resolve_run_config does before
// anything is saved. An accepted configuration must survive its JSON round trip unchanged and
// hold in-range values (no integer wrapped into range, no non-finite learning rate).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "nas/pipeline/pipeline_config.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::pipeline;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  PipelineConfig config;
  config.out = "run";
  try {
    apply_json(config, file, "config file");
    check_pipeline_config(config);
  } catch (const Error&) {
    return 0;
  }
  FUZZ_CHECK(std::isfinite(config.train.lr) && config.train.lr > 0);
  FUZZ_CHECK(config.search.population > 0 && config.shared.threads > 0 && config.min_blocks >= 1);
  PipelineConfig again;
  again.out = "run";
  apply_json(again, config_to_json(config), "round trip");
  FUZZ_CHECK(again == config);
  // Values that came in as JSON integers come back as the same integers.
  for (const auto& [key, value] : file.items())
    if (value.is_number_integer()) FUZZ_CHECK(config_to_json(config).at(key) == value);
  return 0;
}
