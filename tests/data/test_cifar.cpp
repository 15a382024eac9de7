#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "data/cifar.h"
#include "data/dataset.h"
#include "temp_dir.h"

using namespace piconas;
using namespace piconas::data;
using namespace piconas::data::testing;

namespace {
// Record r: label, then red plane = r, green plane = 100 + r, blue plane = pixel index % 256.
std::vector<uint8_t> cifar_records(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  for (size_t r = 0; r < labels.size(); ++r) {
    bytes.push_back(labels[r]);
    for (int p = 0; p < 1024; ++p) bytes.push_back(static_cast<uint8_t>(r));
    for (int p = 0; p < 1024; ++p) bytes.push_back(static_cast<uint8_t>(100 + r));
    for (int p = 0; p < 1024; ++p) bytes.push_back(static_cast<uint8_t>(p % 256));
  }
  return bytes;
}
}  // namespace

TEST_CASE("cifar10: tiny batch files read back as CHW planes with labels") {
  TempDir dir;
  write_bytes(dir.file("test_batch.bin"), cifar_records({3, 9}));
  Dataset d = load_cifar10(dir.path().string(), Split::Test);
  CHECK(d.count == 2);
  CHECK(d.channels == 3);
  CHECK(d.height == 32);
  CHECK(d.width == 32);
  CHECK(d.labels == std::vector<int32_t>{3, 9});
  CHECK(d.class_names[3] == "cat");
  CHECK(d.image(1)[0] == 1);
  CHECK(d.image(1)[1024 + 5] == 101);
  CHECK(d.image(1)[2048 + 300] == 300 % 256);
  CHECK_NOTHROW(d.validate());

  DatasetSpec spec;
  spec.kind = DatasetKind::Cifar10;
  spec.path = dir.path().string();
  spec.split = Split::Test;
  spec.channels = 1;
  Dataset grey = load_dataset(spec);
  CHECK(grey.channels == 1);
  CHECK(grey.image(1)[0] == (1 * 77 + 101 * 150 + 0 * 29) >> 8);
}

TEST_CASE("cifar10: several files concatenate in order") {
  TempDir dir;
  write_bytes(dir.file("a.bin"), cifar_records({1}));
  write_gzip(dir.file("b.bin"), cifar_records({2, 4}));
  Dataset d = load_cifar10_files({dir.file("a.bin"), dir.file("b.bin")});
  CHECK(d.count == 3);
  CHECK(d.labels == std::vector<int32_t>{1, 2, 4});
  CHECK(d.image(2)[0] == 1);
}

TEST_CASE("cifar10: truncated file, bad label and missing train batch are clear errors") {
  TempDir dir;
  auto bytes = cifar_records({1, 2});
  bytes.resize(bytes.size() - 10);
  write_bytes(dir.file("test_batch.bin"), bytes);
  CHECK_THROWS_WITH_AS(load_cifar10(dir.path().string(), Split::Test),
                       doctest::Contains((dir.file("test_batch.bin") + "' is truncated").c_str()), Error);
  write_bytes(dir.file("bad.bin"), cifar_records({1, 10}));
  CHECK_THROWS_WITH_AS(load_cifar10_files({dir.file("bad.bin")}),
                       doctest::Contains("label of record 1 is 10"), Error);
  CHECK_THROWS_WITH_AS(load_cifar10(dir.path().string(), Split::Train),
                       doctest::Contains("data_batch_1.bin"), Error);
}
