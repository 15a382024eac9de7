#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_checks.h"
#include "core/parallel.h"
#include "data/image.h"
#include "data/jpeg_decode.h"

#include "stb_image.h"

namespace piconas::data {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

struct Entry {
  std::string path;
  int32_t label = 0;
};

constexpr int64_t kMaxImageFileBytes = int64_t{64} << 20;
constexpr int64_t kMaxImagePixels = int64_t{1} << 24;  // 4096 x 4096

// Decodes one file into dst (channels x height x width); returns "" or the failure reason.
std::string decode_file(const std::string& path, const FolderOptions& options, uint8_t* dst) {
  const std::string bytes = read_file(path, kMaxImageFileBytes);
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), options, dst);
}

// stb grows its PNG data buffer to a chunk's declared length before it reads the chunk: a chunk
// length the file does not hold is refused here (a 1 KB file could otherwise allocate 2 GB).
std::string check_png_chunks(const uint8_t* bytes, size_t size) {
  static const uint8_t kSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (size < 8 || std::memcmp(bytes, kSignature, 8) != 0) return "";
  for (size_t at = 8; at + 8 <= size;) {
    const uint64_t length = (uint64_t{bytes[at]} << 24) | (uint64_t{bytes[at + 1]} << 16) |
                            (uint64_t{bytes[at + 2]} << 8) | uint64_t{bytes[at + 3]};
    if (length > size - at - 8)
      return "PNG chunk at byte " + std::to_string(at) + " declares " + std::to_string(length) +
             " bytes, more than the file holds";
    at += 12 + static_cast<size_t>(length);  // length, type, data, CRC
  }
  return "";
}

// stb's reason for its last failure, never empty: a failure must not read as success (stb builds
// "XXXX PNG chunk not known" from the chunk's type bytes, which start with 0 in a truncated file).
std::string stb_failure() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "unknown decoder error";
}

// PNG and BMP through stb_image (data/stb_image_impl.cpp compiles only those two decoders).
std::string decode_with_stb(const uint8_t* bytes, size_t size, int channels,
                            const std::function<std::string(int, int)>& check_size,
                            std::vector<uint8_t>& pixels, int& w, int& h) {
  const int length = static_cast<int>(size);
  if (std::string bad_png = check_png_chunks(bytes, size); !bad_png.empty()) return bad_png;
  int file_channels = 0;
  if (!stbi_info_from_memory(bytes, length, &w, &h, &file_channels)) {
    return stb_failure();
  }
  if (std::string why = check_size(w, h); !why.empty()) return why;
  int decoded_w = 0, decoded_h = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes, length, &decoded_w, &decoded_h, &file_channels, channels), stbi_image_free);
  if (!decoded) {
    return stb_failure();
  }
  if (decoded_w != w || decoded_h != h) return "image size differs from its header";
  pixels.assign(decoded.get(), decoded.get() + static_cast<size_t>(w) * h * channels);
  return "";
}

}  // namespace

std::string decode_image(const uint8_t* bytes, size_t size, const FolderOptions& options, uint8_t* dst) {
  if (size > static_cast<size_t>(kMaxImageFileBytes)) return "file over " + std::to_string(kMaxImageFileBytes) + " bytes";
  // The header's size is checked before any pixel is decoded.
  auto check_size = [&](int w, int h) -> std::string {
    if (w <= 0 || h <= 0) return "empty image";
    if (h > 32 * options.height || w > 32 * options.width)
      return "image " + std::to_string(w) + "x" + std::to_string(h) + " is over 32x the target size";
    if (static_cast<int64_t>(w) * h > kMaxImagePixels)
      return "image " + std::to_string(w) + "x" + std::to_string(h) + " is over " + std::to_string(kMaxImagePixels) +
             " pixels";
    return "";
  };
  const int c = options.channels;
  int w = 0, h = 0;
  std::vector<uint8_t> pixels;  // interleaved HWC
  if (is_jpeg(bytes, size)) {
    if (std::string why = decode_jpeg(bytes, size, c, check_size, pixels, w, h); !why.empty()) return why;
  } else if (std::string why = decode_with_stb(bytes, size, c, check_size, pixels, w, h); !why.empty()) {
    return why;
  }
  if (pixels.size() != static_cast<size_t>(c) * h * w) return "the decoder returned no pixels";
  // The cache is CHW.
  std::vector<uint8_t> planar(static_cast<size_t>(c) * h * w);
  for (int64_t p = 0; p < static_cast<int64_t>(h) * w; ++p)
    for (int k = 0; k < c; ++k) planar[k * static_cast<int64_t>(h) * w + p] = pixels[p * c + k];
  resize_bilinear(planar.data(), c, h, w, dst, options.height, options.width);
  return "";
}

Dataset load_image_folder(const std::string& root, const FolderOptions& options) {
  PICONAS_CHECK(options.channels == 1 || options.channels == 3,
                "image folder '" << root << "': channels must be 1 or 3, got " << options.channels);
  PICONAS_CHECK(options.height > 0 && options.width > 0,
                "image folder '" << root << "': target size must be positive, got "
                                 << options.height << "x" << options.width);
  std::error_code ec;
  PICONAS_CHECK(fs::is_directory(root, ec), "image folder '" << root << "' is not a directory");

  Dataset dataset;
  for (const fs::directory_entry& item : fs::directory_iterator(root))
    if (item.is_directory()) {
      dataset.class_names.push_back(item.path().filename().string());
      check_utf8(dataset.class_names.back(), "image folder '" + root + "': class folder name");
    }
  std::sort(dataset.class_names.begin(), dataset.class_names.end());
  PICONAS_CHECK(!dataset.class_names.empty(), "image folder '" << root << "' has no class subfolders");
  dataset.num_classes = static_cast<int>(dataset.class_names.size());

  std::vector<Entry> entries;
  for (int32_t label = 0; label < dataset.num_classes; ++label) {
    fs::path dir = fs::path(root) / dataset.class_names[label];
    std::vector<std::string> files;
    for (const fs::directory_entry& item : fs::directory_iterator(dir))
      if (item.is_regular_file() && is_image_file(item.path())) files.push_back(item.path().string());
    PICONAS_CHECK(!files.empty(), "image folder class '" << dir.string() << "' has no image files "
                                                         << "(.jpg, .jpeg, .png, .bmp)");
    std::sort(files.begin(), files.end());
    for (std::string& file : files) entries.push_back({std::move(file), label});
  }

  // Decode in parallel into per-file slots; failures are collected and handled in file order.
  int64_t n = static_cast<int64_t>(entries.size());
  int64_t image_size = static_cast<int64_t>(options.channels) * options.height * options.width;
  std::vector<uint8_t> decoded(static_cast<size_t>(n * image_size));
  std::vector<std::string> failures(n);
  parallel_for(0, n, [&](int64_t i) {
    try {
      failures[i] = decode_file(entries[i].path, options, decoded.data() + i * image_size);
    } catch (const std::exception& e) {  // exceptions must not leave the parallel region
      failures[i] = e.what();
    }
  });

  dataset.channels = options.channels;
  dataset.height = options.height;
  dataset.width = options.width;
  // Compact the kept images in place (no second copy of a large dataset).
  std::vector<int64_t> per_class(dataset.num_classes, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (!failures[i].empty()) {
      PICONAS_CHECK(options.skip_corrupt, "cannot decode image '" << entries[i].path
                                                                  << "': " << failures[i]);
      dataset.skipped_files.push_back(entries[i].path);
      continue;
    }
    if (dataset.count != i)
      std::copy_n(decoded.data() + i * image_size, image_size,
                  decoded.data() + dataset.count * image_size);
    dataset.labels.push_back(entries[i].label);
    ++per_class[entries[i].label];
    ++dataset.count;
  }
  decoded.resize(static_cast<size_t>(dataset.count * image_size));
  dataset.images = std::move(decoded);
  for (int label = 0; label < dataset.num_classes; ++label)
    PICONAS_CHECK(per_class[label] > 0, "image folder class '" << dataset.class_names[label]
                                                               << "' in '" << root
                                                               << "' has no readable image");
  return dataset;
}

}  // namespace piconas::data
