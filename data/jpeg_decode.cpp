#include "data/jpeg_decode.h"

#include <turbojpeg.h>

#include <memory>

namespace piconas::data {

namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, HandleCloser>;

std::string error_of(void* handle) { return std::string("JPEG: ") + tjGetErrorStr2(handle); }

}  // namespace

bool is_jpeg(const uint8_t* bytes, size_t size) {
  return size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

std::string decode_jpeg(const uint8_t* bytes, size_t size, int channels,
                        const std::function<std::string(int, int)>& check_size,
                        std::vector<uint8_t>& pixels, int& width, int& height) {
  Handle handle(tjInitDecompress());
  if (!handle) return "JPEG: cannot start the decoder";
  const auto length = static_cast<unsigned long>(size);
  int subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes, length, &width, &height, &subsampling,
                          &colorspace) != 0)
    return error_of(handle.get());
  if (std::string why = check_size(width, height); !why.empty()) return why;
  pixels.assign(static_cast<size_t>(width) * height * channels, 0);
  const int format = channels == 1 ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(handle.get(), bytes, length, pixels.data(), width, width * channels, height,
                    format, TJFLAG_LIMITSCANS) != 0 &&
      tjGetErrorCode(handle.get()) != TJERR_WARNING)
    return error_of(handle.get());
  return "";
}

}  // namespace piconas::data
