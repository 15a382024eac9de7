#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/dataset.h"

using namespace piconas;
using namespace piconas::data;

TEST_CASE("fashion-mnist: the real test split loads when installed") {
  std::string dir = default_dataset_path(DatasetKind::FashionMnist);
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: " << dir << " is not installed");
    return;
  }
  DatasetSpec spec;
  spec.kind = DatasetKind::FashionMnist;
  spec.split = Split::Test;
  Dataset d = load_dataset(spec);
  CHECK(d.count == 10000);
  CHECK(d.channels == 1);
  CHECK(d.height == 28);
  CHECK(d.width == 28);
  CHECK(d.num_classes == 10);
  std::vector<int64_t> per_class(10, 0);
  for (int32_t label : d.labels) {
    REQUIRE(label >= 0);
    REQUIRE(label < 10);
    ++per_class[label];
  }
  for (int64_t n : per_class) CHECK(n == 1000);  // the test split is balanced
  CHECK(*std::max_element(d.images.begin(), d.images.end()) == 255);
}

TEST_CASE("--resolution: N or HxW; the real test split resized to dscnn's 49x10") {
  DatasetSpec spec;
  set_resolution(spec, "49x10", "--resolution");
  CHECK(spec.resolution == 49);
  CHECK(spec.width == 10);
  set_resolution(spec, "32", "--resolution");
  CHECK(spec.resolution == 32);
  CHECK(spec.width == 0);
  set_resolution(spec, "7x7", "--resolution");  // square: one spelling
  CHECK(spec.resolution == 7);
  CHECK(spec.width == 0);
  for (const char* bad : {"", "49x", "x10", "0x10", "-3", "49x10x2", "4 9", "99999", "1e3"})
    CHECK_THROWS_WITH_AS(set_resolution(spec, bad, "--resolution"),
                         doctest::Contains(("--resolution: '" + std::string(bad) + "'").c_str()),
                         Error);
  std::string dir = default_dataset_path(DatasetKind::FashionMnist);
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: " << dir << " is not installed");
    return;
  }
  spec.kind = DatasetKind::FashionMnist;
  spec.split = Split::Test;
  set_resolution(spec, "49x10", "--resolution");
  const Dataset d = load_dataset(spec);
  CHECK(d.count == 10000);
  CHECK(d.height == 49);
  CHECK(d.width == 10);
  CHECK(d.images.size() == static_cast<size_t>(10000 * 49 * 10));
}
