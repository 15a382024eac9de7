// Activation calibration: the per-tensor range [min, max] that post-training quantization
// (quantize.h) maps to int8 (docs/int8.md, section 1a). The float graph runs on calibration
// images; for each tensor:
// - Mae (the default): the range with the least expected absolute quantization error of the
//   observed values (mae_range below): clipping error of the values outside plus rounding error
//   s / 4 of the values inside, s = range / 255;
// - Mse: the same with squared errors (rounding s^2 / 12), which keeps wider ranges;
// - MinMax: the observed min and max;
// - Percentile: each side clipped at the given percentile of all observed values.
// Mae, Mse and Percentile take a second pass over the images that fills a histogram of
// kCalibrationBins bins over the observed [min, max] of each tensor. Deterministic: values are
// added in image order on the calling thread and each search is a fixed sequential scan, so
// calibration adds no dependence on the thread count to the float graph's outputs.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nas/deploy/graph.h"

namespace piconas::nas::deploy {

enum class CalibrationMethod { Mae, Mse, MinMax, Percentile };

// "mae", "mse", "minmax", "percentile"; parse_calibration_method throws Error naming the value.
const char* calibration_method_name(CalibrationMethod method);
CalibrationMethod parse_calibration_method(const std::string& name);
std::string calibration_method_names();  // "mae|mse|minmax|percentile", for help texts

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::Mae;
  double percentile = 99.99;  // Percentile: keep this share of values on each side
  int64_t batch = 32;         // images per float forward pass
  bool operator==(const CalibrationOptions&) const = default;
};

constexpr int kCalibrationBins = 4096;

// The observed values of one tensor: `bins` equal bins over [lo, hi] (the observed min and max;
// a value at hi falls in the last bin), with each bin's count, sum and sum of squares, and the
// number of values that are exactly 0 (counted in their bin too).
struct ActivationHistogram {
  float lo = 0.0f, hi = 0.0f;
  std::vector<int64_t> count;
  std::vector<double> sum, sum_squares;
  int64_t zeros = 0;

  ActivationHistogram(float lo, float hi, int bins = kCalibrationBins);
  double width() const { return (static_cast<double>(hi) - lo) / static_cast<double>(count.size()); }
  int bin_of(float value) const;  // clamped to [0, bins)
  void add(const float* values, int64_t n);
};

// The range [a, b] minimizing the modelled quantization error of the histogram's values, over
// every pair of bin edges a <= 0 <= b (edges on the other side of 0 would be widened to 0 by the
// quantizer; for an all-positive tensor a = lo, for an all-negative one b = hi). mse_range:
//   sum over values x < a of (x - a)^2 + sum over values x > b of (x - b)^2
//   + (nonzero values inside) * s^2 / 12,  s = (max(b, 0) - min(a, 0)) / 255;
// mae_range: the same with |x - a|, |x - b| and s / 4 (the mean of |u|, u uniform in
// [-s/2, s/2]), which clips rare large values harder (one value at 50 among two million in
// (0, 1] goes to 1.0 under mae, to 14 under mse).
// Exact zeros cost nothing (0 is exact at every scale). The clipping sums are exact (per-bin
// sums), the rounding term the uniform-noise model. Ties keep the wider range.
std::pair<float, float> mse_range(const ActivationHistogram& histogram);
std::pair<float, float> mae_range(const ActivationHistogram& histogram);

// The range keeping `percentile` % of the values on each side (bin edges).
std::pair<float, float> percentile_range(const ActivationHistogram& histogram, double percentile);

// Per-tensor calibrated [min, max] from images [N, C, H, W] (normalised float).
std::vector<std::pair<float, float>> calibrate(const Graph& graph, const Tensor& images,
                                               const CalibrationOptions& options = {});

}  // namespace piconas::nas::deploy
