#include "core/rng.h"

#include <cmath>

namespace piconas {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (auto& s : state_) s = splitmix64(x);
}

Rng::Rng(const std::array<uint64_t, 5>& state)
    : seed_(state[0]), state_{state[1], state[2], state[3], state[4]} {}

uint64_t Rng::next_u64() {
  uint64_t result = rotl(state_[1] * 5, 7) * 9;
  uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform(double low, double high) { return low + (high - low) * uniform(); }

int64_t Rng::uniform_int(int64_t low, int64_t high) {
  PICONAS_CHECK(low <= high, "uniform_int: empty range [" << low << ", " << high << "]");
  uint64_t range = static_cast<uint64_t>(high - low) + 1;
  if (range == 0) return static_cast<int64_t>(next_u64());  // full 64-bit range
  uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t draw;
  do draw = next_u64();
  while (draw >= limit);
  return low + static_cast<int64_t>(draw % range);
}

double Rng::normal(double mean, double stddev) {
  // Box-Muller; one draw per call keeps the state a pure function of the call count.
  double u1 = 1.0 - uniform();  // (0, 1]
  double u2 = uniform();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Rng Rng::derive(uint64_t stream) const {
  uint64_t x = seed_ ^ (0xd1b54a32d192ed03ULL * (stream + 1));
  return Rng(splitmix64(x));
}

void fill_uniform(Tensor& tensor, Rng& rng, double low, double high) {
  for (int64_t i = 0; i < tensor.numel(); ++i) tensor.set(i, rng.uniform(low, high));
}

void fill_normal(Tensor& tensor, Rng& rng, double mean, double stddev) {
  for (int64_t i = 0; i < tensor.numel(); ++i) tensor.set(i, rng.normal(mean, stddev));
}

int64_t fan_of(const Shape& shape, FanMode mode) {
  PICONAS_CHECK(shape.size() >= 2, "fan_of needs a weight of rank >= 2, got " << shape_str(shape));
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return (mode == FanMode::FanIn ? shape[1] : shape[0]) * receptive;
}

void kaiming_normal(Tensor& weight, Rng& rng, FanMode mode, double gain) {
  int64_t fan = fan_of(weight.shape(), mode);
  PICONAS_CHECK(fan > 0, "kaiming_normal: zero fan for weight " << shape_str(weight.shape()));
  fill_normal(weight, rng, 0.0, gain / std::sqrt(static_cast<double>(fan)));
}

}  // namespace piconas
