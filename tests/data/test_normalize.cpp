#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "data/normalize.h"

using namespace piconas;
using namespace piconas::data;

namespace {
// 3 images, 2 channels, 1x2 pixels.
Dataset tiny() {
  Dataset d;
  d.count = 3;
  d.channels = 2;
  d.height = 1;
  d.width = 2;
  d.images = {0, 255, 51, 51,     // image 0: ch0 {0, 1}, ch1 {0.2, 0.2}
              255, 255, 102, 102,  // image 1: ch0 {1, 1}, ch1 {0.4, 0.4}
              0, 0, 0, 0};         // image 2
  d.labels = {0, 1, 0};
  d.num_classes = 2;
  d.class_names = {"x", "y"};
  return d;
}
}  // namespace

TEST_CASE("normalization: per-channel mean and population std by hand") {
  Dataset d = tiny();
  // Images 0 and 1: ch0 {0, 1, 1, 1} mean 0.75, var 0.75 - 0.5625 = 0.1875;
  // ch1 {0.2, 0.2, 0.4, 0.4} mean 0.3, std 0.1.
  Normalization n = compute_normalization(d, {0, 1});
  REQUIRE(n.channels() == 2);
  CHECK(n.mean[0] == doctest::Approx(0.75).epsilon(1e-6));
  CHECK(n.std[0] == doctest::Approx(std::sqrt(0.1875)).epsilon(1e-6));
  CHECK(n.mean[1] == doctest::Approx(0.3).epsilon(1e-6));
  CHECK(n.std[1] == doctest::Approx(0.1).epsilon(1e-6));
  // All three: ch0 {0, 1, 1, 1, 0, 0} mean 0.5, std 0.5.
  Normalization all = compute_normalization(d);
  CHECK(all.mean[0] == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(all.std[0] == doctest::Approx(0.5).epsilon(1e-6));
  CHECK_NOTHROW(all.validate(2));
}

TEST_CASE("normalization: constant channel, bad index and size mismatch are errors") {
  Dataset d = tiny();
  CHECK_THROWS_WITH_AS(compute_normalization(d, {2}), doctest::Contains("channel 0 is constant"),
                       Error);
  CHECK_THROWS_AS(compute_normalization(d, {3}), Error);
  CHECK_THROWS_AS(compute_normalization(d, std::vector<int64_t>{}), Error);
  Normalization id = Normalization::identity(3);
  CHECK(id.mean == std::vector<float>{0, 0, 0});
  CHECK(id.std == std::vector<float>{1, 1, 1});
  CHECK_THROWS_WITH_AS(id.validate(1), doctest::Contains("1 channels"), Error);
  id.std[1] = 0.0f;
  CHECK_THROWS_AS(id.validate(3), Error);
}
