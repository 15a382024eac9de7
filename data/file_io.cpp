#include "data/file_io.h"

#include <zlib.h>

#include <filesystem>

#include "core/error.h"

namespace piconas::data {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  PICONAS_CHECK(file_exists(path), "cannot open '" << path << "': no such file");
  gzFile file = gzopen(path.c_str(), "rb");
  PICONAS_CHECK(file != nullptr, "cannot open '" << path << "'");
  std::vector<uint8_t> bytes;
  constexpr unsigned kChunk = 1u << 20;
  while (true) {
    size_t old_size = bytes.size();
    bytes.resize(old_size + kChunk);
    int got = gzread(file, bytes.data() + old_size, kChunk);
    if (got < 0) {
      int code = 0;
      std::string reason = gzerror(file, &code);
      gzclose(file);
      throw Error("cannot read '" + path + "': " + reason);
    }
    bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // A gzip stream cut short reads as a clean end of data; zlib reports it only here.
  int code = 0;
  std::string reason = gzerror(file, &code);
  gzclose(file);
  PICONAS_CHECK(code == Z_OK, "cannot read '" << path << "': damaged or truncated gzip data ("
                                                << reason << ")");
  return bytes;
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace piconas::data
