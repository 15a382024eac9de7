// Rng: a seeded, explicitly passed random generator (xoshiro256** seeded through splitmix64).
// Every draw is platform-independent (no std:: distributions), so a seed gives the same numbers
// on every machine. derive(stream) gives an independent generator for a numbered sub-task
// (a trial, a worker, a candidate) without touching this one's state.
// state() / Rng(state) save and restore a generator exactly (resumable searches).
#pragma once
#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace piconas {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // Restores a generator saved with state(): {seed, s0, s1, s2, s3}.
  explicit Rng(const std::array<uint64_t, 5>& state);

  uint64_t next_u64();
  double uniform();                          // [0, 1)
  double uniform(double low, double high);   // [low, high)
  int64_t uniform_int(int64_t low, int64_t high);  // [low, high], unbiased
  double normal(double mean = 0.0, double stddev = 1.0);
  Rng derive(uint64_t stream) const;
  uint64_t seed() const { return seed_; }
  std::array<uint64_t, 5> state() const { return {seed_, state_[0], state_[1], state_[2], state_[3]}; }

 private:
  uint64_t seed_;
  uint64_t state_[4];
};

enum class FanMode { FanIn, FanOut };

void fill_uniform(Tensor& tensor, Rng& rng, double low, double high);
void fill_normal(Tensor& tensor, Rng& rng, double mean, double stddev);
// fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]) (OIHW / [out, in]).
int64_t fan_of(const Shape& weight_shape, FanMode mode);
// Kaiming (He) normal: std = gain / sqrt(fan); gain = sqrt(2) for ReLU.
void kaiming_normal(Tensor& weight, Rng& rng, FanMode mode, double gain = 1.4142135623730951);

}  // namespace piconas
