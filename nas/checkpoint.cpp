#include "nas/checkpoint.h"

#include <zlib.h>

#include <cstring>
#include <set>

#include "core/atomic_file.h"

namespace piconas::nas {

namespace {
constexpr char kMagic[8] = {'P', 'I', 'C', 'O', 'N', 'A', 'S', '1'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <class T>
T get(const std::string& in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

uint32_t checksum(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}
}  // namespace

const Tensor& Checkpoint::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw Error("checkpoint has no tensor '" + name + "'");
}

std::string encode_checkpoint(const Checkpoint& checkpoint) {
  nlohmann::json directory = nlohmann::json::array();
  uint64_t offset = 0;
  for (const auto& [name, t] : checkpoint.tensors) {
    directory.push_back({{"name", name},
                         {"dtype", dtype_name(t.dtype())},
                         {"shape", t.shape()},
                         {"offset", offset},
                         {"bytes", t.nbytes()}});
    offset += static_cast<uint64_t>(t.nbytes());
  }
  std::string json = nlohmann::json{{"meta", checkpoint.meta}, {"tensors", directory}}.dump();
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kCheckpointVersion);
  put<uint64_t>(out, json.size());
  out += json;
  for (const auto& [name, t] : checkpoint.tensors)
    out.append(static_cast<const char*>(t.raw_data()), static_cast<size_t>(t.nbytes()));
  put<uint32_t>(out, checksum(out.data(), out.size()));
  return out;
}

Checkpoint decode_checkpoint(const std::string& in, const std::string& source) {
  PICONAS_CHECK(in.size() >= kHeaderBytes + sizeof(uint32_t),
                "checkpoint '" << source << "': truncated (" << in.size() << " bytes)");
  PICONAS_CHECK(std::memcmp(in.data(), kMagic, sizeof(kMagic)) == 0,
                "checkpoint '" << source << "': not a piconas checkpoint (bad magic)");
  uint32_t version = get<uint32_t>(in, sizeof(kMagic));
  PICONAS_CHECK(version == kCheckpointVersion, "checkpoint '" << source << "': version " << version
                                                              << " is not supported (expected "
                                                              << kCheckpointVersion << ")");
  size_t body = in.size() - sizeof(uint32_t);
  uint32_t stored = get<uint32_t>(in, body);
  PICONAS_CHECK(stored == checksum(in.data(), body),
                "checkpoint '" << source << "': checksum mismatch (file corrupt or truncated)");
  uint64_t json_bytes = get<uint64_t>(in, sizeof(kMagic) + sizeof(uint32_t));
  PICONAS_CHECK(json_bytes <= body - kHeaderBytes, "checkpoint '" << source << "': metadata length "
                                                                  << json_bytes
                                                                  << " exceeds the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(in.substr(kHeaderBytes, json_bytes));
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint '" + source + "': invalid metadata JSON: " + e.what());
  }
  Checkpoint checkpoint;
  size_t payload = kHeaderBytes + json_bytes;
  size_t payload_bytes = body - payload;
  try {
    checkpoint.meta = header.at("meta");
    std::set<std::string> names;
    for (const auto& entry : header.at("tensors")) {
      std::string name = entry.at("name").get<std::string>();
      PICONAS_CHECK(names.insert(name).second,
                    "checkpoint '" << source << "': tensor '" << excerpt(name) << "' appears twice");
      std::string dtype = entry.at("dtype").get<std::string>();
      PICONAS_CHECK(
          dtype == "float32" || dtype == "float64",
          "checkpoint '" << source << "': tensor '" << name << "' has unknown dtype " << dtype);
      // Integers only: nlohmann converts a float to an integer type with a plain cast (1.5
      // would become 1, 1e30 is undefined behaviour).
      const nlohmann::json& dims = entry.at("shape");
      PICONAS_CHECK(dims.is_array(), "checkpoint '" << source << "': tensor '" << name
                                                    << "' has a shape that is not an array");
      Shape shape;
      uint64_t numel = 1;
      bool too_large = false;
      for (const nlohmann::json& d : dims) {
        PICONAS_CHECK(
            d.is_number_unsigned() && d.get<uint64_t>() < (uint64_t{1} << 40),
            "checkpoint '" << source << "': tensor '" << name << "' has bad shape " << dims.dump());
        shape.push_back(d.get<int64_t>());
        too_large = too_large || __builtin_mul_overflow(numel, d.get<uint64_t>(), &numel);
      }
      const nlohmann::json &offset_json = entry.at("offset"), &bytes_json = entry.at("bytes");
      PICONAS_CHECK(offset_json.is_number_unsigned() && bytes_json.is_number_unsigned(),
                    "checkpoint '" << source << "': tensor '" << name
                                   << "' has an offset or size that is not a non-negative integer");
      const uint64_t offset = offset_json.get<uint64_t>(), bytes = bytes_json.get<uint64_t>();
      Tensor t(Shape{0}, dtype == "float64" ? DType::F64 : DType::F32);
      uint64_t expected_bytes = 0;
      too_large =
          too_large || __builtin_mul_overflow(numel, dtype_size(t.dtype()), &expected_bytes);
      PICONAS_CHECK(!too_large && expected_bytes == bytes && offset <= payload_bytes &&
                        bytes <= payload_bytes - offset,
                    "checkpoint '" << source << "': tensor '" << name << "' " << shape_str(shape)
                                   << " does not fit the payload");
      t = Tensor(shape, t.dtype());
      std::memcpy(t.raw_data(), in.data() + payload + offset, bytes);
      checkpoint.tensors.emplace_back(name, t);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint '" + source + "': malformed metadata: " + e.what());
  }
  return checkpoint;
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  write_file_atomic(path, encode_checkpoint(checkpoint));
}

Checkpoint load_checkpoint(const std::string& path) {
  return decode_checkpoint(read_file(path), path);
}

}  // namespace piconas::nas
