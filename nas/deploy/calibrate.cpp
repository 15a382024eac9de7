#include "nas/deploy/calibrate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace piconas::nas::deploy {

namespace {

// Runs the float graph over all images in batches, calling fn(tensor, values) per tensor.
void for_each_activation(const Graph& graph, const Tensor& images, int64_t batch,
                         const TensorObserver& fn) {
  const int64_t n = images.dim(0);
  const int64_t per_image = images.numel() / std::max<int64_t>(n, 1);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    Tensor part({b, images.dim(1), images.dim(2), images.dim(3)});
    std::copy_n(images.data<float>() + start * per_image, b * per_image, part.data<float>());
    run_float(graph, part, fn);
  }
}

constexpr struct {
  CalibrationMethod method;
  const char* name;
} kMethodNames[] = {{CalibrationMethod::Mae, "mae"},
                    {CalibrationMethod::Mse, "mse"},
                    {CalibrationMethod::MinMax, "minmax"},
                    {CalibrationMethod::Percentile, "percentile"}};

}  // namespace

const char* calibration_method_name(CalibrationMethod method) {
  for (const auto& m : kMethodNames)
    if (m.method == method) return m.name;
  PICONAS_CHECK(false, "calibration: unknown method " << static_cast<int>(method));
  return "";
}

CalibrationMethod parse_calibration_method(const std::string& name) {
  for (const auto& m : kMethodNames)
    if (name == m.name) return m.method;
  PICONAS_CHECK(false, "unknown calibration method '" << name << "' (expected "
                                                      << calibration_method_names() << ")");
  return CalibrationMethod::Mae;
}

std::string calibration_method_names() {
  std::string names;
  for (const auto& m : kMethodNames) names += (names.empty() ? "" : "|") + std::string(m.name);
  return names;
}

ActivationHistogram::ActivationHistogram(float lo_, float hi_, int bins)
    : lo(lo_),
      hi(hi_),
      count(static_cast<size_t>(bins), 0),
      sum(static_cast<size_t>(bins), 0.0),
      sum_squares(static_cast<size_t>(bins), 0.0) {
  PICONAS_CHECK(bins > 0 && lo <= hi, "calibration: histogram needs bins > 0 and lo <= hi, got "
                                          << bins << " bins over [" << lo << ", " << hi << "]");
}

int ActivationHistogram::bin_of(float value) const {
  const double w = width();
  const int64_t bin = w > 0.0 ? static_cast<int64_t>((value - lo) / w) : 0;  // float difference
  return static_cast<int>(std::clamp<int64_t>(bin, 0, static_cast<int64_t>(count.size()) - 1));
}

void ActivationHistogram::add(const float* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const auto b = static_cast<size_t>(bin_of(values[i]));
    const double v = values[i];
    ++count[b];
    sum[b] += v;
    sum_squares[b] += v * v;
    zeros += values[i] == 0.0f;
  }
}

namespace {

// The search of mse_range (squared = true) and mae_range (squared = false); see calibrate.h.
std::pair<float, float> least_error_range(const ActivationHistogram& h, bool squared) {
  const int bins = static_cast<int>(h.count.size());
  const double lo = h.lo, w = h.width();
  if (!(w > 0.0)) return {h.lo, h.hi};
  // Prefix sums over bins [0, k) of the nonzero values: count, sum, sum of squares.
  std::vector<double> n(static_cast<size_t>(bins) + 1, 0.0), s1(n), s2(n);
  const int zero_bin = h.lo <= 0.0f && h.hi >= 0.0f ? h.bin_of(0.0f) : -1;
  for (int k = 0; k < bins; ++k) {
    const auto u = static_cast<size_t>(k);
    const int64_t nonzero = h.count[u] - (k == zero_bin ? h.zeros : 0);
    n[u + 1] = n[u] + static_cast<double>(nonzero);
    s1[u + 1] = s1[u] + h.sum[u];
    s2[u + 1] = s2[u] + h.sum_squares[u];
  }
  const auto all = static_cast<size_t>(bins);
  // Error of clipping the values of bins [0, k) up to edge a, and of bins [k, bins) down to b.
  auto below = [&](size_t k, double a) {
    return squared ? s2[k] - 2.0 * a * s1[k] + a * a * n[k] : a * n[k] - s1[k];
  };
  auto above = [&](size_t k, double b) {
    const double count = n[all] - n[k], sum = s1[all] - s1[k], sum_squares = s2[all] - s2[k];
    return squared ? sum_squares - 2.0 * b * sum + b * b * count : sum - b * count;
  };
  // Edge k is lo + k w. Lower edges stay <= 0 and upper edges >= 0 (the quantizer widens to 0).
  const int i_max = lo >= 0.0 ? 0 : static_cast<int>(std::min<double>(std::floor(-lo / w), bins - 1));
  const int j_min = h.hi <= 0.0f ? bins : std::max(1, static_cast<int>(std::ceil(std::max(-lo, 0.0) / w)));
  double best = INFINITY;
  int best_i = 0, best_j = bins;
  for (int i = 0; i <= i_max; ++i) {  // widest first: ties keep the wider range
    const double a = lo + i * w, clipped_below = below(static_cast<size_t>(i), a);
    for (int j = bins; j >= std::max(j_min, i + 1); --j) {
      const double b = lo + j * w;
      const double s = (std::max(b, 0.0) - std::min(a, 0.0)) / 255.0;
      // Rounding error of a value inside, uniform in [-s/2, s/2]: E u^2 = s^2/12, E |u| = s/4.
      const double inside = n[static_cast<size_t>(j)] - n[static_cast<size_t>(i)];
      const double cost = clipped_below + above(static_cast<size_t>(j), b) + inside * (squared ? s * s / 12.0 : s / 4.0);
      if (cost < best) {
        best = cost;
        best_i = i;
        best_j = j;
      }
    }
  }
  return {best_i == 0 ? h.lo : static_cast<float>(lo + best_i * w),
          best_j == bins ? h.hi : static_cast<float>(lo + best_j * w)};
}

}  // namespace

std::pair<float, float> mse_range(const ActivationHistogram& h) { return least_error_range(h, true); }

std::pair<float, float> mae_range(const ActivationHistogram& h) { return least_error_range(h, false); }

std::pair<float, float> percentile_range(const ActivationHistogram& h, double percentile) {
  const int bins = static_cast<int>(h.count.size());
  int64_t total = 0;
  for (int64_t c : h.count) total += c;
  const double tail = static_cast<double>(total) * (100.0 - percentile) / 100.0;
  const double w = h.width();
  int lo_bin = 0, hi_bin = bins - 1;
  for (int64_t acc = 0; lo_bin < bins - 1 && acc + h.count[static_cast<size_t>(lo_bin)] <= tail; ++lo_bin)
    acc += h.count[static_cast<size_t>(lo_bin)];
  for (int64_t acc = 0; hi_bin > 0 && acc + h.count[static_cast<size_t>(hi_bin)] <= tail; --hi_bin)
    acc += h.count[static_cast<size_t>(hi_bin)];
  return {static_cast<float>(h.lo + lo_bin * w), static_cast<float>(h.lo + (hi_bin + 1) * w)};
}

std::vector<std::pair<float, float>> calibrate(const Graph& graph, const Tensor& images,
                                               const CalibrationOptions& options) {
  PICONAS_CHECK(images.ndim() == 4 && images.dim(0) > 0, "calibrate: need at least one image");
  PICONAS_CHECK(options.batch > 0, "calibrate: batch must be positive");
  const size_t count = graph.tensors.size();
  std::vector<std::pair<float, float>> range(count, {INFINITY, -INFINITY});
  for_each_activation(graph, images, options.batch, [&](int t, const Tensor& v) {
    const float* p = v.data<float>();
    auto& r = range[static_cast<size_t>(t)];
    for (int64_t i = 0; i < v.numel(); ++i) {
      r.first = std::min(r.first, p[i]);
      r.second = std::max(r.second, p[i]);
    }
  });
  if (options.method == CalibrationMethod::MinMax) return range;
  PICONAS_CHECK(options.method != CalibrationMethod::Percentile ||
                    (options.percentile > 50.0 && options.percentile <= 100.0),
                "calibrate: percentile must be in (50, 100], got " << options.percentile);
  std::vector<ActivationHistogram> histograms;
  histograms.reserve(count);
  for (const auto& [lo, hi] : range)
    histograms.emplace_back(lo <= hi ? lo : 0.0f, lo <= hi ? hi : 0.0f);  // unobserved: empty
  for_each_activation(graph, images, options.batch, [&](int t, const Tensor& v) {
    histograms[static_cast<size_t>(t)].add(v.data<float>(), v.numel());
  });
  // One tensor per iteration: each search is sequential, so the thread count changes nothing.
  parallel_for(0, static_cast<int64_t>(count), [&](int64_t t) {
    const auto u = static_cast<size_t>(t);
    if (!(range[u].first <= range[u].second)) return;
    const ActivationHistogram& h = histograms[u];
    range[u] = options.method == CalibrationMethod::Mae   ? mae_range(h)
               : options.method == CalibrationMethod::Mse ? mse_range(h)
                                                          : percentile_range(h, options.percentile);
  });
  return range;
}

}  // namespace piconas::nas::deploy
