// Issue 13 (hostile input), data part: declared sizes are checked before anything is allocated
// (an IDX gzip bomb, BMP/PNG headers claiming 20000x20000), batch sizes near INT64_MAX do not
// overflow, and class folder names that JSON cannot hold are refused when the data is loaded.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "data/file_io.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "temp_dir.h"

using namespace piconas;
using namespace piconas::data;
using namespace piconas::data::testing;

namespace {

// Runs f with the address space limited to its current size plus `headroom` bytes, so that a
// decoder allocating what a hostile header declares fails instead of passing (ASan reserves
// terabytes of address space: there f runs unlimited and only the messages are checked).
template <class F>
void with_memory_headroom(uint64_t headroom, F f) {
#if defined(__SANITIZE_ADDRESS__)
  (void)headroom;
  f();
#else
  unsigned long pages = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  REQUIRE(statm);
  REQUIRE(std::fscanf(statm, "%lu", &pages) == 1);
  std::fclose(statm);
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_AS, &old) == 0);
  rlimit limited = old;
  limited.rlim_cur = pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) + headroom;
  REQUIRE(setrlimit(RLIMIT_AS, &limited) == 0);
  try {
    f();
  } catch (...) {
    setrlimit(RLIMIT_AS, &old);
    throw;
  }
  setrlimit(RLIMIT_AS, &old);
#endif
}

std::vector<uint8_t> le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

// A 54-byte BMP header (24-bit) declaring width x height, with no pixel data.
std::vector<uint8_t> bmp_header(uint32_t width, uint32_t height) {
  std::vector<uint8_t> h = {'B', 'M'};
  for (uint32_t v : {54u, 0u, 54u, 40u, width, height}) {
    auto b = le32(v);
    h.insert(h.end(), b.begin(), b.end());
  }
  h.insert(h.end(), {1, 0, 24, 0});
  for (int i = 0; i < 6; ++i) h.insert(h.end(), {0, 0, 0, 0});
  return h;
}

// A grey PNG declaring width x height whose IDAT holds one zero row (complete when height is 1).
std::vector<uint8_t> png_header(uint32_t width, uint32_t height) {
  auto chunk = [](const std::string& type, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> body(type.begin(), type.end());
    body.insert(body.end(), data.begin(), data.end());
    std::vector<uint8_t> out;
    put_be32(out, static_cast<uint32_t>(data.size()));
    out.insert(out.end(), body.begin(), body.end());
    put_be32(out, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
    return out;
  };
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});
  std::vector<uint8_t> row(width + 1, 0), packed(compressBound(static_cast<uLong>(row.size())));
  uLongf packed_size = packed.size();
  compress(packed.data(), &packed_size, row.data(), static_cast<uLong>(row.size()));
  packed.resize(packed_size);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  for (const auto& c : {chunk("IHDR", ihdr), chunk("IDAT", packed), chunk("IEND", {})})
    png.insert(png.end(), c.begin(), c.end());
  return png;
}

// Decodes an in-memory image into a 1x4x4 target; "" on success, else the reason.
std::string decode_png_for_test(const std::vector<uint8_t>& bytes) {
  FolderOptions o;
  o.channels = 1;
  o.height = 4;
  o.width = 4;
  std::vector<uint8_t> dst(16);
  return decode_image(bytes.data(), bytes.size(), o, dst.data());
}

}  // namespace

TEST_CASE("an IDX gzip bomb is read only up to its declared size") {
  TempDir dir;
  std::vector<uint8_t> images;
  for (uint32_t v : {2051u, 3u, 4u, 5u}) put_be32(images, v);
  images.resize(16 + 60 + (uint64_t{64} << 20), 0);  // 64 MiB after the 60 declared pixels
  write_gzip(dir.file("images.gz"), images);
  std::vector<uint8_t> labels;
  for (uint32_t v : {2049u, 3u}) put_be32(labels, v);
  labels.insert(labels.end(), {0, 1, 2});
  write_gzip(dir.file("labels.gz"), labels);
  // The images file stops one byte past its 76 declared bytes, not after 64 MiB.
  with_memory_headroom(uint64_t{48} << 20, [&] {
    CHECK_THROWS_WITH_AS(load_idx(dir.file("images.gz"), dir.file("labels.gz"), {"a", "b", "c"}),
                         doctest::Contains("holds more than 77 bytes"), Error);
  });
  // A header declaring more than the limit is refused from the header.
  std::vector<uint8_t> huge;
  for (uint32_t v : {2051u, 60000u, 65536u, 65536u}) put_be32(huge, v);
  write_gzip(dir.file("huge.gz"), huge);
  CHECK_THROWS_WITH_AS(load_idx(dir.file("huge.gz"), dir.file("labels.gz"), {"a", "b", "c"}),
                       doctest::Contains("over the limit"), Error);
  CHECK_THROWS_WITH_AS(read_file_bytes(dir.file("images.gz"), 1000), doctest::Contains("more than 1000 bytes"),
                       Error);
  CHECK(read_file_head(dir.file("images.gz"), 8).size() == 8);
}

TEST_CASE("BMP and PNG headers claiming 20000x20000 are refused before decoding") {
  for (const auto& [name, bytes] : {std::pair{"big.bmp", bmp_header(20000, 20000)},
                                    std::pair{"big.png", png_header(20000, 20000)}}) {
    CAPTURE(name);
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "cats");
    write_bytes(dir.file(std::string("cats/") + name), bytes);
    FolderOptions options;
    options.channels = 3;
    options.height = options.width = 32;
    // The decoded image would need 1.2 GB; 256 MB of headroom is plenty for the header check.
    with_memory_headroom(uint64_t{256} << 20, [&] {
      CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options),
                           doctest::Contains("20000x20000 is over 32x the target size"), Error);
    });
    std::vector<uint8_t> pixels(3 * 32 * 32);
    CHECK(decode_image(bytes.data(), bytes.size(), options, pixels.data()).find("over 32x") != std::string::npos);
  }
}

TEST_CASE("a valid small PNG still decodes (the header check does not refuse real images)") {
  const std::vector<uint8_t> png = png_header(4, 1);
  FolderOptions options;
  options.channels = 1;
  options.height = options.width = 2;
  std::vector<uint8_t> pixels(4, 0xff);
  CHECK(decode_image(png.data(), png.size(), options, pixels.data()) == "");
  CHECK(pixels == std::vector<uint8_t>(4, 0));
}

TEST_CASE("a class folder name that is not UTF-8 is refused when the folder is loaded") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "caf\xe9");
  write_bytes(dir.file("caf\xe9/a.bmp"), bmp_header(2, 2));
  FolderOptions options;
  options.channels = 1;
  options.height = options.width = 2;
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path().string(), options), doctest::Contains("not valid UTF-8"), Error);
}

TEST_CASE("a batch size near INT64_MAX gives one batch, not zero (no overflow)") {
  Dataset d;
  d.count = 5;
  d.channels = 1;
  d.height = d.width = 2;
  d.num_classes = 2;
  d.class_names = {"a", "b"};
  d.images.assign(20, 7);
  d.labels = {0, 1, 0, 1, 0};
  LoaderOptions o;
  o.batch_size = std::numeric_limits<int64_t>::max();
  o.prefetch = 0;
  Loader loader(d, {0, 1, 2, 3, 4}, o, Normalization{{0.5f}, {0.25f}});
  CHECK(loader.num_batches() == 1);
  CHECK(loader.make_batch(0, 0).images.dim(0) == 5);
  o.batch_size = std::numeric_limits<int64_t>::max() - 1;
  o.drop_last = true;
  CHECK(Loader(d, {0, 1, 2, 3, 4}, o, Normalization{{0.5f}, {0.25f}}).num_batches() == 0);
}

TEST_CASE("a PNG chunk declaring more bytes than the file holds is refused before stb allocates") {
  std::vector<uint8_t> png = png_header(4, 1);
  REQUIRE(decode_png_for_test(png).empty());
  // IHDR is 25 bytes after the 8-byte signature: the IDAT length field starts at byte 33.
  png[33] = 0x7f;  // IDAT now declares about 2 GB
  const std::string why = decode_png_for_test(png);
  CHECK(why.find("more than the file holds") != std::string::npos);
}
