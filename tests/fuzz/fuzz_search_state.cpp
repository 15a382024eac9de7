// Fuzzes the search checkpoint reader (nas/search/search_io.h, decode_search_state): the
// input is a search_state.json text, tried against every space and settings of
// fuzz_search_setup.h. A state the reader accepts must be one a search can resume from: it is
// written to a scratch directory and the search runs one more step from it, where anything
// but a clean piconas::Error (a crash, an endless loop, out-of-range indexing) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "fuzz_check.h"
#include "fuzz_search_setup.h"
#include "nas/search/search_io.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::search;

namespace {

struct ScratchDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("piconas_fuzz_search_" + std::to_string(::getpid()));
  ScratchDir() { std::filesystem::create_directories(path); }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

void resume_one_step(const std::string& text, const SearchSpace& space, SearchSettings settings,
                     int64_t step) {
  static const ScratchDir dir;
  settings.output_dir = dir.path.string();
  settings.resume = true;
  settings.steps = step + 1;
  write_file_atomic(search_state_path(settings.output_dir), text);
  const SearchResult result = run_search(space, settings, fuzz::fuzz_metrics);
  FUZZ_CHECK(result.state.step >= step);
  FUZZ_CHECK(result.aggregates.size() == result.state.history.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto spaces = fuzz::fuzz_spaces();
  static const auto settings = fuzz::fuzz_settings();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& space : spaces)
    for (const SearchSettings& s : settings) {
      SearchState state;
      try {
        state = decode_search_state(text, "fuzz input", *space, s);
      } catch (const Error&) {
        continue;
      }
      // Long budgets would only make the target slow, they are not a parser problem.
      if (state.step < 0 || state.step > 1000) continue;
      try {
        resume_one_step(text, *space, s, state.step);
      } catch (const Error&) {
      }
    }
  return 0;
}
