#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/augment.h"

using namespace piconas;
using namespace piconas::data;

namespace {
std::vector<uint8_t> ramp(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), uint8_t{1});
  return v;
}
std::vector<uint8_t> mirrored(std::vector<uint8_t> image, int c, int h, int w) {
  flip_horizontal(image.data(), c, h, w);
  return image;
}
}  // namespace

TEST_CASE("augment: flip gives either the image or its exact mirror, both occur") {
  const int c = 2, h = 3, w = 5;
  std::vector<uint8_t> src = ramp(c * h * w);
  std::vector<uint8_t> mirror = mirrored(src, c, h, w);
  CHECK(mirror[0] == src[4]);
  CHECK(mirror[c * h * w - 1] == src[c * h * w - w]);
  AugmentConfig config;
  config.horizontal_flip = true;
  int flips = 0, keeps = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::vector<uint8_t> image = src;
    Rng rng(seed);
    augment_image(image.data(), c, h, w, config, rng);
    if (image == mirror) ++flips;
    else if (image == src) ++keeps;
  }
  CHECK(flips + keeps == 64);
  CHECK(flips > 10);
  CHECK(keeps > 10);
}

TEST_CASE("augment: padded crop is a shift with zeros brought in") {
  std::vector<uint8_t> src = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 3x3
  std::vector<uint8_t> dst(9);
  shifted_copy(src.data(), 1, 3, 3, 1, -1, dst.data());
  CHECK(dst == std::vector<uint8_t>{0, 4, 5, 0, 7, 8, 0, 0, 0});
  shifted_copy(src.data(), 1, 3, 3, 0, 0, dst.data());
  CHECK(dst == src);
  // Random padded crops: every output is some shift in [-pad, pad]^2 of the input.
  AugmentConfig config;
  config.pad = 2;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<uint8_t> image = ramp(25);
    std::vector<uint8_t> original = image;
    Rng rng(seed);
    augment_image(image.data(), 1, 5, 5, config, rng);
    bool matched = false;
    for (int dy = -2; dy <= 2 && !matched; ++dy)
      for (int dx = -2; dx <= 2 && !matched; ++dx) {
        std::vector<uint8_t> shifted(25);
        shifted_copy(original.data(), 1, 5, 5, dy, dx, shifted.data());
        matched = shifted == image;
      }
    CHECK(matched);
  }
}

TEST_CASE("augment: random resized crop boxes stay inside with area and ratio in range") {
  ResizedCropConfig config;
  config.enabled = true;
  config.scale_min = 0.25;
  config.scale_max = 0.5;
  Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    CropBox box = random_resized_crop_box(40, 60, config, rng);
    CHECK(box.top >= 0);
    CHECK(box.left >= 0);
    CHECK(box.top + box.height <= 40);
    CHECK(box.left + box.width <= 60);
    double area = static_cast<double>(box.height) * box.width / (40.0 * 60.0);
    CHECK(area > 0.2);
    CHECK(area < 0.56);
    double ratio = static_cast<double>(box.width) / box.height;
    CHECK(ratio > 0.7);
    CHECK(ratio < 1.43);
  }
  // Scale 1 and the image's own ratio: the full image, so the image is unchanged.
  config.scale_min = config.scale_max = 1.0;
  config.ratio_min = config.ratio_max = 1.0;
  AugmentConfig augment;
  augment.resized_crop = config;
  std::vector<uint8_t> image = ramp(3 * 6 * 6);
  std::vector<uint8_t> original = image;
  augment_image(image.data(), 3, 6, 6, augment, rng);
  CHECK(image == original);
  // Impossible ratio: the fallback centre crop.
  config.scale_min = 0.9;
  config.ratio_min = config.ratio_max = 4.0;
  CropBox box = random_resized_crop_box(10, 10, config, rng);
  CHECK(box.width == 10);
  CHECK(box.height == 3);  // round(10 / 4)
  CHECK(box.top == 3);
}

TEST_CASE("augment: same rng state gives the same image; bad settings throw") {
  AugmentConfig config;
  config.pad = 1;
  config.horizontal_flip = true;
  config.resized_crop.enabled = true;
  std::vector<uint8_t> a = ramp(3 * 8 * 8), b = a;
  Rng ra(9), rb(9);
  augment_image(a.data(), 3, 8, 8, config, ra);
  augment_image(b.data(), 3, 8, 8, config, rb);
  CHECK(a == b);
  CHECK_NOTHROW(config.validate());
  config.pad = -1;
  CHECK_THROWS_AS(config.validate(), Error);
  config.pad = 0;
  config.resized_crop.scale_min = 0.0;
  CHECK_THROWS_AS(config.validate(), Error);
}
