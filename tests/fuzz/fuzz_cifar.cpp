// Fuzzes the CIFAR-10 binary decoder (data/cifar.h, decode_cifar10): the input is one batch
// file. An accepted dataset must pass Dataset::validate() and hold size / 3073 records.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "data/cifar.h"
#include "fuzz_check.h"

using namespace piconas;
using namespace piconas::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const Dataset dataset = decode_cifar10(bytes, "batch");
    dataset.validate();
    FUZZ_CHECK(dataset.count * 3073 == static_cast<int64_t>(size));
  } catch (const Error&) {
  }
  return 0;
}
