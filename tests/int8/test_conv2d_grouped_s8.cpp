// conv2d_grouped_s8: bit exact against the independent int64 reference with groups
// (int8_ref::conv2d, ConvRef::groups) and against the dense conv whose filter is zero outside
// each output channel's group (what the exporter ran before the grouped kernel), on random
// shapes: groups 1-4, channels per group 1-7 (rarely a multiple of 4), strides, padding,
// dilation, cropped outputs, batch 2. Plus argument, scratch and no-write-on-error checks.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/conv2d_grouped_s8.h"
#include "ops/int8/conv2d_s8.h"

using namespace piconas;
using int8_ref::Dims;

namespace {

struct GroupedCase {
  int8_ref::ConvRef ref;
  Dims in{}, f{}, out{};  // f: [C_out, KH, KW, C_in / groups]
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias, mult, shift;

  piconas_conv_params params() const {
    piconas_conv_params p;
    p.input_offset = -ref.z_in;
    p.output_offset = ref.z_out;
    p.stride = {ref.stride_h, ref.stride_w};
    p.padding = {ref.pad_h, ref.pad_w};
    p.dilation = {ref.dil_h, ref.dil_w};
    p.activation = {ref.act_min, ref.act_max};
    return p;
  }
  piconas_per_channel_quant_params quant() const { return {mult.data(), shift.data()}; }
  const int32_t* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
};

piconas_dims to_c(const Dims& d) { return {d.n, d.h, d.w, d.c}; }

int out_size(int in, int k, int s, int p, int d) {
  const int span = in + 2 * p - d * (k - 1) - 1;
  return span < 0 ? 1 : span / s + 1;
}

GroupedCase random_case(Rng& rng) {
  GroupedCase c;
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  c.ref.groups = r(0, 5) == 0 ? 1 : r(2, 4);
  const int in_per_group = r(1, 7), out_per_group = r(1, 7);
  const bool pointwise = r(0, 2) == 0;
  c.in = {r(1, 2), r(1, 9), r(1, 9), c.ref.groups * in_per_group};
  c.f = {c.ref.groups * out_per_group, pointwise ? 1 : r(1, 3), pointwise ? 1 : r(1, 3),
         in_per_group};
  c.ref.stride_h = r(1, 3);
  c.ref.stride_w = r(1, 3);
  c.ref.dil_h = r(0, 4) == 0 ? 2 : 1;
  c.ref.dil_w = r(0, 4) == 0 ? 2 : 1;
  const bool no_pad = pointwise && r(0, 2) != 0;
  c.ref.pad_h = no_pad ? 0 : r(0, 2);
  c.ref.pad_w = no_pad ? 0 : r(0, 2);
  int oh = out_size(c.in.h, c.f.h, c.ref.stride_h, c.ref.pad_h, c.ref.dil_h);
  int ow = out_size(c.in.w, c.f.w, c.ref.stride_w, c.ref.pad_w, c.ref.dil_w);
  if (r(0, 4) == 0) oh = r(1, oh + 1);  // asymmetric (SAME-like) or cropped outputs
  if (r(0, 4) == 0) ow = r(1, ow + 1);
  c.out = {c.in.n, oh, ow, c.f.n};
  c.ref.z_in = r(-128, 127);
  c.ref.z_out = r(-128, 127);
  int8_ref::random_activation(rng, c.ref.z_out, c.ref.act_min, c.ref.act_max);
  c.x = int8_ref::random_s8_vector(rng, c.in.size());
  c.w = int8_ref::random_s8_vector(rng, c.f.size());
  // Biases the dense form accepts too (its accumulator bound counts all C_in channels).
  const int64_t macs = int64_t{c.f.h} * c.f.w * c.in.c;
  if (r(0, 9) != 0)
    for (int o = 0; o < c.f.n; ++o) c.bias.push_back(int8_ref::random_bias(rng, macs));
  for (int o = 0; o < c.f.n; ++o) {
    // Mostly multipliers the SIMD variants take (not INT32_MIN), so both variants run.
    const int32_t m = int8_ref::random_multiplier(rng);
    c.mult.push_back(m == int8_ref::kMin && r(0, 3) != 0 ? m + 1 : m);
    c.shift.push_back(r(0, 4) == 0 ? int8_ref::random_shift(rng) : r(-12, 2));
  }
  return c;
}

// The filter of the dense conv with zeros outside each output channel's group.
std::vector<int8_t> dense_filter(const GroupedCase& c) {
  std::vector<int8_t> dense(static_cast<size_t>(c.f.n) * c.f.h * c.f.w * c.in.c, 0);
  const int out_per_group = c.f.n / c.ref.groups;
  for (int o = 0; o < c.f.n; ++o)
    for (int k = 0; k < c.f.h * c.f.w; ++k)
      for (int i = 0; i < c.f.c; ++i)
        dense[(static_cast<size_t>(o) * c.f.h * c.f.w + k) * c.in.c + o / out_per_group * c.f.c +
              i] = c.w[(static_cast<size_t>(o) * c.f.h * c.f.w + k) * c.f.c + i];
  return dense;
}

int run_grouped(const GroupedCase& c, std::vector<int8_t>& y, int32_t extra_scratch = 0) {
  const piconas_conv_params p = c.params();
  const piconas_per_channel_quant_params q = c.quant();
  const piconas_dims in = to_c(c.in), f = to_c(c.f), out = to_c(c.out);
  const int32_t bytes =
      piconas_conv2d_grouped_s8_get_buffer_size(&p, &in, &f, &out, c.ref.groups) + extra_scratch;
  std::vector<int32_t> scratch(static_cast<size_t>(bytes > 0 ? bytes : 0) / 4 + 1);
  const piconas_s8_context ctx{scratch.data(), bytes};
  y.assign(static_cast<size_t>(c.out.size()), 99);
  return piconas_conv2d_grouped_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), c.bias_or_null(),
                                   &out, y.data(), c.ref.groups);
}

int run_dense(const GroupedCase& c, std::vector<int8_t>& y) {
  const piconas_conv_params p = c.params();
  const piconas_per_channel_quant_params q = c.quant();
  const std::vector<int8_t> w = dense_filter(c);
  const piconas_dims in = to_c(c.in), out = to_c(c.out);
  const piconas_dims f{c.f.n, c.f.h, c.f.w, c.in.c};
  const int32_t bytes = piconas_conv2d_s8_get_buffer_size(&p, &in, &f, &out);
  std::vector<int32_t> scratch(static_cast<size_t>(bytes) / 4 + 1);
  const piconas_s8_context ctx{scratch.data(), bytes};
  y.assign(static_cast<size_t>(c.out.size()), 99);
  return piconas_conv2d_s8(&ctx, &p, &q, &in, c.x.data(), &f, w.data(), c.bias_or_null(), &out,
                           y.data());
}

}  // namespace

TEST_CASE("conv2d_grouped_s8: bit exact with the reference and the dense conv on 3000 layers") {
  Rng rng(1717);
  int64_t outputs = 0, grouped_cases = 0, odd_channels = 0;
  for (int i = 0; i < 3000; ++i) {
    const GroupedCase c = random_case(rng);
    std::vector<int8_t> expected, y, dense;
    REQUIRE(int8_ref::conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out, expected));
    INFO("case " << i << " groups " << c.ref.groups << " in " << c.in.n << "x" << c.in.h << "x"
                 << c.in.w << "x" << c.in.c << " k " << c.f.h << "x" << c.f.w << " s "
                 << c.ref.stride_h << "x" << c.ref.stride_w << " p " << c.ref.pad_h << "x"
                 << c.ref.pad_w << " out " << c.out.h << "x" << c.out.w << "x" << c.out.c);
    REQUIRE(run_grouped(c, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(run_dense(c, dense) == PICONAS_S8_OK);
    REQUIRE(dense == expected);
    outputs += c.out.size();
    grouped_cases += c.ref.groups > 1;
    odd_channels += c.ref.groups > 1 && (c.f.c % 4 != 0 || c.f.n / c.ref.groups % 4 != 0);
  }
  CHECK(grouped_cases > 2000);
  CHECK(odd_channels > 1500);
  MESSAGE("conv2d_grouped_s8 outputs compared: " << outputs
                                                 << ", grouped layers: " << grouped_cases);
}

TEST_CASE("conv2d_grouped_s8: bad groups, dims and scratch are refused and nothing is written") {
  Rng rng(42);
  GroupedCase c;
  do c = random_case(rng);
  while (c.ref.groups < 2);
  const piconas_conv_params p = c.params();
  const piconas_per_channel_quant_params q = c.quant();
  const piconas_dims in = to_c(c.in), f = to_c(c.f), out = to_c(c.out);
  const int g = c.ref.groups;
  const int32_t bytes = piconas_conv2d_grouped_s8_get_buffer_size(&p, &in, &f, &out, g);
  REQUIRE(bytes > 0);
  std::vector<int32_t> scratch(static_cast<size_t>(bytes) / 4 + 2);
  std::vector<int8_t> y(static_cast<size_t>(c.out.size()), 99);
  const std::vector<int8_t> untouched = y;
  auto call = [&](const piconas_s8_context& ctx, const piconas_dims& fd, int groups) {
    return piconas_conv2d_grouped_s8(&ctx, &p, &q, &in, c.x.data(), &fd, c.w.data(),
                                     c.bias_or_null(), &out, y.data(), groups);
  };
  const piconas_s8_context ok{scratch.data(), bytes};
  CHECK(call(ok, f, 0) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(call(ok, f, g + 1) == PICONAS_S8_ERR_ARGUMENT);  // does not divide, or C_in/G mismatch
  piconas_dims dense_f = f;
  dense_f.c = in.c;
  CHECK(call(ok, dense_f, g) == PICONAS_S8_ERR_ARGUMENT);  // a dense filter with groups
  CHECK(call({scratch.data(), bytes - 1}, f, g) == PICONAS_S8_ERR_BUFFER);
  CHECK(call({reinterpret_cast<int8_t*>(scratch.data()) + 2, bytes}, f, g) ==
        PICONAS_S8_ERR_BUFFER);
  CHECK(call({nullptr, bytes}, f, g) == PICONAS_S8_ERR_BUFFER);
  CHECK(piconas_conv2d_grouped_s8_get_buffer_size(&p, &in, &f, &out, g + 1) == -1);
  CHECK(y == untouched);
  // An overflowing bias in the last group only: refused before group 0 is written.
  std::vector<int32_t> big(static_cast<size_t>(c.f.n), 0);
  big.back() = INT32_MAX;
  CHECK(piconas_conv2d_grouped_s8(&ok, &p, &q, &in, c.x.data(), &f, c.w.data(), big.data(), &out,
                                  y.data(), g) == PICONAS_S8_ERR_OVERFLOW);
  CHECK(piconas_conv2d_grouped_s8_check(&p, &q, &in, &f, big.data(), &out, g) ==
        PICONAS_S8_ERR_OVERFLOW);
  CHECK(y == untouched);
  CHECK(call(ok, f, g) == PICONAS_S8_OK);
  CHECK(y != untouched);
}
