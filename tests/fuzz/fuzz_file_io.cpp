// Fuzzes read_file_bytes (data/file_io.h), the gzip-or-plain reader under every dataset
// loader: the input is written to a temporary file and read back. A plain file (no gzip magic)
// must read back unchanged; a damaged gzip stream must throw Error, never crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/file_io.h"
#include "fuzz_check.h"

using namespace piconas;

namespace {

// One file per fuzzing process, removed when the process exits normally.
struct ScratchFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("piconas_fuzz_file_io_" + std::to_string(::getpid()) + ".bin"))
                         .string();
  ~ScratchFile() { std::filesystem::remove(path); }
};

const std::string& scratch_path() {
  static const ScratchFile file;
  return file.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    FUZZ_CHECK(out.good());
  }
  try {
    const std::vector<uint8_t> bytes = data::read_file_bytes(path);
    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!gzip) FUZZ_CHECK(bytes == std::vector<uint8_t>(data, data + size));
  } catch (const Error&) {
  }
  return 0;
}
