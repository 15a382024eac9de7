// depthwise_conv2d_inplace_s8 (entry point, portable variant and planar SIMD variant) against
// the out-of-place depthwise_conv2d_s8 (itself checked against the int64 reference):
// byte-identical outputs on thousands of random layers (1x1..5x5 and 7x7 kernels, strides,
// dilations, paddings, odd sizes, one channel), nothing written outside the output, and the
// argument / scratch checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/depthwise_conv2d_inplace_s8.h"
#include "ops/int8/depthwise_conv2d_s8.h"

using namespace piconas;

namespace {

struct Layer {
  piconas_dw_conv_params p{};
  piconas_dims in{}, f{}, out{};
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias, mult, shift;
};

Layer random_layer(Rng& rng) {
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  Layer l;
  // One layer in ten is wide: too wide for the SIMD variant's stack ring of padded rows
  // (1 KB), so its border code runs.
  l.in = r(0, 9) == 0 ? piconas_dims{1, r(1, 4), r(350, 600), r(1, 2)}
                      : piconas_dims{1, r(1, 13), r(1, 13), r(1, 9)};
  const int k = r(0, 2) == 0 ? 3 : (r(0, 3) == 0 ? 7 : r(1, 5));
  l.f = {1, k, r(0, 3) == 0 ? r(1, 5) : k, l.in.c};
  l.p.ch_mult = 1;
  l.p.stride = {r(1, 3), r(1, 3)};
  l.p.dilation = {r(0, 3) == 0 ? r(2, 3) : 1, r(0, 3) == 0 ? r(2, 3) : 1};
  l.p.padding = {r(0, 2), r(0, 2)};
  auto size = [](int in, int k, int s, int p, int d) {
    const int span = in + 2 * p - d * (k - 1) - 1;
    return span < 0 ? 1 : span / s + 1;
  };
  int oh = size(l.in.h, l.f.h, l.p.stride.h, l.p.padding.h, l.p.dilation.h);
  int ow = size(l.in.w, l.f.w, l.p.stride.w, l.p.padding.w, l.p.dilation.w);
  // In place needs OH*OW <= H*W (padding can make the output larger: then shrink it).
  while (oh * ow > l.in.h * l.in.w) (oh > 1 ? oh : ow) -= 1;
  l.out = {1, oh, ow, l.in.c};
  const int z_in = r(-128, 127), z_out = r(-128, 127);
  l.p.input_offset = -z_in;
  l.p.output_offset = z_out;
  int32_t act_min, act_max;
  int8_ref::random_activation(rng, z_out, act_min, act_max);
  l.p.activation = {act_min, act_max};
  l.x = int8_ref::random_s8_vector(rng, static_cast<int64_t>(l.in.h) * l.in.w * l.in.c);
  l.w = int8_ref::random_s8_vector(rng, static_cast<int64_t>(l.f.h) * l.f.w * l.f.c);
  // Three layers in four have the small accumulators of the SIMD variant (realistic layers).
  const bool small = r(0, 3) != 0;
  for (int c = 0; c < l.in.c; ++c) {
    const int32_t m = int8_ref::random_multiplier(rng);
    l.mult.push_back(small && m == int8_ref::kMin ? m + 1 : m);
    l.shift.push_back(small && r(0, 4) != 0 ? r(-12, 2) : int8_ref::random_shift(rng));
  }
  if (r(0, 9) != 0) {
    for (int c = 0; c < l.in.c; ++c) {
      const int64_t macs = l.f.h * l.f.w;
      l.bias.push_back(small ? int8_ref::random_simd_bias(rng, macs, l.shift[static_cast<size_t>(c)])
                             : int8_ref::random_bias(rng, macs));
    }
  }
  return l;
}

enum class Variant { entry, generic, simd, prechecked };

// Runs in place on a buffer of max(in, out) bytes followed by a guard; returns the status.
int run_in_place(const Layer& l, std::vector<int8_t>& data, int32_t scratch_bytes,
                 Variant v = Variant::entry) {
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  std::vector<int8_t> scratch(static_cast<size_t>(std::max(scratch_bytes, 1)), 55);
  const piconas_s8_context ctx{scratch.data(), scratch_bytes};
  const int32_t* bias = l.bias.empty() ? nullptr : l.bias.data();
  switch (v) {
    case Variant::generic:
      return piconas_depthwise_conv2d_inplace_generic_s8(&ctx, &l.p, &q, &l.in, &l.f, l.w.data(),
                                                         bias, &l.out, data.data());
    case Variant::prechecked:  // the export-time check, then the unchecked entry point
      if (piconas_depthwise_conv2d_inplace_s8_check(&ctx, &l.p, &q, &l.in, &l.f, bias, &l.out) !=
          PICONAS_S8_OK)
        return -102;
      return piconas_depthwise_conv2d_inplace_simd_prechecked_s8(
          &ctx, &l.p, &q, &l.in, &l.f, l.w.data(), bias, &l.out, data.data());
    case Variant::simd:
      return piconas_depthwise_conv2d_inplace_simd_s8(&ctx, &l.p, &q, &l.in, &l.f, l.w.data(),
                                                      bias, &l.out, data.data());
    default:
      return piconas_depthwise_conv2d_inplace_s8(&ctx, &l.p, &q, &l.in, &l.f, l.w.data(), bias,
                                                 &l.out, data.data());
  }
}

bool simd_applies(const Layer& l) {
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  return piconas_depthwise_conv2d_inplace_simd_applies(
             &l.p, &q, l.bias.empty() ? nullptr : l.bias.data(), &l.f) != 0;
}

}  // namespace

TEST_CASE(
    "depthwise_conv2d_inplace_s8: byte-identical to the out-of-place kernel on 4000 random "
    "layers") {
  Rng rng(20261204);
  int strided = 0, simd = 0, simd_3x3 = 0, simd_7x7 = 0, simd_wide = 0;
  for (int t = 0; t < 4000; ++t) {
    const Layer l = random_layer(rng);
    CAPTURE(t);
    const size_t in_bytes = l.x.size();
    const size_t out_bytes = static_cast<size_t>(l.out.h) * l.out.w * l.out.c;
    std::vector<int8_t> expected(out_bytes, 99);
    const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
    const int ref_status = piconas_depthwise_conv2d_s8(
        &l.p, &q, &l.in, l.x.data(), &l.f, l.w.data(), l.bias.empty() ? nullptr : l.bias.data(),
        &l.out, expected.data());
    REQUIRE(ref_status == PICONAS_S8_OK);
    const size_t guard = 16;
    std::vector<int8_t> data(std::max(in_bytes, out_bytes) + guard, 77);
    std::copy(l.x.begin(), l.x.end(), data.begin());
    const int32_t scratch = piconas_depthwise_conv2d_inplace_s8_get_buffer_size(&l.in);
    REQUIRE(scratch == l.in.h * l.in.w);
    const std::vector<int8_t> initial = data;
    std::vector<Variant> variants{Variant::entry, Variant::generic};
    if (simd_applies(l)) variants.insert(variants.end(), {Variant::simd, Variant::prechecked});
    for (const Variant v : variants) {
      CAPTURE(static_cast<int>(v));
      data = initial;
      REQUIRE(run_in_place(l, data, scratch, v) == PICONAS_S8_OK);
      REQUIRE(std::equal(expected.begin(), expected.end(), data.begin()));
      for (size_t i = std::max(in_bytes, out_bytes); i < data.size(); ++i) REQUIRE(data[i] == 77);
    }
    strided += l.p.stride.h > 1 || l.p.stride.w > 1;
    if (simd_applies(l)) {
      ++simd;
      simd_3x3 += l.f.h == 3 && l.f.w == 3 && l.p.stride.w == 1 && l.out.w > 2;
      simd_7x7 += l.f.h == 7 && l.f.w == 7 && l.out.w > 2;
      simd_wide += l.in.w >= 350;
    }
  }
  CHECK(strided > 1000);
  CHECK(simd > 1500);
  CHECK(simd_3x3 > 120);
  CHECK(simd_7x7 > 50);
  CHECK(simd_wide > 150);
}

TEST_CASE("depthwise_conv2d_inplace_s8: refuses what it cannot do in place, before writing") {
  Rng rng(7);
  Layer l = random_layer(rng);
  l.in = {1, 6, 6, 3};
  l.f = {1, 3, 3, 3};
  l.out = {1, 6, 6, 3};
  l.p.stride = {1, 1};
  l.p.padding = {1, 1};
  l.p.dilation = {1, 1};
  l.x = int8_ref::random_s8_vector(rng, 6 * 6 * 3);
  l.w = int8_ref::random_s8_vector(rng, 27);
  l.bias.assign(3, 0);
  std::vector<int8_t> data(l.x.begin(), l.x.end());
  REQUIRE(run_in_place(l, data, 36) == PICONAS_S8_OK);
  std::vector<int8_t> before = data;
  CHECK(run_in_place(l, data, 35) == PICONAS_S8_ERR_BUFFER);  // scratch smaller than H*W
  {  // the _prechecked guard: scratch and pointers, nothing written
    const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
    std::vector<int8_t> scratch(36);
    const piconas_s8_context small{scratch.data(), 35}, enough{scratch.data(), 36};
    CHECK(piconas_depthwise_conv2d_inplace_simd_prechecked_s8(
              &small, &l.p, &q, &l.in, &l.f, l.w.data(), l.bias.data(), &l.out, data.data()) ==
          PICONAS_S8_ERR_BUFFER);
    CHECK(piconas_depthwise_conv2d_inplace_simd_prechecked_s8(
              &enough, &l.p, &q, &l.in, &l.f, nullptr, l.bias.data(), &l.out, data.data()) ==
          PICONAS_S8_ERR_ARGUMENT);
    CHECK(data == before);
  }
  Layer bigger = l;
  bigger.p.padding = {2, 2};
  bigger.out = {1, 8, 8, 3};  // more output pixels than input pixels
  CHECK(run_in_place(bigger, data, 36) == PICONAS_S8_ERR_ARGUMENT);
  Layer batch = l;
  batch.in.n = batch.out.n = 2;
  CHECK(run_in_place(batch, data, 36) == PICONAS_S8_ERR_ARGUMENT);
  Layer mult = l;
  mult.p.ch_mult = 2;
  CHECK(run_in_place(mult, data, 36) == PICONAS_S8_ERR_ARGUMENT);
  Layer dilated = l;
  dilated.p.dilation = {2, 1};
  dilated.out = {1, 4, 6, 3};
  CHECK(!simd_applies(dilated));
  CHECK(run_in_place(dilated, data, 36, Variant::simd) == PICONAS_S8_ERR_ARGUMENT);
  Layer big_kernel = l;
  big_kernel.f = {1, 9, 1, 3};
  big_kernel.p.padding = {4, 0};
  big_kernel.out = {1, 6, 6, 3};
  big_kernel.w.assign(27, 1);
  CHECK(!simd_applies(big_kernel));
  CHECK(run_in_place(big_kernel, data, 36, Variant::simd) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(data == before);
  for (const Layer* portable_only : {&dilated, &big_kernel}) {  // the entry point takes them
    std::vector<int8_t> copy = before;
    CHECK(run_in_place(*portable_only, copy, 36) == PICONAS_S8_OK);
  }
  const piconas_dims bad{1, 0, 4, 2};
  CHECK(piconas_depthwise_conv2d_inplace_s8_get_buffer_size(&bad) == -1);
}
