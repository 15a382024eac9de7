#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image.h"

using namespace piconas;
using namespace piconas::data;

TEST_CASE("resize: same size is an exact copy") {
  std::vector<uint8_t> src(2 * 3 * 5);
  std::iota(src.begin(), src.end(), uint8_t{1});
  std::vector<uint8_t> dst(src.size());
  resize_bilinear(src.data(), 2, 3, 5, dst.data(), 3, 5);
  CHECK(dst == src);
}

TEST_CASE("resize: enlarging is half-pixel bilinear with clamped edges (hand values)") {
  // Row [0, 100] to width 4: output centres map to source x = 0.25, 0.75, 1.25, 1.75 (pixel
  // centres 0.5 and 1.5): 0, 0.75*0 + 0.25*100, 0.25*0 + 0.75*100, 100.
  std::vector<uint8_t> src = {0, 100};
  std::vector<uint8_t> dst(4);
  resize_bilinear(src.data(), 1, 1, 2, dst.data(), 1, 4);
  CHECK(dst == std::vector<uint8_t>{0, 25, 75, 100});
  // 2x2 to 4x4: separable, so the corner block [0, 100; 100, 200] gives 25*(...) products.
  std::vector<uint8_t> square = {0, 100, 100, 200};
  std::vector<uint8_t> big(16);
  resize_bilinear(square.data(), 1, 2, 2, big.data(), 4, 4);
  CHECK(big[0] == 0);
  CHECK(big[5] == 50);    // (0.75, 0.75): 0.5625*0 + 0.1875*100*2 + 0.0625*200
  CHECK(big[15] == 200);
  CHECK(big[1] == 25);
}

TEST_CASE("resize: shrinking widens the triangle filter (hand values)") {
  // Row [0, 40, 80, 120] to width 2: scale 2, output 0 centred at source 1.0 with taps
  // x0: 0.75, x1: 0.75, x2: 0.25 (x-1 outside) -> (0 + 30 + 20) / 1.75 = 28.57 -> 29;
  // output 1 centred at 3.0: x1 0.25, x2 0.75, x3 0.75 -> (10 + 60 + 90) / 1.75 = 91.43 -> 91.
  std::vector<uint8_t> src = {0, 40, 80, 120};
  std::vector<uint8_t> dst(2);
  resize_bilinear(src.data(), 1, 1, 4, dst.data(), 1, 2);
  CHECK(dst == std::vector<uint8_t>{29, 91});
  std::vector<uint8_t> flat(3 * 9 * 7, 77);
  std::vector<uint8_t> small(3 * 2 * 3);
  resize_bilinear(flat.data(), 3, 9, 7, small.data(), 2, 3);
  for (uint8_t v : small) CHECK(v == 77);
}

TEST_CASE("resize: crop box selects the region; boxes outside the image throw") {
  std::vector<uint8_t> src = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 3x3
  std::vector<uint8_t> dst(4);
  resize_bilinear(src.data(), 1, 3, 3, CropBox{1, 1, 2, 2}, dst.data(), 2, 2);
  CHECK(dst == std::vector<uint8_t>{5, 6, 8, 9});
  CHECK_THROWS_WITH_AS(resize_bilinear(src.data(), 1, 3, 3, CropBox{2, 0, 2, 2}, dst.data(), 2, 2),
                       doctest::Contains("outside image 3x3"), Error);
}

TEST_CASE("channels: grey to RGB replicates, RGB to grey is stb luma; flip mirrors") {
  std::vector<uint8_t> grey = {10, 20};
  std::vector<uint8_t> rgb(6);
  convert_channels(grey.data(), 1, 2, rgb.data(), 3);
  CHECK(rgb == std::vector<uint8_t>{10, 20, 10, 20, 10, 20});
  std::vector<uint8_t> colour = {255, 0, 0, 255, 0, 0};  // pixel 0 red, pixel 1 green
  std::vector<uint8_t> luma(2);
  convert_channels(colour.data(), 3, 2, luma.data(), 1);
  CHECK(luma == std::vector<uint8_t>{(255 * 77) >> 8, (255 * 150) >> 8});
  CHECK_THROWS_AS(convert_channels(colour.data(), 2, 2, luma.data(), 1), Error);

  std::vector<uint8_t> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // [2, 2, 3]
  flip_horizontal(image.data(), 2, 2, 3);
  CHECK(image == std::vector<uint8_t>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10});
}

TEST_CASE("convert_dataset: channel and size conversion keeps labels") {
  Dataset d;
  d.count = 2;
  d.channels = 1;
  d.height = d.width = 2;
  d.images = {10, 10, 10, 10, 0, 100, 100, 200};
  d.labels = {1, 0};
  d.num_classes = 2;
  d.class_names = {"a", "b"};
  Dataset out = convert_dataset(d, 3, 4, 4);
  CHECK(out.count == 2);
  CHECK(out.channels == 3);
  CHECK(out.height == 4);
  CHECK(out.labels == d.labels);
  CHECK(out.images.size() == 2 * 3 * 16);
  CHECK(out.image(0)[47] == 10);
  CHECK(out.image(1)[16 + 5] == 50);
  CHECK_NOTHROW(out.validate());
  Dataset same = convert_dataset(d, 0, 0, 0);
  CHECK(same.images == d.images);
}
