// Fuzzes decode_checkpoint (nas/checkpoint.h). Each input is decoded twice: as is, and with
// its correct CRC-32 appended, so that mutations get past the checksum into the JSON
// directory and the payload bounds. An accepted checkpoint must re-encode to a checkpoint that
// decodes to the same metadata and tensors, with unique tensor names; an accepted model
// (load_model) has one class name per class.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "nas/checkpoint.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::train;

namespace {

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.nbytes())) == 0;
}

void decode_and_round_trip(const std::string& bytes) {
  Checkpoint decoded;
  try {
    decoded = decode_checkpoint(bytes, "fuzz input");
  } catch (const Error&) {
    return;
  }
  const Checkpoint again = decode_checkpoint(encode_checkpoint(decoded), "re-encoded");
  FUZZ_CHECK(again.meta == decoded.meta);
  FUZZ_CHECK(again.tensors.size() == decoded.tensors.size());
  for (size_t i = 0; i < again.tensors.size(); ++i) {
    FUZZ_CHECK(again.tensors[i].first == decoded.tensors[i].first);
    FUZZ_CHECK(same_tensor(again.tensors[i].second, decoded.tensors[i].second));
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(decoded.tensors[j].first != decoded.tensors[i].first);
  }
  try {
    const LoadedModel model = load_model(decoded, "fuzz input");
    if (model.meta.contains("class_names"))  // optional; when present, one name per class
      FUZZ_CHECK(model.meta.at("class_names").size() == static_cast<size_t>(model.arch.num_classes));
    FUZZ_CHECK(model.meta.at("version") == kModelVersion);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  decode_and_round_trip(bytes);
  const uint32_t crc =
      static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size)));
  char tail[4];
  std::memcpy(tail, &crc, sizeof tail);
  bytes.append(tail, sizeof tail);
  decode_and_round_trip(bytes);
  return 0;
}
