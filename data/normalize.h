// Per-channel normalisation statistics, in [0, 1] pixel units (pixel / 255).
// A model stores its Normalization so inference applies exactly what training used:
// x = (pixel / 255 - mean[c]) / std[c].
// Statistics are the population mean and standard deviation over every pixel of the chosen
// images. Sums are exact integers, so the result does not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace piconas::data {

struct Normalization {
  std::vector<float> mean;
  std::vector<float> std;

  // mean 0, std 1 for each channel: plain pixel / 255.
  static Normalization identity(int channels);
  int channels() const { return static_cast<int>(mean.size()); }
  // Throws Error unless sizes match `channels` and every std is > 0.
  void validate(int channels) const;
};

// Statistics over the images at `indices` (e.g. the train part of a split).
// A channel with zero spread throws Error (dividing by it would blow up).
Normalization compute_normalization(const Dataset& dataset, const std::vector<int64_t>& indices);
// Statistics over the whole dataset.
Normalization compute_normalization(const Dataset& dataset);

}  // namespace piconas::data
