#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

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
