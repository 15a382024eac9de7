// Whole-file reading for the dataset loaders.
// read_file_bytes() reads a file through zlib, so gzip-compressed and plain files are both
// accepted (zlib passes plain bytes through unchanged). A missing file, a read error or a
// damaged / truncated gzip stream throws piconas::Error naming the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace piconas::data {

std::vector<uint8_t> read_file_bytes(const std::string& path);

// True if a regular file exists at path.
bool file_exists(const std::string& path);

}  // namespace piconas::data
