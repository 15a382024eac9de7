// conv2d_1x1_inplace_s8 against the out-of-place conv2d_s8: byte-identical
// outputs on random 1x1 layers with the output overwriting the input (C_out <=
// C_in: same start; C_out > C_in: input at the output's tail), disjoint
// buffers, strips of 1..N pixels; the placement rule refuses offsets that would
// overwrite unread input (and such an offset does corrupt the result when the
// strips run anyway), and the scratch checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/conv2d_s8.h"

using namespace piconas;

namespace {

struct Layer {
  piconas_conv_params p{};
  piconas_dims in{}, f{}, out{};
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias, mult, shift;
  int64_t in_bytes() const { return int64_t{in.h} * in.w * in.c; }
  int64_t out_bytes() const { return int64_t{out.h} * out.w * out.c; }
};

Layer random_layer(Rng &rng, int in_c, int out_c) {
  auto r = [&](int lo, int hi) { return static_cast<int>(rng.uniform_int(lo, hi)); };
  Layer l;
  l.in = {1, r(1, 9), r(1, 11), in_c};
  l.f = {out_c, 1, 1, in_c};
  l.out = {1, l.in.h, l.in.w, out_c};
  l.p.stride = {1, 1};
  l.p.dilation = {1, 1};
  const int z_in = r(-128, 127), z_out = r(-128, 127);
  l.p.input_offset = -z_in;
  l.p.output_offset = z_out;
  int32_t lo, hi;
  int8_ref::random_activation(rng, z_out, lo, hi);
  l.p.activation = {lo, hi};
  l.x = int8_ref::random_s8_vector(rng, l.in_bytes());
  l.w = int8_ref::random_s8_vector(rng, int64_t{out_c} * in_c);
  const bool small = r(0, 3) != 0;  // the SIMD variant's accumulators (realistic layers)
  for (int c = 0; c < out_c; ++c) {
    const int32_t m = int8_ref::random_multiplier(rng);
    l.mult.push_back(small && m == int8_ref::kMin ? m + 1 : m);
    l.shift.push_back(small ? r(-12, 2) : int8_ref::random_shift(rng));
    l.bias.push_back(small ? int8_ref::random_simd_bias(rng, in_c, l.shift.back())
                           : int8_ref::random_bias(rng, in_c));
  }
  return l;
}

std::vector<int8_t> out_of_place(const Layer &l) {
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  std::vector<int16_t> scratch(
      static_cast<size_t>(piconas_conv2d_s8_get_buffer_size(&l.p, &l.in, &l.f, &l.out)) / 2 + 1);
  const piconas_s8_context ctx{scratch.data(), static_cast<int32_t>(scratch.size() * 2)};
  std::vector<int8_t> y(static_cast<size_t>(l.out_bytes()));
  REQUIRE(piconas_conv2d_s8(&ctx, &l.p, &q, &l.in, l.x.data(), &l.f, l.w.data(), l.bias.data(),
                            &l.out, y.data()) == PICONAS_S8_OK);
  return y;
}

// Runs the in-place kernel on one buffer (guard bytes around it) with the input
// at in_at and the output at out_at; returns the status, the output in y and
// whether the guards survived.
int run_overlapping(const Layer &l, int64_t in_at, int64_t out_at, int32_t strip,
                    std::vector<int8_t> &y, bool &guards_ok) {
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  const int64_t guard = 64;
  const int64_t size = std::max(in_at + l.in_bytes(), out_at + l.out_bytes());
  std::vector<int8_t> buf(static_cast<size_t>(size + 2 * guard), 77);
  std::copy(l.x.begin(), l.x.end(), buf.begin() + guard + in_at);
  const int32_t need = piconas_conv2d_1x1_inplace_s8_get_buffer_size(&l.p, &l.in, &l.f, strip);
  REQUIRE(need > 0);
  std::vector<int32_t> scratch(static_cast<size_t>(need) / 4 + 1);
  const piconas_s8_context ctx{scratch.data(), need};
  const int status = piconas_conv2d_1x1_inplace_s8(
      &ctx, &l.p, &q, &l.in, buf.data() + guard + in_at, &l.f, l.w.data(), l.bias.data(), &l.out,
      buf.data() + guard + out_at, strip);
  y.assign(buf.begin() + guard + out_at, buf.begin() + guard + out_at + l.out_bytes());
  guards_ok = std::all_of(buf.begin(), buf.begin() + guard, [](int8_t b) { return b == 77; }) &&
              std::all_of(buf.end() - guard, buf.end(), [](int8_t b) { return b == 77; });
  return status;
}

}  // namespace

TEST_CASE(
    "conv2d_1x1_inplace_s8: byte-identical to conv2d_s8 with the output "
    "over the input") {
  Rng rng(1101);
  int cases = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const int in_c = static_cast<int>(rng.uniform_int(1, 40)),
              out_c = static_cast<int>(rng.uniform_int(1, 40));
    const Layer l = random_layer(rng, in_c, out_c);
    const std::vector<int8_t> expected = out_of_place(l);
    const int32_t pixels = l.in.h * l.in.w;
    const int32_t strip =
        trial % 4 == 0 ? pixels : static_cast<int32_t>(rng.uniform_int(1, std::min(pixels, 20)));
    // C_out <= C_in: same start; C_out > C_in: the input at the output's tail;
    // and disjoint.
    const int64_t tail = std::max<int64_t>(0, l.out_bytes() - l.in_bytes());
    const int64_t in_at = out_c > in_c ? tail : 0, out_at = 0;
    std::vector<int8_t> y;
    bool guards_ok = false;
    CAPTURE(trial);
    CAPTURE(in_c);
    CAPTURE(out_c);
    CAPTURE(strip);
    REQUIRE(run_overlapping(l, in_at, out_at, strip, y, guards_ok) == PICONAS_S8_OK);
    CHECK(guards_ok);
    CHECK(y == expected);
    REQUIRE(run_overlapping(l, 0, l.in_bytes() + 4, strip, y, guards_ok) == PICONAS_S8_OK);
    CHECK(y == expected);
    ++cases;
  }
  CHECK(cases == 600);
}

TEST_CASE("conv2d_1x1_inplace_s8: the placement rule") {
  const int8_t *base = reinterpret_cast<const int8_t *>(uintptr_t{4096});
  // C_out <= C_in: the output may start at the input or before it, not one byte
  // after.
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base, 8, 100, 16) == 1);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base, 16, 100, 16) == 1);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base + 1, 16, 100, 16) == 0);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base - 1, 16, 100, 16) == 1);
  // C_in = 16 -> C_out = 8 over one strip of 10 pixels: the output may end 80
  // bytes in, the first unread pixel at 160: an output 80 bytes later just
  // fits, 81 do not.
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base + 80, 8, 10, 10) == 1);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 16, base + 81, 8, 10, 10) == 0);
  // C_out > C_in: the input at the output's tail (6 -> 24 channels, 50 pixels),
  // not one byte earlier.
  const int64_t tail = 50 * (24 - 6);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base + tail, 6, base, 24, 50, 7) == 1);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base + tail - 1, 6, base, 24, 50, 7) == 0);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 6, base, 24, 50, 7) == 0);  // the same start
  // Disjoint buffers in either order.
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base, 6, base + 300, 24, 50, 7) == 1);
  CHECK(piconas_conv2d_1x1_inplace_placement_ok(base + 1200, 6, base, 24, 50, 7) == 1);
}

TEST_CASE(
    "conv2d_1x1_inplace_s8: a wrong offset is refused, and would corrupt "
    "the output") {
  Rng rng(1102);
  const Layer l = random_layer(rng, 12, 12);
  const std::vector<int8_t> expected = out_of_place(l);
  std::vector<int8_t> y;
  bool guards_ok = false;
  // One pixel too far: the first strip's output lands on unread input.
  CHECK(run_overlapping(l, 0, 12, 4, y, guards_ok) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(guards_ok);
  // The same strips run by hand without the rule (conv2d_s8 per strip, then the
  // copy) differ.
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  std::vector<int8_t> buf(static_cast<size_t>(l.in_bytes() + 12));
  std::copy(l.x.begin(), l.x.end(), buf.begin());
  std::vector<int16_t> scratch(256);
  std::vector<int8_t> strip_out(4 * 12);
  const piconas_s8_context ctx{scratch.data(), 512};
  const int32_t pixels = l.in.h * l.in.w;
  for (int32_t p = 0; p < pixels; p += 4) {
    const int32_t n = std::min(4, pixels - p);
    const piconas_dims in{1, 1, n, 12}, out{1, 1, n, 12};
    REQUIRE(piconas_conv2d_s8(&ctx, &l.p, &q, &in, buf.data() + p * 12, &l.f, l.w.data(),
                              l.bias.data(), &out, strip_out.data()) == PICONAS_S8_OK);
    std::memcpy(buf.data() + 12 + p * 12, strip_out.data(), static_cast<size_t>(n) * 12);
  }
  if (pixels > 4) CHECK(std::vector<int8_t>(buf.begin() + 12, buf.end()) != expected);
}

TEST_CASE("conv2d_1x1_inplace_s8: argument and scratch checks") {
  Rng rng(1103);
  Layer l = random_layer(rng, 8, 4);
  l.in = {1, 3, 5, 8};
  l.out = {1, 3, 5, 4};
  l.x.assign(static_cast<size_t>(l.in_bytes()), 3);
  const piconas_per_channel_quant_params q{l.mult.data(), l.shift.data()};
  const int32_t need = piconas_conv2d_1x1_inplace_s8_get_buffer_size(&l.p, &l.in, &l.f, 4);
  CHECK(need == 16 + piconas_conv2d_s8_get_buffer_size(&l.p, &l.in, &l.f, &l.out));
  CHECK(piconas_conv2d_1x1_inplace_s8_get_buffer_size(&l.p, &l.in, &l.f, 0) == -1);
  std::vector<int32_t> scratch(static_cast<size_t>(need) / 4 + 2);
  std::vector<int8_t> data = l.x;
  auto run = [&](const piconas_s8_context &ctx, const piconas_conv_params &p,
                 const piconas_dims &out, int32_t strip) {
    return piconas_conv2d_1x1_inplace_s8(&ctx, &p, &q, &l.in, data.data(), &l.f, l.w.data(),
                                         l.bias.data(), &out, data.data(), strip);
  };
  const piconas_s8_context ok{scratch.data(), need};
  CHECK(run(ok, l.p, l.out, 4) == PICONAS_S8_OK);
  CHECK(run(piconas_s8_context{scratch.data(), need - 1}, l.p, l.out, 4) == PICONAS_S8_ERR_BUFFER);
  CHECK(run(piconas_s8_context{reinterpret_cast<int8_t *>(scratch.data()) + 2, need}, l.p, l.out,
            4) == PICONAS_S8_ERR_BUFFER);
  CHECK(run(piconas_s8_context{data.data() + 4, need}, l.p, l.out, 4) ==
        PICONAS_S8_ERR_BUFFER);  // over the data
  CHECK(run(ok, l.p, l.out, 0) == PICONAS_S8_ERR_ARGUMENT);
  piconas_conv_params strided = l.p;
  strided.stride = {2, 1};
  CHECK(run(ok, strided, l.out, 4) == PICONAS_S8_ERR_ARGUMENT);
  piconas_conv_params padded = l.p;
  padded.padding = {0, 1};
  CHECK(run(ok, padded, l.out, 4) == PICONAS_S8_ERR_ARGUMENT);
  CHECK(run(ok, l.p, piconas_dims{1, 3, 4, 4}, 4) == PICONAS_S8_ERR_ARGUMENT);
  // Nothing written on refusal.
  data = l.x;
  CHECK(run(piconas_s8_context{scratch.data(), need - 1}, l.p, l.out, 4) == PICONAS_S8_ERR_BUFFER);
  CHECK(data == l.x);
}
