#include <filesystem>

#include "apps/commands.h"
#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"

namespace piconas::apps {

std::string arch_argument(const std::string &value) {
  std::error_code not_a_file;  // a long text is no path ("File name too long")
  std::string path = value;
  if (std::filesystem::is_directory(value, not_a_file)) {  // `piconas import --out DIR`
    path = (std::filesystem::path(value) / "network.json").string();
    PICONAS_CHECK(std::filesystem::is_regular_file(path, not_a_file),
                  "'" << value << "' is a directory without network.json (piconas import --out)");
  }
  if (!std::filesystem::is_regular_file(path, not_a_file)) return value;
  const std::string text = read_file(path, int64_t{64} << 20);
  PICONAS_CHECK(nas::is_graph_text(text),
                "'" << path << "' is not a network file (a graph network's JSON)");
  try {  // checked here, so that errors name the file
    nas::parse_arch(text);
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what());
  }
  return text;
}

}  // namespace piconas::apps
