// depthwise_conv2d_s8 with channel multiplier against the independent int64 reference on
// thousands of random layers, plus argument checks and the accumulator limit.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/depthwise_conv2d_s8.h"

using namespace piconas;
using int8_ref::Dims;

namespace {

struct DwCase {
  int8_ref::ConvRef ref;
  Dims in{}, f{}, out{};
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias, mult, shift;
};

enum class DwVariant { Wrapper, Simd, Generic, Prechecked, PlanePrechecked };

int run(const DwCase& c, std::vector<int8_t>& y, DwVariant variant = DwVariant::Wrapper) {
  piconas_dw_conv_params p;
  p.input_offset = -c.ref.z_in;
  p.output_offset = c.ref.z_out;
  p.ch_mult = c.ref.ch_mult;
  p.stride = {c.ref.stride_h, c.ref.stride_w};
  p.padding = {c.ref.pad_h, c.ref.pad_w};
  p.dilation = {c.ref.dil_h, c.ref.dil_w};
  p.activation = {c.ref.act_min, c.ref.act_max};
  const piconas_per_channel_quant_params q{c.mult.data(), c.shift.data()};
  const piconas_dims in{c.in.n, c.in.h, c.in.w, c.in.c}, f{c.f.n, c.f.h, c.f.w, c.f.c},
      out{c.out.n, c.out.h, c.out.w, c.out.c};
  y.assign(static_cast<size_t>(c.out.size() > 0 ? c.out.size() : 1), 99);
  const int32_t* bias = c.bias.empty() ? nullptr : c.bias.data();
  switch (variant) {
    case DwVariant::Simd:
      return piconas_depthwise_conv2d_simd_s8(&p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out,
                                              y.data());
    case DwVariant::Prechecked:  // the export-time check, then the unchecked entry point
      if (piconas_depthwise_conv2d_s8_check(&p, &q, &in, &f, bias, &out) != PICONAS_S8_OK)
        return -102;
      return piconas_depthwise_conv2d_simd_prechecked_s8(&p, &q, &in, c.x.data(), &f, c.w.data(),
                                                         bias, &out, y.data());
    case DwVariant::PlanePrechecked:  // the same, for a layer the plane variant fits
      if (piconas_depthwise_conv2d_s8_check(&p, &q, &in, &f, bias, &out) != PICONAS_S8_OK)
        return -102;
      return piconas_depthwise_conv2d_simd_plane_prechecked_s8(&p, &q, &in, c.x.data(), &f,
                                                               c.w.data(), bias, &out, y.data());
    case DwVariant::Generic:
      return piconas_depthwise_conv2d_generic_s8(&p, &q, &in, c.x.data(), &f, c.w.data(), bias,
                                                 &out, y.data());
    default:
      return piconas_depthwise_conv2d_s8(&p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out,
                                         y.data());
  }
}

DwCase random_case(Rng& rng) {
  DwCase c;
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  c.ref.ch_mult = r(0, 2) == 0 ? r(2, 3) : 1;
  c.in = {r(1, 2), r(1, 9), r(1, 9), r(1, 8)};
  c.f = {1, r(1, 5), r(1, 5), c.in.c * c.ref.ch_mult};
  c.ref.stride_h = r(1, 3);
  c.ref.stride_w = r(1, 3);
  c.ref.dil_h = r(0, 3) == 0 ? r(2, 3) : 1;
  c.ref.dil_w = r(0, 3) == 0 ? r(2, 3) : 1;
  c.ref.pad_h = r(0, 3);
  c.ref.pad_w = r(0, 3);
  auto size = [](int in, int k, int s, int p, int d) {
    const int span = in + 2 * p - d * (k - 1) - 1;
    return span < 0 ? 1 : span / s + 1;
  };
  int oh = size(c.in.h, c.f.h, c.ref.stride_h, c.ref.pad_h, c.ref.dil_h);
  int ow = size(c.in.w, c.f.w, c.ref.stride_w, c.ref.pad_w, c.ref.dil_w);
  if (r(0, 4) == 0) oh = r(1, oh + 1);
  if (r(0, 4) == 0) ow = r(1, ow + 1);
  c.out = {c.in.n, oh, ow, c.f.c};
  c.ref.z_in = r(-128, 127);
  c.ref.z_out = r(-128, 127);
  int8_ref::random_activation(rng, c.ref.z_out, c.ref.act_min, c.ref.act_max);
  c.x = int8_ref::random_s8_vector(rng, c.in.size());
  c.w = int8_ref::random_s8_vector(rng, c.f.size());
  if (r(0, 9) != 0) {
    for (int o = 0; o < c.out.c; ++o) c.bias.push_back(int8_ref::random_bias(rng, c.f.h * c.f.w));
  }
  for (int o = 0; o < c.out.c; ++o) {
    c.mult.push_back(int8_ref::random_multiplier(rng));
    c.shift.push_back(int8_ref::random_shift(rng));
  }
  return c;
}

}  // namespace

TEST_CASE("depthwise_conv2d_s8: bit exact on 6000 random layers incl. channel multipliers") {
  Rng rng(4321);
  int64_t outputs = 0, multiplier_cases = 0;
  for (int i = 0; i < 6000; ++i) {
    const DwCase c = random_case(rng);
    std::vector<int8_t> expected, y;
    REQUIRE(int8_ref::depthwise_conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out,
                                       expected));
    INFO("case " << i << " in " << c.in.h << "x" << c.in.w << "x" << c.in.c << " k " << c.f.h << "x"
                 << c.f.w << " M " << c.ref.ch_mult);
    REQUIRE(run(c, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(run(c, y, DwVariant::Generic) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    outputs += c.out.size();
    multiplier_cases += c.ref.ch_mult > 1;
  }
  CHECK(multiplier_cases > 1000);
  MESSAGE("depthwise_conv2d_s8 outputs compared: " << outputs);
}

// The SIMD variant (M = 1): channel counts around its 4-channel step, 3x3 and other kernels,
// every stride / padding / dilation, batch > 1, full and clipped windows on both sides; 3x3
// layers on small images (the zero-point padded plane) and on images the plane does not fit
// (interior and border code).
TEST_CASE("depthwise_conv2d_simd_s8: bit exact vs the reference on 4000 random layers") {
  Rng rng(8765);
  int64_t outputs = 0, three_by_three = 0, plane = 0, beyond_plane = 0;
  for (int i = 0; i < 4000; ++i) {
    DwCase c = random_case(rng);
    auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
    c.ref.ch_mult = 1;
    c.in.c = r(0, 3) == 0 ? r(1, 9) : 4 * r(1, 4) + r(-1, 1);
    c.in.w = r(1, 12);
    if (r(0, 1) == 0) {
      c.f.h = c.f.w = 3;
      c.ref.dil_h = c.ref.dil_w = 1;
      c.ref.pad_h = r(0, 2);
      c.ref.pad_w = r(0, 2);
      if (r(0, 3) == 0) {  // larger than the plane variant's 1 KB for stride 1
        c.in.h = r(10, 20);
        c.in.w = r(14, 24);
      }
    }
    c.f.c = c.in.c;
    auto size = [](int in, int k, int s, int p, int d) {
      const int span = in + 2 * p - d * (k - 1) - 1;
      return span < 0 ? 1 : span / s + 1;
    };
    c.out = {c.in.n, size(c.in.h, c.f.h, c.ref.stride_h, c.ref.pad_h, c.ref.dil_h),
             size(c.in.w, c.f.w, c.ref.stride_w, c.ref.pad_w, c.ref.dil_w), c.in.c};
    c.x = int8_ref::random_s8_vector(rng, c.in.size());
    c.w = int8_ref::random_s8_vector(rng, c.f.size());
    c.mult.clear();
    c.shift.clear();
    for (int o = 0; o < c.out.c; ++o) {
      int32_t m = int8_ref::random_multiplier(rng);
      c.mult.push_back(m == int8_ref::kMin ? m + 1 : m);
      c.shift.push_back(r(0, 4) == 0 ? int8_ref::random_shift(rng) : r(-12, 2));
    }
    c.bias.clear();
    if (r(0, 9) != 0) {
      for (int o = 0; o < c.out.c; ++o)
        c.bias.push_back(int8_ref::random_simd_bias(rng, c.f.h * c.f.w, c.shift[o]));
    }
    std::vector<int8_t> expected, y;
    REQUIRE(int8_ref::depthwise_conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out,
                                       expected));
    INFO("case " << i << " n " << c.in.n << " in " << c.in.h << "x" << c.in.w << "x" << c.in.c
                 << " k " << c.f.h << "x" << c.f.w << " s " << c.ref.stride_h << ","
                 << c.ref.stride_w << " p " << c.ref.pad_h << "," << c.ref.pad_w << " d "
                 << c.ref.dil_h << "," << c.ref.dil_w);
    const piconas_dw_conv_params p{-c.ref.z_in, c.ref.z_out, 1, {}, {}, {}, {}};
    const piconas_per_channel_quant_params q{c.mult.data(), c.shift.data()};
    const piconas_dims f{c.f.n, c.f.h, c.f.w, c.f.c};
    const bool applies = piconas_depthwise_conv2d_simd_applies(
                             &p, &q, c.bias.empty() ? nullptr : c.bias.data(), &f) != 0;
    if (!applies) {
      REQUIRE(run(c, y, DwVariant::Simd) == PICONAS_S8_ERR_ARGUMENT);
      continue;
    }
    REQUIRE(run(c, y, DwVariant::Simd) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(run(c, y, DwVariant::Prechecked) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    piconas_dw_conv_params full = p;
    full.stride = {c.ref.stride_h, c.ref.stride_w};
    full.dilation = {c.ref.dil_h, c.ref.dil_w};
    const piconas_dims out{c.out.n, c.out.h, c.out.w, c.out.c};
    if (piconas_depthwise_conv2d_simd_plane_fits(&full, &f, &out) != 0) {
      REQUIRE(run(c, y, DwVariant::PlanePrechecked) == PICONAS_S8_OK);
      REQUIRE(y == expected);
      ++plane;
    } else {
      REQUIRE(run(c, y, DwVariant::PlanePrechecked) == PICONAS_S8_ERR_ARGUMENT);
      beyond_plane += c.f.h == 3 && c.f.w == 3;
    }
    outputs += c.out.size();
    three_by_three += c.f.h == 3 && c.f.w == 3;
  }
  CHECK(three_by_three > 1000);
  CHECK(plane > 1000);
  CHECK(beyond_plane > 200);
  MESSAGE("depthwise_conv2d_simd_s8 outputs compared: " << outputs);

  // INT32_MIN multipliers and M > 1 are not the SIMD variant's: refused, the wrapper falls back.
  DwCase c = random_case(rng);
  while (c.ref.ch_mult != 1) c = random_case(rng);
  std::vector<int8_t> expected, y;
  c.mult.back() = int8_ref::kMin;
  REQUIRE(int8_ref::depthwise_conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out,
                                     expected));
  CHECK(run(c, y, DwVariant::Simd) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(run(c, y) == PICONAS_S8_OK);
  CHECK(y == expected);
}

TEST_CASE("depthwise_conv2d_s8: golden 3x3 with padding, bad arguments and the MAC limit") {
  // 3x3 image of ones (z_in = 0), 3x3 filter of ones, pad 1: the corner sees 4 taps, the edge 6,
  // the centre 9; bias 1, M = 1.0 (2^30, shift 1), z_out = -10.
  DwCase c;
  c.in = {1, 3, 3, 1};
  c.f = {1, 3, 3, 1};
  c.out = {1, 3, 3, 1};
  c.ref.pad_h = c.ref.pad_w = 1;
  c.ref.z_out = -10;
  c.x.assign(9, 1);
  c.w.assign(9, 1);
  c.bias = {1};
  c.mult = {1 << 30};
  c.shift = {1};
  std::vector<int8_t> y;
  REQUIRE(run(c, y) == PICONAS_S8_OK);
  CHECK(y == std::vector<int8_t>{-5, -3, -5, -3, 0, -3, -5, -3, -5});

  DwCase bad = c;
  bad.ref.ch_mult = 2;  // output channels no longer C_in * M
  CHECK(run(bad, y) == PICONAS_S8_ERR_ARGUMENT);
  for (int8_t v : y) REQUIRE(v == 99);
  bad = c;
  bad.f.n = 2;
  CHECK(run(bad, y) == PICONAS_S8_ERR_ARGUMENT);
  bad = c;
  bad.ref.stride_w = 0;
  CHECK(run(bad, y) == PICONAS_S8_ERR_ARGUMENT);
  bad = c;
  bad.shift = {-32};
  CHECK(run(bad, y) == PICONAS_S8_ERR_ARGUMENT);
  bad = c;
  bad.ref.z_out = 128;
  CHECK(run(bad, y) == PICONAS_S8_ERR_ARGUMENT);

  // 257 x 256 taps > 2^16 MACs per output.
  DwCase big;
  big.in = {1, 257, 256, 1};
  big.f = {1, 257, 256, 1};
  big.out = {1, 1, 1, 1};
  big.x.assign(static_cast<size_t>(big.in.size()), 0);
  big.w.assign(static_cast<size_t>(big.f.size()), 0);
  big.mult = {1 << 30};
  big.shift = {0};
  CHECK(run(big, y) == PICONAS_S8_ERR_OVERFLOW);
  big.in.h = big.f.h = 256;
  CHECK(run(big, y) == PICONAS_S8_OK);
}
