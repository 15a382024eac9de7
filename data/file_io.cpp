#include "data/file_io.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"

namespace piconas::data {

namespace {
// Reads up to `limit` decompressed bytes; *more is set when the stream holds further data.
std::vector<uint8_t> read_up_to(const std::string& path, uint64_t limit, bool* more) {
  PICONAS_CHECK(file_exists(path), "cannot open '" << path << "': no such file");
  gzFile file = gzopen(path.c_str(), "rb");
  PICONAS_CHECK(file != nullptr, "cannot open '" << path << "'");
  std::vector<uint8_t> bytes;
  constexpr uint64_t kChunk = 1u << 20;
  *more = false;
  while (true) {
    const size_t old_size = bytes.size();
    // One byte past the limit tells "exactly limit bytes" from "more than limit".
    const uint64_t room = limit + 1 - old_size;
    if (room == 0) {
      *more = true;
      break;
    }
    const auto want = static_cast<unsigned>(std::min(kChunk, room));
    bytes.resize(old_size + want);
    int got = gzread(file, bytes.data() + old_size, want);
    if (got < 0) {
      int code = 0;
      std::string reason = gzerror(file, &code);
      gzclose(file);
      throw Error("cannot read '" + path + "': " + reason);
    }
    bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  if (bytes.size() > limit) {
    bytes.resize(limit);
    *more = true;
  }
  // A gzip stream cut short reads as a clean end of data; zlib reports it only here.
  int code = 0;
  std::string reason = gzerror(file, &code);
  gzclose(file);
  PICONAS_CHECK(*more || code == Z_OK, "cannot read '" << path << "': damaged or truncated gzip data ("
                                                       << reason << ")");
  return bytes;
}
}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  bool more = false;
  std::vector<uint8_t> bytes = read_up_to(path, max_bytes, &more);
  PICONAS_CHECK(!more, "cannot read '" << path << "': it holds more than " << max_bytes
                                       << " bytes (decompressed)");
  return bytes;
}

std::vector<uint8_t> read_file_head(const std::string& path, uint64_t count) {
  bool more = false;
  return read_up_to(path, count, &more);
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace piconas::data
