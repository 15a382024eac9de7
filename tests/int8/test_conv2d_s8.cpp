// conv2d_s8: the wrapper and both variants (1x1, generic) against the independent int64
// reference on thousands of random shapes and quantization parameters, plus argument checks,
// scratch-size checks and the accumulator limit.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/conv2d_packed_s8.h"
#include "ops/int8/conv2d_s8.h"

using namespace piconas;
using int8_ref::Dims;

namespace {

struct ConvCase {
  int8_ref::ConvRef ref;
  Dims in{}, f{}, out{};
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
};

piconas_dims to_c(const Dims& d) { return {d.n, d.h, d.w, d.c}; }

int out_size(int in, int k, int s, int p, int d) {
  const int span = in + 2 * p - d * (k - 1) - 1;
  return span < 0 ? 1 : span / s + 1;
}

ConvCase random_case(Rng& rng) {
  ConvCase c;
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  const bool pointwise = r(0, 2) == 0;
  c.in = {r(1, 2), r(1, 8), r(1, 8), r(1, 6)};
  c.f = {r(1, 6), pointwise ? 1 : r(1, 4), pointwise ? 1 : r(1, 4), c.in.c};
  c.ref.stride_h = r(1, 3);
  c.ref.stride_w = r(1, 3);
  c.ref.dil_h = r(0, 2) == 0 ? r(2, 3) : 1;
  c.ref.dil_w = r(0, 2) == 0 ? r(2, 3) : 1;
  const bool no_pad = pointwise && r(0, 3) != 0;
  c.ref.pad_h = no_pad ? 0 : r(0, 3);
  c.ref.pad_w = no_pad ? 0 : r(0, 3);
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
  const int64_t macs = int64_t{c.f.h} * c.f.w * c.f.c;
  if (r(0, 9) != 0) {
    for (int o = 0; o < c.f.n; ++o) c.bias.push_back(int8_ref::random_bias(rng, macs));
  }
  for (int o = 0; o < c.f.n; ++o) {
    c.mult.push_back(int8_ref::random_multiplier(rng));
    c.shift.push_back(int8_ref::random_shift(rng));
  }
  return c;
}

bool is_1x1(const ConvCase& c) {
  return c.f.h == 1 && c.f.w == 1 && c.ref.pad_h == 0 && c.ref.pad_w == 0 &&
         (c.out.h - 1) * c.ref.stride_h < c.in.h && (c.out.w - 1) * c.ref.stride_w < c.in.w;
}

enum class Variant {
  Wrapper,
  Pointwise,
  Generic,
  PointwiseSimd,
  Im2colSimd,
  Packed,
  PointwisePrechecked,
  Im2colPrechecked,
  PackedPrechecked
};

int run(const ConvCase& c, Variant variant, std::vector<int8_t>& y, int32_t buffer_bytes = -1) {
  const piconas_conv_params p = c.params();
  const piconas_per_channel_quant_params q = c.quant();
  const piconas_dims in = to_c(c.in), f = to_c(c.f), out = to_c(c.out);
  if (buffer_bytes < 0) {
    buffer_bytes = variant == Variant::Generic
                       ? static_cast<int32_t>(c.f.h * c.f.w * c.f.c * sizeof(int16_t))
                   : variant == Variant::Packed || variant == Variant::PackedPrechecked
                       ? piconas_conv2d_packed_s8_get_buffer_size(&f)
                       : piconas_conv2d_s8_get_buffer_size(&p, &in, &f, &out);
  }
  std::vector<int32_t> scratch(static_cast<size_t>(buffer_bytes) / 4 + 1);
  const piconas_s8_context ctx{scratch.data(), buffer_bytes};
  y.assign(static_cast<size_t>(c.out.size()), 99);
  const int32_t* bias = c.bias.empty() ? nullptr : c.bias.data();
  switch (variant) {
    case Variant::Wrapper:
      return piconas_conv2d_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out, y.data());
    case Variant::Pointwise:
      return piconas_conv2d_1x1_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out,
                                   y.data());
    case Variant::Generic:
      return piconas_conv2d_generic_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out,
                                       y.data());
    case Variant::PointwiseSimd:
      return piconas_conv2d_1x1_simd_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), bias, &out,
                                        y.data());
    case Variant::Im2colSimd:
      return piconas_conv2d_im2col_simd_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(), bias,
                                           &out, y.data());
    case Variant::PointwisePrechecked:
      return piconas_conv2d_1x1_simd_prechecked_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(),
                                                   bias, &out, y.data());
    case Variant::Im2colPrechecked:
      return piconas_conv2d_im2col_simd_prechecked_s8(&ctx, &p, &q, &in, c.x.data(), &f, c.w.data(),
                                                      bias, &out, y.data());
    case Variant::Packed:
    case Variant::PackedPrechecked: {
      // int32 storage: the packed filter is read as words (4-byte aligned).
      std::vector<int32_t> packed(static_cast<size_t>(piconas_conv2d_packed_weights_size(&f)) / 4);
      int8_t* bytes = reinterpret_cast<int8_t*>(packed.data());
      if (piconas_conv2d_pack_s8(&f, c.w.data(), bytes) != PICONAS_S8_OK) return -101;
      if (variant == Variant::PackedPrechecked)
        return piconas_conv2d_packed_prechecked_s8(&ctx, &p, &q, &in, c.x.data(), &f, bytes, bias,
                                                   &out, y.data());
      return piconas_conv2d_packed_s8(&ctx, &p, &q, &in, c.x.data(), &f, bytes, bias, &out,
                                      y.data());
    }
  }
  return -100;
}

}  // namespace

TEST_CASE("conv2d_s8: wrapper, 1x1 and generic are bit exact on 6000 random layers") {
  Rng rng(1234);
  int64_t outputs = 0, pointwise_cases = 0;
  for (int i = 0; i < 6000; ++i) {
    const ConvCase c = random_case(rng);
    std::vector<int8_t> expected, y;
    REQUIRE(int8_ref::conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out, expected));
    INFO("case " << i << " in " << c.in.h << "x" << c.in.w << "x" << c.in.c << " k " << c.f.h << "x"
                 << c.f.w << " out " << c.out.h << "x" << c.out.w << "x" << c.out.c);
    REQUIRE(run(c, Variant::Wrapper, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    REQUIRE(run(c, Variant::Generic, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    if (is_1x1(c)) {
      ++pointwise_cases;
      REQUIRE(run(c, Variant::Pointwise, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
      outputs += c.out.size();
    } else {
      REQUIRE(run(c, Variant::Pointwise, y) == PICONAS_S8_ERR_ARGUMENT);
    }
    outputs += 2 * c.out.size();
  }
  CHECK(pointwise_cases > 1000);
  MESSAGE("conv2d_s8 outputs compared: " << outputs << ", 1x1 cases: " << pointwise_cases);
}

// The SIMD variants: channel counts around the 4-value groups (1, 3, 4, 5, 7, 8, 9, ...), odd
// output channels, more than 64 output channels, odd pixel counts, every stride / padding /
// dilation, batch > 1.
TEST_CASE("conv2d_s8: 1x1 and im2col SIMD variants bit exact on 4000 random layers") {
  Rng rng(5678);
  int64_t outputs = 0, pointwise_cases = 0, packed_cases = 0;
  for (int i = 0; i < 4000; ++i) {
    ConvCase c = random_case(rng);
    auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
    const int cin = r(0, 2) == 0 ? r(1, 9) : 4 * r(1, 4) + r(-1, 1);
    c.in.c = c.f.c = cin;
    // 1 in 20: more output channels than one 64-channel chunk of the SIMD requantization table.
    c.f.n = c.out.c = r(0, 19) == 0 ? r(65, 140) : (r(0, 2) == 0 ? r(1, 5) : 2 * r(1, 8) + r(0, 1));
    c.x = int8_ref::random_s8_vector(rng, c.in.size());
    c.w = int8_ref::random_s8_vector(rng, c.f.size());
    const int64_t macs = int64_t{c.f.h} * c.f.w * c.f.c;
    c.mult.clear();
    c.shift.clear();
    for (int o = 0; o < c.f.n; ++o) {
      const int32_t m = int8_ref::random_multiplier(rng);
      c.mult.push_back(m == int8_ref::kMin ? m + 1 : m);
      c.shift.push_back(r(0, 4) == 0 ? int8_ref::random_shift(rng) : r(-12, 2));
    }
    c.bias.clear();
    if (r(0, 9) != 0) {
      for (int o = 0; o < c.f.n; ++o)
        c.bias.push_back(int8_ref::random_simd_bias(rng, macs, c.shift[o]));
    }
    std::vector<int8_t> expected, y;
    REQUIRE(int8_ref::conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out, expected));
    INFO("case " << i << " n " << c.in.n << " in " << c.in.h << "x" << c.in.w << "x" << c.in.c
                 << " k " << c.f.h << "x" << c.f.w << " out " << c.out.h << "x" << c.out.w << "x"
                 << c.out.c);
    const piconas_per_channel_quant_params q = c.quant();
    const piconas_dims f = to_c(c.f);
    if (!piconas_conv2d_simd_applies(&q, c.bias.empty() ? nullptr : c.bias.data(), &f)) {
      REQUIRE(run(c, Variant::Im2colSimd, y) == PICONAS_S8_ERR_ARGUMENT);
      continue;
    }
    REQUIRE(run(c, Variant::Im2colSimd, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    // The export-time check accepts what the checked variants run; the _prechecked variants
    // then write the same bytes.
    const piconas_conv_params p = c.params();
    const piconas_dims in = to_c(c.in), out = to_c(c.out);
    const int32_t* bias = c.bias.empty() ? nullptr : c.bias.data();
    REQUIRE(piconas_conv2d_s8_check(&p, &q, &in, &f, bias, &out) == PICONAS_S8_OK);
    REQUIRE(run(c, Variant::Im2colPrechecked, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
    if (piconas_conv2d_packed_applies(&q, c.bias.empty() ? nullptr : c.bias.data(), &f)) {
      ++packed_cases;
      REQUIRE(run(c, Variant::Packed, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
      REQUIRE(piconas_conv2d_packed_s8_check(&p, &q, &in, &f, bias, &out) == PICONAS_S8_OK);
      REQUIRE(run(c, Variant::PackedPrechecked, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
    } else {
      REQUIRE(piconas_conv2d_packed_s8_check(&p, &q, &in, &f, bias, &out) != PICONAS_S8_OK);
      REQUIRE(run(c, Variant::Packed, y) == PICONAS_S8_ERR_ARGUMENT);
    }
    if (is_1x1(c)) {
      ++pointwise_cases;
      REQUIRE(run(c, Variant::PointwiseSimd, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
      REQUIRE(run(c, Variant::PointwisePrechecked, y) == PICONAS_S8_OK);
      REQUIRE(y == expected);
    } else {
      REQUIRE(run(c, Variant::PointwiseSimd, y) == PICONAS_S8_ERR_ARGUMENT);
    }
    outputs += c.out.size();
  }
  CHECK(pointwise_cases > 400);
  CHECK(packed_cases > 2000);
  MESSAGE("conv2d SIMD outputs compared: " << outputs << ", 1x1 cases: " << pointwise_cases
                                           << ", packed cases: " << packed_cases);
}

// The packed kernel folds the output offset into its rounding constant: exact down to shift -21
// with the extreme output offsets and accumulators at the SIMD limit; shift -22 is refused.
TEST_CASE("conv2d_s8: packed kernel at its shift bound") {
  Rng rng(4321);
  int cases = 0;
  for (int i = 0; i < 600; ++i) {
    ConvCase c = random_case(rng);
    const int shift = -21 + static_cast<int>(rng.uniform_int(0, 3)) - (i % 50 == 0 ? 1 : 0);
    c.ref.z_out = rng.uniform_int(0, 1) ? 127 : -128;
    c.ref.act_min = -128;
    c.ref.act_max = 127;
    const int64_t macs = int64_t{c.f.h} * c.f.w * c.f.c;
    c.shift.assign(c.mult.size(), shift);
    for (int32_t& m : c.mult) m = m == int8_ref::kMin ? m + 1 : m;
    c.bias.clear();
    for (int o = 0; o < c.f.n; ++o) c.bias.push_back(int8_ref::random_simd_bias(rng, macs, shift));
    const piconas_per_channel_quant_params q = c.quant();
    const piconas_dims f = to_c(c.f);
    std::vector<int8_t> expected, y;
    REQUIRE(int8_ref::conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out, expected));
    const bool applies = piconas_conv2d_packed_applies(&q, c.bias.data(), &f) != 0;
    if (shift < PICONAS_S8_PACKED_MIN_SHIFT) {
      REQUIRE(!applies);
      REQUIRE(run(c, Variant::Packed, y) == PICONAS_S8_ERR_ARGUMENT);
      for (int8_t v : y) REQUIRE(v == 99);
      continue;
    }
    if (!applies) continue;
    ++cases;
    REQUIRE(run(c, Variant::Packed, y) == PICONAS_S8_OK);
    REQUIRE(y == expected);
  }
  CHECK(cases > 300);
}

TEST_CASE("conv2d_s8: scratch size, missing scratch and bad arguments are refused untouched") {
  Rng rng(99);
  ConvCase c = random_case(rng);
  while (is_1x1(c)) c = random_case(rng);
  const piconas_conv_params p = c.params();
  const piconas_dims in = to_c(c.in), f = to_c(c.f), out = to_c(c.out);
  const int32_t need = piconas_conv2d_s8_get_buffer_size(&p, &in, &f, &out);
  const int32_t generic_need = c.f.h * c.f.w * c.f.c * 2;
  CHECK(need == 2 * generic_need);  // the SIMD variant's two im2col columns
  std::vector<int8_t> y;
  CHECK(run(c, Variant::Generic, y, generic_need - 1) == PICONAS_S8_ERR_BUFFER);
  for (int8_t v : y) REQUIRE(v == 99);
  c.mult.assign(c.mult.size(), 1 << 30);
  c.shift.assign(c.shift.size(), -1);
  c.bias.assign(c.mult.size(), 7);
  CHECK(run(c, Variant::Im2colSimd, y, need - 1) == PICONAS_S8_ERR_BUFFER);
  for (int8_t v : y) REQUIRE(v == 99);
  CHECK(run(c, Variant::Wrapper, y, need) == PICONAS_S8_OK);

  ConvCase pw = c;
  pw.f = {2, 1, 1, c.in.c};
  pw.ref = {};
  pw.out = {c.in.n, c.in.h, c.in.w, 2};
  pw.w.assign(static_cast<size_t>(pw.f.size()), 3);
  pw.bias.assign(2, 5);
  const piconas_conv_params pp = pw.params();
  const piconas_dims pf = to_c(pw.f), pout = to_c(pw.out);
  const int32_t pointwise_need = 2 * c.in.c * 2;  // two pixels of C_in int16
  CHECK(piconas_conv2d_s8_get_buffer_size(&pp, &in, &pf, &pout) == pointwise_need);
  CHECK(run(pw, Variant::Wrapper, y, pointwise_need - 1) == PICONAS_S8_ERR_BUFFER);
  CHECK(run(pw, Variant::Pointwise, y, pointwise_need - 1) == PICONAS_S8_ERR_BUFFER);
  CHECK(run(pw, Variant::Wrapper, y, pointwise_need) == PICONAS_S8_OK);

  // The _prechecked variants guard the scratch and the pointers only.
  CHECK(run(c, Variant::Im2colPrechecked, y, need - 1) == PICONAS_S8_ERR_BUFFER);
  for (int8_t v : y) REQUIRE(v == 99);
  CHECK(run(c, Variant::PackedPrechecked, y, piconas_conv2d_packed_s8_get_buffer_size(&f) - 1) ==
        PICONAS_S8_ERR_BUFFER);
  for (int8_t v : y) REQUIRE(v == 99);
  CHECK(run(pw, Variant::PointwisePrechecked, y, pointwise_need - 1) == PICONAS_S8_ERR_BUFFER);
  {
    const piconas_per_channel_quant_params cq = c.quant();
    std::vector<int32_t> scratch(static_cast<size_t>(need) / 4 + 1);
    const piconas_s8_context ctx{scratch.data(), need};
    std::vector<int8_t> out_bytes(static_cast<size_t>(c.out.size()), 99);
    CHECK(piconas_conv2d_im2col_simd_prechecked_s8(&ctx, &p, &cq, &in, nullptr, &f, c.w.data(),
                                                   nullptr, &out,
                                                   out_bytes.data()) == PICONAS_S8_ERR_ARGUMENT);
    CHECK(piconas_conv2d_1x1_simd_prechecked_s8(&ctx, &p, nullptr, &in, c.x.data(), &f, c.w.data(),
                                                nullptr, &out,
                                                out_bytes.data()) == PICONAS_S8_ERR_ARGUMENT);
    for (int8_t v : out_bytes) REQUIRE(v == 99);
  }

  auto expect_refused = [&](ConvCase bad) {
    std::vector<int8_t> out_bytes;
    CHECK(run(bad, Variant::Wrapper, out_bytes, 1 << 16) == PICONAS_S8_ERR_ARGUMENT);
    for (int8_t v : out_bytes) REQUIRE(v == 99);
    // The export-time check refuses it as the wrapper does.
    const piconas_conv_params bp = bad.params();
    const piconas_per_channel_quant_params bq = bad.quant();
    const piconas_dims bin = to_c(bad.in), bf = to_c(bad.f), bout = to_c(bad.out);
    CHECK(piconas_conv2d_s8_check(&bp, &bq, &bin, &bf, bad.bias.empty() ? nullptr : bad.bias.data(),
                                  &bout) == PICONAS_S8_ERR_ARGUMENT);
  };
  ConvCase bad = c;
  bad.ref.stride_h = 0;
  expect_refused(bad);
  bad = c;
  bad.ref.dil_w = 0;
  expect_refused(bad);
  bad = c;
  bad.ref.pad_h = -1;
  expect_refused(bad);
  bad = c;
  bad.ref.dil_h = int8_ref::kMax;  // window positions would leave int32
  expect_refused(bad);
  bad = c;
  bad.ref.z_in = 128;  // input_offset -128 is outside [-127, 128]
  expect_refused(bad);
  bad = c;
  bad.ref.act_min = 10;
  bad.ref.act_max = 9;
  expect_refused(bad);
  bad = c;
  bad.shift[0] = 32;
  expect_refused(bad);
  bad = c;
  bad.out.c += 1;  // filter C_out mismatch
  bad.mult.push_back(0);
  bad.shift.push_back(0);
  expect_refused(bad);
  bad = c;
  bad.out.n += 1;
  expect_refused(bad);
  std::vector<int8_t> dummy(4);
  const piconas_per_channel_quant_params q = c.quant();
  CHECK(piconas_conv2d_s8(nullptr, &p, &q, &in, nullptr, &f, c.w.data(), nullptr, &out,
                          dummy.data()) == PICONAS_S8_ERR_ARGUMENT);
}

TEST_CASE("conv2d_s8: 2^16 MACs at the worst-case magnitude are exact, more are refused") {
  // 8x8x1024 = 65536 taps of w = -128 times (127 - z_in) = 255; bias at the limit:
  // acc = -8388607 - 2139095040 = -2147483647, one above INT32_MIN.
  ConvCase c;
  c.in = {1, 8, 8, 1024};
  c.f = {1, 8, 8, 1024};
  c.out = {1, 1, 1, 1};
  c.ref.z_in = -128;
  c.x.assign(static_cast<size_t>(c.in.size()), 127);
  c.w.assign(static_cast<size_t>(c.f.size()), -128);
  c.bias = {-8388607};
  c.mult = {1 << 30};
  c.shift = {-24};
  std::vector<int8_t> expected, y;
  REQUIRE(int8_ref::conv2d(c.ref, c.in, c.x, c.f, c.w, c.bias, c.mult, c.shift, c.out, expected));
  CHECK(expected[0] == -64);  // -2147483647 / 2^25 = -63.99999997
  REQUIRE(run(c, Variant::Generic, y) == PICONAS_S8_OK);
  CHECK(y == expected);
  c.bias = {-8388608};
  CHECK(run(c, Variant::Generic, y) == PICONAS_S8_ERR_OVERFLOW);
  c.bias = {8388608};
  CHECK(run(c, Variant::Wrapper, y) == PICONAS_S8_ERR_OVERFLOW);
  c.bias.clear();
  c.in.c = c.f.c = 1025;  // 65600 MACs
  c.x.assign(static_cast<size_t>(c.in.size()), 0);
  c.w.assign(static_cast<size_t>(c.f.size()), 0);
  CHECK(run(c, Variant::Generic, y, 1 << 18) == PICONAS_S8_ERR_OVERFLOW);
}
