// NASWOT (Mellor et al.): log|det K| of the Hamming kernel of binary activation codes.
// The code of sample n concatenates, over every ReLU / ReLU6 / GELU / Hardswish module output
// (each module instance separately), the bits (value > 0). K[i][j] = number of units where
// samples i and j agree = N_A - Hamming(c_i, c_j), kept as exact integers; diag(K) = N_A.
// Score = logabsdet(K) (linalg.h): -inf when K is singular (e.g. two identical codes), never
// NaN. Codes are bit-packed and compared with popcount, one layer at a time, so no code is
// stored. Parallel over samples (packing) and over sample pairs (counting); exact for any
// thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/module.h"

namespace piconas::nas::metrics {

class NaswotKernel {
 public:
  explicit NaswotKernel(int64_t samples);
  // activation [N, ...] (float32 or float64), N = samples(); every element is one unit.
  void add_activation(const Tensor& activation);
  // N rows of equal length, entries 0 or 1 (other non-zero values count as 1).
  void add_codes(const std::vector<std::vector<uint8_t>>& codes);
  int64_t samples() const { return samples_; }
  int64_t units() const { return units_; }
  // N x N agreement counts, row-major.
  const std::vector<int64_t>& kernel() const { return kernel_; }
  double score() const;

 private:
  // words_per_row 64-bit words per sample, row n at bits[n * words_per_row].
  void add_packed(const std::vector<uint64_t>& bits, int64_t words_per_row, int64_t units);

  int64_t samples_;
  int64_t units_ = 0;
  std::vector<int64_t> kernel_;
};

// True for the activation modules whose outputs form the code (not Sigmoid, not other layers).
bool is_coded_activation(const autograd::Module& module);
// A forward hook that adds every coded activation output to kernel (which must outlive it).
autograd::Module::ForwardHook naswot_hook(NaswotKernel& kernel);

// Score of explicit codes (one row per sample, the layers already concatenated).
double naswot_from_codes(const std::vector<std::vector<uint8_t>>& codes);

// Forward-only NASWOT of net on images [N, C, H, W] in train mode (batch statistics), no graph
// recorded. Leaves the net in train mode with no forward hooks set.
double naswot(autograd::Module& net, const Tensor& images);

}  // namespace piconas::nas::metrics
