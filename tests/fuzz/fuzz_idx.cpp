// Fuzzes the IDX decoder (data/idx.h, decode_idx) on an images file and a labels file cut
// from one input: a 4-byte little-endian length n, then min(n, rest) bytes of the images file,
// then the labels file (the rest). An accepted dataset must pass Dataset::validate().
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "data/idx.h"
#include "fuzz_check.h"

using namespace piconas;
using namespace piconas::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const size_t declared =
      size_t{data[0]} | size_t{data[1]} << 8 | size_t{data[2]} << 16 | size_t{data[3]} << 24;
  const size_t split = 4 + std::min(declared, size - 4);
  const std::vector<uint8_t> images(data + 4, data + split), labels(data + split, data + size);
  try {
    const Dataset dataset = decode_idx(images, "images", labels, "labels",
                                       mnist_class_names(DatasetKind::FashionMnist));
    dataset.validate();
    FUZZ_CHECK(dataset.count > 0 && dataset.channels == 1);
  } catch (const Error&) {
  }
  return 0;
}
