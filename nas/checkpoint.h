// Checkpoint files: named tensors plus JSON metadata, versioned and checksummed.
// Layout (little-endian), documented in docs/checkpoint_format.md:
//   "PICONAS1" | u32 version | u64 json_bytes | json | tensor payloads | u32 crc32(all before)
// The JSON holds the caller's metadata under "meta" and a "tensors" directory of
// {name, dtype, shape, offset, bytes}. save_checkpoint writes atomically (temp + rename).
// load_checkpoint rejects a wrong magic, an unknown version, a checksum mismatch, a truncated
// file, or a directory entry pointing outside the payload, with an Error naming the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace piconas::nas {

inline constexpr uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();
  std::vector<std::pair<std::string, Tensor>> tensors;
  const Tensor& tensor(const std::string& name) const;  // Error if absent
};

std::string encode_checkpoint(const Checkpoint& checkpoint);
// `source` names the origin (a file path) in error messages.
Checkpoint decode_checkpoint(const std::string& bytes, const std::string& source);
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
Checkpoint load_checkpoint(const std::string& path);

}  // namespace piconas::nas
