// fully_connected_s8 against an independent int64 reference on thousands of random layers,
// the worst-case 2^16-MAC accumulator, and argument checks.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/fully_connected_s8.h"

using namespace piconas;

namespace {

struct FcCase {
  int batch = 1, depth = 1, out = 1;
  int z_in = 0, z_out = 0, act_min = -128, act_max = 127;
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias, mult, shift;
};

// y[b, o] = clamp(MBQM(bias[o] + sum_i w[o, i] * (x[b, i] - z_in)) + z_out), from docs/int8.md.
std::vector<int8_t> reference(const FcCase& c) {
  std::vector<int8_t> y;
  for (int b = 0; b < c.batch; ++b)
    for (int o = 0; o < c.out; ++o) {
      int64_t acc = c.bias.empty() ? 0 : c.bias[o];
      for (int i = 0; i < c.depth; ++i)
        acc += int64_t{c.w[int64_t{o} * c.depth + i]} * (c.x[int64_t{b} * c.depth + i] - c.z_in);
      REQUIRE(acc >= int8_ref::kMin);
      REQUIRE(acc <= int8_ref::kMax);
      const int32_t r = int8_ref::mbqm(static_cast<int32_t>(acc), c.mult[o], c.shift[o]);
      y.push_back(int8_ref::clamp_out(int64_t{r} + c.z_out, c.act_min, c.act_max));
    }
  return y;
}

// The input is passed as a {batch, 1, 2, depth/2} or {batch, 1, 1, depth} feature map.
int run(const FcCase& c, std::vector<int8_t>& y) {
  const piconas_fc_params p{-c.z_in, c.z_out, {c.act_min, c.act_max}};
  const piconas_per_channel_quant_params q{c.mult.data(), c.shift.data()};
  const bool split = c.depth % 2 == 0;
  const piconas_dims in{c.batch, 1, split ? 2 : 1, split ? c.depth / 2 : c.depth};
  const piconas_dims f{c.out, 1, 1, c.depth};
  const piconas_dims out{c.batch, 1, 1, c.out};
  y.assign(static_cast<size_t>(c.batch * c.out), 99);
  return piconas_fully_connected_s8(&p, &q, &in, c.x.data(), &f, c.w.data(),
                                    c.bias.empty() ? nullptr : c.bias.data(), &out, y.data());
}

}  // namespace

TEST_CASE("fully_connected_s8: bit exact on 5000 random layers") {
  Rng rng(555);
  int64_t outputs = 0;
  for (int i = 0; i < 5000; ++i) {
    FcCase c;
    c.batch = static_cast<int>(rng.uniform_int(1, 3));
    c.depth = static_cast<int>(rng.uniform_int(1, 80));
    c.out = static_cast<int>(rng.uniform_int(1, 12));
    c.z_in = static_cast<int>(rng.uniform_int(-128, 127));
    c.z_out = static_cast<int>(rng.uniform_int(-128, 127));
    int8_ref::random_activation(rng, c.z_out, c.act_min, c.act_max);
    c.x = int8_ref::random_s8_vector(rng, int64_t{c.batch} * c.depth);
    c.w = int8_ref::random_s8_vector(rng, int64_t{c.out} * c.depth);
    if (rng.uniform_int(0, 9) != 0) {
      for (int o = 0; o < c.out; ++o) c.bias.push_back(int8_ref::random_bias(rng, c.depth));
    }
    for (int o = 0; o < c.out; ++o) {
      c.mult.push_back(int8_ref::random_multiplier(rng));
      c.shift.push_back(int8_ref::random_shift(rng));
    }
    std::vector<int8_t> y;
    INFO("case " << i << " batch " << c.batch << " depth " << c.depth << " out " << c.out);
    REQUIRE(run(c, y) == PICONAS_S8_OK);
    REQUIRE(y == reference(c));
    outputs += c.batch * c.out;
  }
  MESSAGE("fully_connected_s8 outputs compared: " << outputs);
}

TEST_CASE(
    "fully_connected_s8: 2^16 worst-case MACs exact, overflowing layers and bad args refused") {
  FcCase c;
  c.depth = 1 << 16;
  c.z_in = -128;
  c.x.assign(static_cast<size_t>(c.depth), 127);
  c.w.assign(static_cast<size_t>(c.depth), -128);
  c.bias = {-8388607};  // acc = -2147483647
  c.mult = {1 << 30};
  c.shift = {-24};
  std::vector<int8_t> y;
  REQUIRE(run(c, y) == PICONAS_S8_OK);
  CHECK(y == reference(c));
  CHECK(y[0] == -64);
  // The positive extreme: -128 * (-128 - 127) = 32640 per tap, acc = 2139095040 + 8388607
  // = INT32_MAX exactly; M = 0.5 * 2^-24 maps it to 64.
  c.x.assign(static_cast<size_t>(c.depth), -128);
  c.z_in = 127;
  c.bias = {8388607};
  REQUIRE(run(c, y) == PICONAS_S8_OK);
  CHECK(y == reference(c));
  CHECK(y[0] == 64);
  c.bias = {8388608};
  CHECK(run(c, y) == PICONAS_S8_ERR_OVERFLOW);
  CHECK(y[0] == 99);
  c.bias.clear();
  c.depth += 2;
  c.x.assign(static_cast<size_t>(c.depth), 0);
  c.w.assign(static_cast<size_t>(c.depth), 0);
  CHECK(run(c, y) == PICONAS_S8_ERR_OVERFLOW);

  FcCase small;
  small.depth = 3;
  small.x = {1, 2, 3};
  small.w = {1, 1, 1};
  small.mult = {1 << 30};
  small.shift = {1};
  REQUIRE(run(small, y) == PICONAS_S8_OK);
  CHECK(y[0] == 6);
  small.shift = {40};
  CHECK(run(small, y) == PICONAS_S8_ERR_ARGUMENT);
  small.shift = {1};
  small.act_min = 5;
  small.act_max = 4;
  CHECK(run(small, y) == PICONAS_S8_ERR_ARGUMENT);
  small.act_max = 5;
  REQUIRE(run(small, y) == PICONAS_S8_OK);
  CHECK(y[0] == 5);
  const piconas_fc_params p{0, 0, {-128, 127}};
  const piconas_per_channel_quant_params q{small.mult.data(), small.shift.data()};
  const piconas_dims in{1, 1, 1, 3}, f_bad{1, 1, 1, 4}, out{1, 1, 1, 1};
  CHECK(piconas_fully_connected_s8(&p, &q, &in, small.x.data(), &f_bad, small.w.data(), nullptr,
                                   &out, y.data()) == PICONAS_S8_ERR_ARGUMENT);
}
