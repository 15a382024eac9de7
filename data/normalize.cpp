#include "data/normalize.h"

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"

namespace piconas::data {

Normalization Normalization::identity(int channels) {
  return Normalization{std::vector<float>(channels, 0.0f), std::vector<float>(channels, 1.0f)};
}

void Normalization::validate(int expected_channels) const {
  PICONAS_CHECK(static_cast<int>(mean.size()) == expected_channels &&
                    static_cast<int>(std.size()) == expected_channels,
                "normalization has " << mean.size() << " means and " << std.size()
                                     << " stds, the data has " << expected_channels << " channels");
  for (int c = 0; c < expected_channels; ++c)
    PICONAS_CHECK(std[c] > 0.0f && std::isfinite(std[c]) && std::isfinite(mean[c]),
                  "normalization channel " << c << ": mean " << mean[c] << ", std " << std[c]
                                           << " (std must be finite and > 0)");
}

Normalization compute_normalization(const Dataset& dataset, const std::vector<int64_t>& indices) {
  PICONAS_CHECK(!indices.empty(), "compute_normalization: no images selected");
  for (int64_t index : indices)
    PICONAS_CHECK(index >= 0 && index < dataset.count,
                  "compute_normalization: index " << index << " outside [0, " << dataset.count << ")");
  int channels = dataset.channels;
  int64_t pixels = static_cast<int64_t>(dataset.height) * dataset.width;
  int64_t n = static_cast<int64_t>(indices.size());
  int64_t chunks = parallel_chunk_count(n);
  // Per chunk, per channel: sum and sum of squares of raw bytes (exact in uint64).
  std::vector<uint64_t> sums(static_cast<size_t>(chunks) * channels * 2, 0);
  // Integer sums are exact, so the chunking does not change the result.
  parallel_for(0, chunks, [&](int64_t chunk) {
    int64_t lo = n * chunk / chunks;
    int64_t hi = n * (chunk + 1) / chunks;
    uint64_t* out = &sums[static_cast<size_t>(chunk) * channels * 2];
    for (int64_t i = lo; i < hi; ++i) {
      const uint8_t* image = dataset.image(indices[i]);
      for (int c = 0; c < channels; ++c) {
        uint64_t s = 0, s2 = 0;
        for (int64_t p = 0; p < pixels; ++p) {
          uint64_t v = image[c * pixels + p];
          s += v;
          s2 += v * v;
        }
        out[2 * c] += s;
        out[2 * c + 1] += s2;
      }
    }
  });
  Normalization norm;
  double total = static_cast<double>(n) * pixels;
  for (int c = 0; c < channels; ++c) {
    uint64_t s = 0, s2 = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      s += sums[(k * channels + c) * 2];
      s2 += sums[(k * channels + c) * 2 + 1];
    }
    double mean = static_cast<double>(s) / total;
    double var = std::max(0.0, static_cast<double>(s2) / total - mean * mean);
    double stddev = std::sqrt(var) / 255.0;
    PICONAS_CHECK(stddev > 0.0, "compute_normalization: channel " << c << " is constant (value "
                                                                  << mean << "), std would be 0");
    norm.mean.push_back(static_cast<float>(mean / 255.0));
    norm.std.push_back(static_cast<float>(stddev));
  }
  return norm;
}

Normalization compute_normalization(const Dataset& dataset) {
  std::vector<int64_t> all(dataset.count);
  std::iota(all.begin(), all.end(), int64_t{0});
  return compute_normalization(dataset, all);
}

}  // namespace piconas::data
