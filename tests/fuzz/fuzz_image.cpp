// Fuzzes the image decoders behind image folders (data/image_folder.h decode_image: stb_image's
// PNG, JPEG, BMP, GIF, ... readers, header check first, then bilinear resize to 16x16). An
// accepted image fills the whole output; a header declaring a huge image must be refused
// from the header (the 2 GB RSS limit of scripts/fuzz.sh catches a decoder that allocates first).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "data/image_folder.h"
#include "fuzz_check.h"

using namespace piconas;
using namespace piconas::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int channels : {1, 3}) {
    FolderOptions options;
    options.channels = channels;
    options.height = options.width = 16;
    std::vector<uint8_t> pixels(static_cast<size_t>(channels) * 16 * 16 + 1, 0xA5);
    try {
      const std::string failure = decode_image(data, size, options, pixels.data());
      FUZZ_CHECK(pixels.back() == 0xA5);  // nothing written past the image
    } catch (const Error&) {
    }
  }
  return 0;
}
