#include <filesystem>

#include "apps/commands.h"
#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"

namespace piconas::apps {

std::string arch_argument(const std::string &value) {
  std::error_code not_a_file;  // a long text is no path ("File name too long")
  if (!std::filesystem::is_regular_file(value, not_a_file)) return value;
  const std::string text = read_file(value, int64_t{64} << 20);
  PICONAS_CHECK(nas::is_graph_text(text),
                "'" << value << "' is not a network file (a graph network's JSON)");
  try {  // checked here, so that errors name the file
    nas::parse_arch(text);
  } catch (const Error& e) {
    throw Error("'" + value + "': " + e.what());
  }
  return text;
}

}  // namespace piconas::apps
