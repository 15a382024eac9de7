// JPEG decoding through libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0-dev), which is
// built to survive hostile files; stb_image, which decodes PNG and BMP here, is not (its JPEG
// reader writes past a Huffman table declaring more than 256 codes and reads past one whose
// codes are inconsistent; both were found by tests/fuzz/fuzz_image).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace piconas::data {

// True when the bytes start with a JPEG start-of-image marker.
bool is_jpeg(const uint8_t* bytes, size_t size);

// Decodes a JPEG into interleaved pixels (height x width x channels; channels 1 gives the luma
// channel, as stb_image does, channels 3 gives RGB). check_size(width, height) runs on the
// header's size before any pixel is decoded and returns "" or the reason to refuse. Returns ""
// or the reason the file is refused. Recoverable data warnings (e.g. a truncated last scan) are
// accepted, as other decoders accept them; progressive files are limited to 500 scans.
std::string decode_jpeg(const uint8_t* bytes, size_t size, int channels,
                        const std::function<std::string(int, int)>& check_size,
                        std::vector<uint8_t>& pixels, int& width, int& height);

}  // namespace piconas::data
