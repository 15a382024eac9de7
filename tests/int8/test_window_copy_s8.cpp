// window_copy_s8: a window copied out of an NHWC image and back lands exactly where it came from;
// windows outside the image are refused without writing.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ops/int8/window_copy_s8.h"

TEST_CASE("window copy: in and out are exact inverses at the window's place") {
  const piconas_dims image_dims{1, 5, 7, 3};
  std::vector<int8_t> image(5 * 7 * 3);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<int8_t>(i * 7 + 1);
  const piconas_dims window_dims{1, 2, 3, 3};
  std::vector<int8_t> window(2 * 3 * 3, 0);
  REQUIRE(piconas_window_copy_in_s8(&image_dims, image.data(), 3, 4, &window_dims, window.data()) ==
          PICONAS_S8_OK);
  for (int r = 0; r < 2; ++r)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c)
        CHECK(window[static_cast<size_t>((r * 3 + x) * 3 + c)] ==
              image[static_cast<size_t>(((3 + r) * 7 + 4 + x) * 3 + c)]);
  std::vector<int8_t> target(image.size(), 0);
  REQUIRE(piconas_window_copy_out_s8(&window_dims, window.data(), &image_dims, 3, 4,
                                     target.data()) == PICONAS_S8_OK);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) {
      const bool inside = y >= 3 && x >= 4;
      for (int c = 0; c < 3; ++c) {
        const size_t k = static_cast<size_t>((y * 7 + x) * 3 + c);
        CHECK(target[k] == (inside ? image[k] : 0));
      }
    }
}

TEST_CASE(
    "window copy: windows outside the image or with other channels are refused, nothing written") {
  const piconas_dims image_dims{1, 4, 4, 2};
  std::vector<int8_t> image(32, 5), window(8, 9);
  const piconas_dims window_dims{1, 2, 2, 2};
  CHECK(piconas_window_copy_in_s8(&image_dims, image.data(), 3, 0, &window_dims, window.data()) ==
        PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_window_copy_in_s8(&image_dims, image.data(), 0, -1, &window_dims, window.data()) ==
        PICONAS_S8_ERR_ARGUMENT);
  CHECK(piconas_window_copy_out_s8(&window_dims, window.data(), &image_dims, 0, 3, image.data()) ==
        PICONAS_S8_ERR_ARGUMENT);
  const piconas_dims other_channels{1, 2, 2, 1};
  CHECK(piconas_window_copy_in_s8(&image_dims, image.data(), 0, 0, &other_channels,
                                  window.data()) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(window == std::vector<int8_t>(8, 9));
  CHECK(image == std::vector<int8_t>(32, 5));
}
