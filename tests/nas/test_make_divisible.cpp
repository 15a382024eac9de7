// make_divisible8 (nas/arch/arch_spec.h): the one rounding of MobileNetV3's widths, for the SE
// squeeze (an integer input) and the width multiplier (a double product, as in torchvision).
// Exhaustive over every input either use can produce, against the exact integer rule.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/arch/arch_text.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

// torchvision's _make_divisible(v, 8) for v = numerator / denominator in exact integer
// arithmetic: max(8, floor(v + 4) // 8 * 8), + 8 when below 0.9 v.
int64_t make_divisible8_exact(int64_t numerator, int64_t denominator) {
  int64_t rounded = std::max<int64_t>(8, (numerator + 4 * denominator) / denominator / 8 * 8);
  if (10 * rounded * denominator < 9 * numerator) rounded += 8;
  return rounded;
}

// Every channel count the MobileNetV3 tables scale (reference_networks.cpp: stem 16, the bneck
// rows' hidden and output widths of Tables 1 and 2, the classifiers' 1024 and 1280).
constexpr int kTableChannels[] = {16,  24,  40,  48,  64,  72,  80,  88,  96,  112, 120,  144,
                                  160, 184, 200, 240, 288, 480, 576, 672, 960, 1024, 1280};

}  // namespace

TEST_CASE("make_divisible8: integer inputs (the SE squeeze) equal the exact integer rule") {
  // hidden <= 65536 channels x expansion 16 = 2^20, so hidden / 4 <= 2^18; checked to 2^20.
  int64_t differing = 0;
  for (int64_t v = 0; v <= (int64_t{1} << 20); ++v)
    differing += make_divisible8(static_cast<double>(v)) != make_divisible8_exact(v, 1);
  CHECK(differing == 0);
  for (int64_t hidden : {16, 40, 96, 144, 152, 240, 300, 336, 576, 960})
    CHECK(se_channels(hidden) == make_divisible8_exact(hidden / 4, 1));
}

TEST_CASE("make_divisible8: width-multiplied channels follow torchvision's double product") {
  // Every width the text form accepts (",width=W": up to 6 decimals in (0, 4], so W = k / 10^6)
  // times every channel count of the tables. The exact rational rule agrees everywhere except
  // where the exact product v is 8m - 4 and the double product falls just below it: int(v + 4)
  // then floors to 8m - 1, and torchvision's network (Python floats, as make_divisible8) has the
  // smaller width. So the width path cannot be done in integers without changing these networks.
  std::vector<std::pair<int, int64_t>> differing;  // (channels, k)
  for (int channels : kTableChannels)
    for (int64_t k = 1; k <= 4000000; ++k) {
      const double width = static_cast<double>(k) / 1e6;  // = std::stod of the width's text
      if (make_divisible8(channels * width) != make_divisible8_exact(channels * k, 1000000))
        differing.emplace_back(channels, k);
    }
  const std::vector<std::pair<int, int64_t>> expected = {
      {200, 580000}, {200, 1140000}, {200, 2260000}, {200, 2300000},
      {240, 2050000}, {480, 1025000}, {960, 512500}, {960, 2112500}};
  REQUIRE(differing == expected);
  for (const auto& [channels, k] : differing) {
    CAPTURE(channels);
    CAPTURE(k);
    CHECK(make_divisible8(channels * (static_cast<double>(k) / 1e6)) + 8 ==
          make_divisible8_exact(channels * k, 1000000));
  }
  // The widths of the tests and docs (0.35, 0.5, 0.75, 1) are not among them.
  for (const auto& [channels, k] : differing)
    CHECK((k != 350000 && k != 500000 && k != 750000 && k != 1000000));
  // In a network: mobilenetv3-large at width 0.58, the 200-wide hidden layer (row 8 of Table 1)
  // is torchvision's 112 (200 * 0.58 = 115.99999999999999 in double; exactly 116 would give 120).
  const ArchSpec large = parse_arch("mobilenetv3-large,width=0.58");
  REQUIRE(large.blocks.size() == 15);
  CHECK(hidden_channels(large.blocks[7], large.blocks[6].out_channels) == 112);
}
