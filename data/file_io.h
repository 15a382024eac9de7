// Whole-file reading for the dataset loaders.
// read_file_bytes() reads a file through zlib, so gzip-compressed and plain files are both
// accepted (zlib passes plain bytes through unchanged). A missing file, a read error or a
// damaged / truncated gzip stream throws piconas::Error naming the file.
// Memory is bounded: at most max_bytes are decompressed (a 2 MB gzip bomb holding 2 GiB is an
// Error after max_bytes + 1 bytes, not after 2 GiB); read_file_head() reads only the first
// bytes, so a loader can check a header's declared size before reading the rest.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace piconas::data {

inline constexpr uint64_t kMaxDataFileBytes = uint64_t{1} << 30;

// The whole (decompressed) file; Error if it holds more than max_bytes.
std::vector<uint8_t> read_file_bytes(const std::string& path, uint64_t max_bytes = kMaxDataFileBytes);
// The first min(count, size) decompressed bytes.
std::vector<uint8_t> read_file_head(const std::string& path, uint64_t count);

// True if a regular file exists at path.
bool file_exists(const std::string& path);

}  // namespace piconas::data
