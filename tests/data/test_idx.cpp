#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "data/idx.h"
#include "temp_dir.h"

using namespace piconas;
using namespace piconas::data;
using namespace piconas::data::testing;

namespace {

std::vector<uint8_t> idx_images(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                                size_t pixel_bytes) {
  std::vector<uint8_t> bytes;
  put_be32(bytes, magic);
  put_be32(bytes, count);
  put_be32(bytes, rows);
  put_be32(bytes, cols);
  for (size_t i = 0; i < pixel_bytes; ++i) bytes.push_back(static_cast<uint8_t>(i * 7 + 3));
  return bytes;
}

std::vector<uint8_t> idx_labels(uint32_t magic, const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  put_be32(bytes, magic);
  put_be32(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

const std::vector<std::string> kTen = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

std::string error_of(const std::string& images, const std::string& labels) {
  try {
    load_idx(images, labels, kTen);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("idx: gzipped and raw files read back the same images and labels") {
  TempDir dir;
  auto images = idx_images(2051, 3, 2, 4, 3 * 2 * 4);
  auto labels = idx_labels(2049, {7, 0, 9});
  write_gzip(dir.file("i.gz"), images);
  write_gzip(dir.file("l.gz"), labels);
  write_bytes(dir.file("i.raw"), images);
  write_bytes(dir.file("l.raw"), labels);
  for (auto [ip, lp] : {std::pair{"i.gz", "l.gz"}, std::pair{"i.raw", "l.raw"}}) {
    Dataset d = load_idx(dir.file(ip), dir.file(lp), kTen);
    CHECK(d.count == 3);
    CHECK(d.channels == 1);
    CHECK(d.height == 2);
    CHECK(d.width == 4);
    CHECK(d.num_classes == 10);
    CHECK(d.labels == std::vector<int32_t>{7, 0, 9});
    REQUIRE(d.images.size() == 24);
    CHECK(d.images[0] == 3);
    CHECK(d.image(2)[5] == static_cast<uint8_t>((16 + 5) * 7 + 3));
    CHECK_NOTHROW(d.validate());
  }
}

TEST_CASE("idx: load_mnist_dir finds .gz and plain names, sets class names") {
  TempDir dir;
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_images(2051, 2, 1, 1, 2));
  write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_labels(2049, {1, 2}));
  Dataset d = load_mnist_dir(dir.path().string(), DatasetKind::FashionMnist, Split::Test);
  CHECK(d.count == 2);
  CHECK(d.class_names[0] == "T-shirt/top");
  CHECK(d.class_names[9] == "Ankle boot");
  CHECK_THROWS_WITH_AS(load_mnist_dir(dir.path().string(), DatasetKind::Mnist, Split::Train),
                       doctest::Contains("train-images-idx3-ubyte.gz"), Error);
}

TEST_CASE("idx: wrong magic names the file and the field") {
  TempDir dir;
  write_bytes(dir.file("imgs"), idx_images(2049, 1, 1, 1, 1));
  write_bytes(dir.file("labs"), idx_labels(2049, {0}));
  std::string msg = error_of(dir.file("imgs"), dir.file("labs"));
  CHECK(msg.find(dir.file("imgs")) != std::string::npos);
  CHECK(msg.find("magic") != std::string::npos);
  write_bytes(dir.file("imgs"), idx_images(2051, 1, 1, 1, 1));
  write_bytes(dir.file("labs"), idx_labels(2051, {0}));
  msg = error_of(dir.file("imgs"), dir.file("labs"));
  CHECK(msg.find(dir.file("labs")) != std::string::npos);
  CHECK(msg.find("magic") != std::string::npos);
}

TEST_CASE("idx: truncated raw file, truncated header and truncated gzip stream are errors") {
  TempDir dir;
  write_bytes(dir.file("labs"), idx_labels(2049, {0, 1}));
  write_bytes(dir.file("short"), idx_images(2051, 2, 3, 3, 17));
  std::string msg = error_of(dir.file("short"), dir.file("labs"));
  CHECK(msg.find(dir.file("short")) != std::string::npos);
  CHECK(msg.find("truncated") != std::string::npos);
  CHECK(msg.find("pixels") != std::string::npos);

  write_bytes(dir.file("header"), {0, 0, 8, 3, 0, 0});
  msg = error_of(dir.file("header"), dir.file("labs"));
  CHECK(msg.find(dir.file("header")) != std::string::npos);
  CHECK(msg.find("count") != std::string::npos);

  auto full = idx_images(2051, 2, 64, 64, 2 * 64 * 64);
  write_gzip(dir.file("whole.gz"), full);
  auto gz = read_raw(dir.file("whole.gz"));
  REQUIRE(gz.size() > 40);
  gz.resize(gz.size() / 2);
  write_bytes(dir.file("cut.gz"), gz);
  msg = error_of(dir.file("cut.gz"), dir.file("labs"));
  CHECK(msg.find(dir.file("cut.gz")) != std::string::npos);
  CHECK(msg.find("gzip") != std::string::npos);

  write_bytes(dir.file("long"), idx_images(2051, 2, 3, 3, 19));
  msg = error_of(dir.file("long"), dir.file("labs"));
  CHECK(msg.find("unexpected bytes") != std::string::npos);
}

TEST_CASE("idx: label out of range and count mismatch name the labels file") {
  TempDir dir;
  write_bytes(dir.file("imgs"), idx_images(2051, 3, 1, 1, 3));
  write_bytes(dir.file("labs"), idx_labels(2049, {0, 10, 1}));
  std::string msg = error_of(dir.file("imgs"), dir.file("labs"));
  CHECK(msg.find(dir.file("labs")) != std::string::npos);
  CHECK(msg.find("label") != std::string::npos);
  CHECK(msg.find("item 1") != std::string::npos);
  write_bytes(dir.file("labs2"), idx_labels(2049, {0, 1}));
  msg = error_of(dir.file("imgs"), dir.file("labs2"));
  CHECK(msg.find(dir.file("labs2")) != std::string::npos);
  CHECK(msg.find("count") != std::string::npos);
  msg = error_of(dir.file("missing"), dir.file("labs"));
  CHECK(msg.find(dir.file("missing")) != std::string::npos);
}
