// Image-folder loader: root/<class>/<file> with .jpg/.jpeg/.png/.bmp files (extension case is
// ignored, other files are ignored). Classes are the subfolders in sorted (byte) order, label =
// position; files are read in sorted order. This is the Visual Wake Words layout
// (root/non_person, root/person). Images are decoded (JPEG: libjpeg-turbo, data/jpeg_decode.h;
// PNG and BMP: stb_image) into the requested channel count (3: RGB, 1: grey), resized to
// height x width with resize_bilinear, and cached as uint8.
// Errors: no class folders, or a class folder with no image files, throws Error naming it. An
// unreadable image throws Error naming the file and the decoder's reason, unless skip_corrupt is
// set: then it is left out and listed in Dataset::skipped_files (a class left with no image is
// still an error). Class folder names must be valid UTF-8 (they are written into JSON files);
// a file over 64 MiB or whose header declares more than 32x the target size in either side is
// refused from its header, before any pixel is decoded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace piconas::data {

struct FolderOptions {
  int channels = 3;  // 1 or 3
  int height = 0;    // > 0
  int width = 0;     // > 0
  bool skip_corrupt = false;
};

Dataset load_image_folder(const std::string& root, const FolderOptions& options);

// Decodes one encoded image (JPEG, PNG or BMP) into dst (channels x height x width of options);
// returns "" or the reason it was refused.
std::string decode_image(const uint8_t* bytes, size_t size, const FolderOptions& options, uint8_t* dst);

}  // namespace piconas::data
