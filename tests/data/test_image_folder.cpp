#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_folder.h"
#include "temp_dir.h"

using namespace piconas;
using namespace piconas::data;
using namespace piconas::data::testing;
namespace fs = std::filesystem;

namespace {

// A w x h RGB image (interleaved, as stb writes) filled with one colour.
std::vector<uint8_t> solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < w * h; ++i) pixels.insert(pixels.end(), {r, g, b});
  return pixels;
}

// root/person: a.png (red), b.bmp (green), notes.txt; root/non_person: c.PNG (blue 8x4),
// z_bad.png (garbage bytes). Sorted classes: non_person = 0, person = 1.
void make_folder(const fs::path& root, bool with_corrupt) {
  fs::create_directories(root / "person");
  fs::create_directories(root / "non_person");
  auto red = solid(4, 4, 200, 0, 0);
  auto green = solid(4, 4, 0, 160, 0);
  auto blue = solid(8, 4, 0, 0, 120);
  REQUIRE(stbi_write_png((root / "person" / "a.png").c_str(), 4, 4, 3, red.data(), 12));
  REQUIRE(stbi_write_bmp((root / "person" / "b.bmp").c_str(), 4, 4, 3, green.data()));
  REQUIRE(stbi_write_png((root / "non_person" / "c.PNG").c_str(), 8, 4, 3, blue.data(), 24));
  write_bytes((root / "person" / "notes.txt").string(), {1, 2, 3});
  if (with_corrupt)
    write_bytes((root / "non_person" / "z_bad.png").string(), {0x89, 'P', 'N', 'G', 1, 2, 3});
}

FolderOptions options(int channels, int size, bool skip = false) {
  FolderOptions o;
  o.channels = channels;
  o.height = o.width = size;
  o.skip_corrupt = skip;
  return o;
}

}  // namespace

TEST_CASE("image folder: sorted classes and files, decode, resize, RGB planes") {
  TempDir dir;
  make_folder(dir.path(), false);
  Dataset d = load_image_folder(dir.path().string(), options(3, 2));
  CHECK(d.class_names == std::vector<std::string>{"non_person", "person"});
  CHECK(d.num_classes == 2);
  REQUIRE(d.count == 3);
  CHECK(d.labels == std::vector<int32_t>{0, 1, 1});
  CHECK(d.channels == 3);
  CHECK(d.height == 2);
  CHECK(d.width == 2);
  CHECK(d.skipped_files.empty());
  // c.PNG blue, a.png red, b.bmp green; solid colours survive resizing exactly.
  const std::vector<std::vector<uint8_t>> colours = {{0, 0, 120}, {200, 0, 0}, {0, 160, 0}};
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 4; ++p) CHECK(d.image(i)[c * 4 + p] == colours[i][c]);
  CHECK_NOTHROW(d.validate());
}

TEST_CASE("image folder: grayscale request uses luma") {
  TempDir dir;
  make_folder(dir.path(), false);
  Dataset d = load_image_folder(dir.path().string(), options(1, 3));
  CHECK(d.channels == 1);
  CHECK(d.image(1)[4] == (200 * 77) >> 8);
  CHECK(d.image(2)[0] == (160 * 150) >> 8);
}

TEST_CASE("image folder: corrupt image names the file, or is skipped and counted") {
  TempDir dir;
  make_folder(dir.path(), true);
  std::string bad = (dir.path() / "non_person" / "z_bad.png").string();
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options(3, 2)),
                       doctest::Contains(("cannot decode image '" + bad + "'").c_str()), Error);
  Dataset d = load_image_folder(dir.path().string(), options(3, 2, true));
  CHECK(d.count == 3);
  REQUIRE(d.skipped_files.size() == 1);
  CHECK(d.skipped_files[0] == bad);
  CHECK(d.labels == std::vector<int32_t>{0, 1, 1});
  CHECK(d.image(0)[8] == 120);  // blue plane of c.PNG, not the corrupt file
}

TEST_CASE("image folder: no classes, empty class and all-corrupt class are errors") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options(3, 2)),
                       doctest::Contains("no class subfolders"), Error);
  make_folder(dir.path(), false);
  fs::create_directories(dir.path() / "empty_class");
  write_bytes((dir.path() / "empty_class" / "readme.md").string(), {1});
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options(3, 2)),
                       doctest::Contains("empty_class' has no image files"), Error);
  write_bytes((dir.path() / "empty_class" / "x.jpg").string(), {1, 2, 3});
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options(3, 2, true)),
                       doctest::Contains("'empty_class'"), Error);
  CHECK_THROWS_AS(load_image_folder(dir.file("nope"), options(3, 2)), Error);
}

TEST_CASE("image folder: load_dataset uses split subfolders or the root for train") {
  TempDir dir;
  make_folder(dir.path() / "test", false);
  DatasetSpec spec;
  spec.kind = parse_dataset_kind("folder");
  spec.path = dir.path().string();
  spec.split = Split::Test;
  spec.resolution = 5;
  spec.channels = 1;
  Dataset d = load_dataset(spec);
  CHECK(d.count == 3);
  CHECK(d.height == 5);
  CHECK(d.channels == 1);
  spec.split = Split::Train;  // "test" exists but "train" does not: not silently the root
  CHECK_THROWS_WITH_AS(load_dataset(spec), doctest::Contains("no 'train' subfolder"), Error);
  spec.split = Split::Test;

  TempDir flat;
  make_folder(flat.path(), true);
  spec.path = flat.path().string();
  CHECK_THROWS_WITH_AS(load_dataset(spec), doctest::Contains("no 'test' subfolder"), Error);
  spec.split = Split::Train;
  spec.skip_corrupt = true;
  Dataset train = load_dataset(spec);
  CHECK(train.count == 3);
  CHECK(train.skipped_files.size() == 1);
  spec.resolution = 0;
  CHECK_THROWS_AS(load_dataset(spec), Error);
  CHECK_THROWS_WITH_AS(parse_dataset_kind("imagenet"), doctest::Contains("imagenet"), Error);
}

namespace {

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

std::string decode_for_test(const std::vector<uint8_t>& bytes) {
  FolderOptions o;
  o.channels = 3;
  o.height = o.width = 8;
  std::vector<uint8_t> dst(3 * 8 * 8);
  return decode_image(bytes.data(), bytes.size(), o, dst.data());
}

// SOI, one DHT segment with one table of `codes` codes (the last code lengths), EOI.
std::vector<uint8_t> jpeg_with_one_table(int codes) {
  std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC4};
  const int length = 2 + 17 + codes;
  jpeg.push_back(static_cast<uint8_t>(length >> 8));
  jpeg.push_back(static_cast<uint8_t>(length & 0xFF));
  jpeg.push_back(0x00);  // DC table 0
  std::vector<uint8_t> counts(16, 0);
  for (int left = codes, i = 15; left > 0; --i) {
    counts[i] = static_cast<uint8_t>(std::min(left, 255));
    left -= counts[i];
  }
  jpeg.insert(jpeg.end(), counts.begin(), counts.end());
  jpeg.insert(jpeg.end(), static_cast<size_t>(codes), 0x00);
  jpeg.insert(jpeg.end(), {0xFF, 0xD9});
  return jpeg;
}

}  // namespace

TEST_CASE("JPEG: decoded by libjpeg-turbo; hostile tables and huge headers refused with a reason") {
  std::vector<uint8_t> jpeg;
  std::vector<uint8_t> pixels(8 * 8 * 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      uint8_t* p = &pixels[(y * 8 + x) * 3];
      p[0] = static_cast<uint8_t>(20 + 25 * x);
      p[1] = static_cast<uint8_t>(200 - 20 * y);
      p[2] = 90;
    }
  REQUIRE(stbi_write_jpg_to_func(append_bytes, &jpeg, 8, 8, 3, pixels.data(), 100));
  FolderOptions o;
  o.channels = 3;
  o.height = o.width = 8;
  std::vector<uint8_t> rgb(3 * 64);
  REQUIRE(decode_image(jpeg.data(), jpeg.size(), o, rgb.data()) == "");
  int max_error = 0;  // quality 100: within JPEG's rounding of the source (CHW now)
  for (int k = 0; k < 3; ++k)
    for (int p = 0; p < 64; ++p) max_error = std::max(max_error, std::abs(rgb[k * 64 + p] - pixels[p * 3 + k]));
  CHECK(max_error <= 12);
  o.channels = 1;  // one channel is the luma (JPEG's Y), as stb_image gives it
  std::vector<uint8_t> grey(64);
  REQUIRE(decode_image(jpeg.data(), jpeg.size(), o, grey.data()) == "");
  for (int p = 0; p < 64; ++p) {
    const double luma = 0.299 * pixels[p * 3] + 0.587 * pixels[p * 3 + 1] + 0.114 * pixels[p * 3 + 2];
    CHECK(std::abs(grey[p] - luma) <= 12);
  }

  // 257 codes in one Huffman table (stb wrote past its table; CI's fuzzer input, 2026-12-05).
  CHECK(decode_for_test(jpeg_with_one_table(257)).rfind("JPEG: ", 0) == 0);
  const std::vector<uint8_t> fuzzed = {0xff, 0xd8, 0xff, 0xc4, 0x64, 0x00,
                                       0x00, 0xfa, 0x00, 0x00, 0x00, 0x34};
  CHECK(decode_for_test(fuzzed).rfind("JPEG: ", 0) == 0);

  // A header declaring 20000 x 20000 is refused from the header (SOF0: FF C0, length, precision,
  // height, width).
  std::vector<uint8_t> huge = jpeg;
  size_t sof = 2;
  while (sof + 1 < huge.size() && !(huge[sof] == 0xFF && huge[sof + 1] == 0xC0)) ++sof;
  REQUIRE(sof + 9 < huge.size());
  for (size_t at : {sof + 5, sof + 7}) {
    huge[at] = 20000 >> 8;
    huge[at + 1] = 20000 & 0xFF;
  }
  CHECK(decode_for_test(huge) == "image 20000x20000 is over 32x the target size");
}

TEST_CASE("a PNG cut after its header is refused, not decoded as an image (fuzz_image, 2026-12-05)") {
  // stb fails with an empty reason here (a chunk type of zero bytes): that once read as success.
  const std::vector<uint8_t> png = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00,
                                    0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
                                    0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0xd8, 0xc2, 0xc0};
  CHECK(decode_for_test(png) == "unknown decoder error");
}
