// Activation calibration (nas/deploy/calibrate.h): the MSE and MAE range searches against
// closed-form optima and against real int8 rounding of the samples; percentile and min/max ranges on a graph;
// method names; independence from the thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/calibrate.h"
#include "nas/deploy/quantize.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

// Mean squared error of quantizing `values` with the range [lo, hi] exactly as the quantizer
// does (docs/int8.md: widened to hold 0, s = range / 255, rounded zero point, clamp to int8).
double int8_mse(const std::vector<float>& values, float lo, float hi) {
  const double mn = std::min<double>(lo, 0.0), mx = std::max<double>(hi, 0.0);
  const auto s = static_cast<float>((mx - mn) / 255.0);
  const double z = std::clamp(std::round(-128.0 - mn / static_cast<double>(s)), -128.0, 127.0);
  double err = 0.0;
  for (float x : values) {
    const double q = std::clamp(std::round(static_cast<double>(x) / s) + z, -128.0, 127.0);
    const double d = x - static_cast<double>(s) * (q - z);
    err += d * d;
  }
  return err / static_cast<double>(values.size());
}

ActivationHistogram histogram_of(const std::vector<float>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  ActivationHistogram h(*lo, *hi);
  h.add(values.data(), static_cast<int64_t>(values.size()));
  return h;
}

// n values spread evenly over (0, 1]: density 1 on [0, 1].
std::vector<float> uniform01(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>((i + 1.0) / n);
  return v;
}

// Deterministic Laplace(0, 1) sample: the inverse CDF at evenly spaced quantiles.
std::vector<float> laplace(int n) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) {
    const double u = (i + 0.5) / n - 0.5;
    v.push_back(static_cast<float>(-std::copysign(1.0, u) * std::log(1.0 - 2.0 * std::fabs(u))));
  }
  return v;
}

}  // namespace

TEST_CASE("mse_range: a uniform density on [0, 1] clips at the closed-form optimum 510/511") {
  // Clip at c: rounding noise c (c/255)^2 / 12 inside plus (1 - c)^3 / 3 clipped; the derivative
  // vanishes at c / (1 - c) = 2 * 255, c = 510/511 = 0.99804; the nearest bin edge is 4088/4096.
  // (Without the 1/12 the optimum would be 0.9933, 27 bins lower.)
  const ActivationHistogram h = histogram_of(uniform01(kCalibrationBins * 64));
  const auto [a, b] = mse_range(h);
  CHECK(a == h.lo);  // all positive: the lower edge stays (the quantizer widens it to 0)
  CHECK(std::fabs(b - 510.0 / 511.0) <= 1.0 / kCalibrationBins);
  CHECK(b < 1.0f);
}

TEST_CASE("mse_range: exact zeros cost nothing, so a ReLU output's mass at 0 does not narrow its range") {
  // 9 zeros per nonzero value: counted as rounding noise they would move the optimum to about
  // 0.9948 (17 bins lower).
  std::vector<float> v = uniform01(kCalibrationBins * 16);
  v.resize(v.size() * 10, 0.0f);
  const ActivationHistogram h = histogram_of(v);
  CHECK(h.zeros == static_cast<int64_t>(v.size() * 9 / 10));
  const auto [a, b] = mse_range(h);
  CHECK(a == 0.0f);
  CHECK(std::fabs(b - 510.0 / 511.0) <= 1.0 / kCalibrationBins);
}

TEST_CASE("mse_range: on a Laplace sample the range is near-optimal under real int8 rounding") {
  const std::vector<float> v = laplace(200000);
  const ActivationHistogram h = histogram_of(v);
  const auto [a, b] = mse_range(h);
  MESSAGE("Laplace(0, 1), " << v.size() << " values in [" << h.lo << ", " << h.hi << "]: range [" << a << ", "
                            << b << "]");
  CHECK(a < 0.0f);
  CHECK(b > 0.0f);
  CHECK(std::fabs(a + b) < 0.05 * (b - a));  // symmetric data, symmetric clip
  const double ours = int8_mse(v, a, b);
  // The oracle: every symmetric clip [-c, c] on a fine grid, each quantized for real.
  double oracle = INFINITY, oracle_c = 0.0;
  for (double c = 1.0; c <= h.hi; c += 0.02) {
    const double e = int8_mse(v, static_cast<float>(-c), static_cast<float>(c));
    if (e < oracle) {
      oracle = e;
      oracle_c = c;
    }
  }
  MESSAGE("int8 MSE " << ours << "; best symmetric clip " << oracle_c << " gives " << oracle << "; min/max "
                      << int8_mse(v, h.lo, h.hi));
  CHECK(ours <= 1.05 * oracle);
  CHECK(ours < 0.8 * int8_mse(v, h.lo, h.hi));
  CHECK(ours < int8_mse(v, percentile_range(h, 99.99).first, percentile_range(h, 99.99).second));
}

TEST_CASE("mse_range: one outlier is clipped where the closed form puts it; outliers in number are kept") {
  // N values in (0, 1] and one at X = 50: a clip at b in [1, X) costs (X - b)^2 + N (b / 255)^2 / 12,
  // least at b = X / (1 + N / (12 * 255^2)) = 14.03 for N = 2,000,000 (min/max: b = 50).
  const int n = 2000000;
  std::vector<float> v = uniform01(n);
  v.push_back(50.0f);
  const ActivationHistogram h = histogram_of(v);
  const auto [a, b] = mse_range(h);
  CHECK(a == h.lo);
  CHECK(std::fabs(b - 50.0 / (1.0 + n / (12.0 * 255 * 255))) <= 50.0 / kCalibrationBins);
  CHECK(int8_mse(v, a, b) < 0.5 * int8_mse(v, h.lo, h.hi));
  // A thousand values at 50 are worth their levels: the range keeps them (clipped by 0.3 %).
  v.resize(v.size() + 999, 50.0f);
  const float kept = mse_range(histogram_of(v)).second;
  CHECK(kept > 49.5f);
  CHECK(kept < 50.0f);
  // Constant: nothing to search. All negative: the upper edge stays at the max (widened to 0),
  // the lower one clips about 0.3 % of the way from -2 to the max.
  const std::vector<float> constant(10, 2.5f);
  CHECK(mse_range(histogram_of(constant)) == std::pair<float, float>{2.5f, 2.5f});
  std::vector<float> negative = uniform01(50000);
  for (float& x : negative) x = -x - 1.0f;
  const auto [na, nb] = mse_range(histogram_of(negative));
  CHECK(nb == *std::max_element(negative.begin(), negative.end()));
  CHECK(na > -1.999f);
  CHECK(na < -1.99f);
}

TEST_CASE("mae_range: the least mean absolute error clips at the closed-form optima") {
  // Uniform on [0, 1], clip at c: c (c / 255) / 4 + (1 - c)^2 / 2, least at c / (1 - c) = 510 (as
  // for the squared error).
  const ActivationHistogram u = histogram_of(uniform01(kCalibrationBins * 64));
  CHECK(std::fabs(mae_range(u).second - 510.0 / 511.0) <= 1.0 / kCalibrationBins);
  // Laplace(0, 1), symmetric clip c: e^-c + (1 - e^-c) (2c / 255) / 4, least where
  // e^-c (511 - c) = 1: c = 6.224 (the squared error keeps 9.83).
  double c = 6.0;
  for (int k = 0; k < 50; ++k) c = std::log(511.0 - c);
  const ActivationHistogram l = histogram_of(laplace(400000));
  const auto [a, b] = mae_range(l);
  MESSAGE("Laplace(0, 1): mae range [" << a << ", " << b << "], closed form +-" << c);
  CHECK(std::fabs(b - c) < 0.05);
  CHECK(std::fabs(a + c) < 0.05);
  // One value at 50 among 2,000,000 in (0, 1]: each unit of b costs N / 1020 in rounding and
  // saves 1 in clipping, so the outlier goes (b near 1, where the squared error keeps 14.03).
  std::vector<float> v = uniform01(2000000);
  v.push_back(50.0f);
  const float clipped = mae_range(histogram_of(v)).second;
  CHECK(clipped > 0.99f);
  CHECK(clipped < 1.01f);
}

TEST_CASE("calibrate: mae and mse ranges lie inside min/max, narrower on most tensors, same for 1 and 2 threads") {
  const ArchSpec spec =
      parse_arch("blocks:in=1x16x16,classes=6,act=relu6,stem=8k3s1|ir:k3e4s1c8|ir:k3e2s2c16|ir:k5e3s1c16|head=24");
  auto net = make_model(spec, 9);
  const Graph graph = lower_network(spec, *net);
  const Tensor images = synthetic_images(spec.input, 48, 100, fashion_normalization());
  CalibrationOptions minmax_options;
  minmax_options.method = CalibrationMethod::MinMax;
  const auto minmax = calibrate(graph, images, minmax_options);
  const int threads = num_threads();
  set_num_threads(1);
  const auto one = calibrate(graph, images);
  set_num_threads(2);
  const auto mae = calibrate(graph, images);
  set_num_threads(threads);
  CHECK(one == mae);
  CalibrationOptions mse_options;
  mse_options.method = CalibrationMethod::Mse;
  const auto mse = calibrate(graph, images, mse_options);
  int narrower = 0;
  for (size_t t = 1; t < mse.size(); ++t) {
    CHECK(mse[t].first >= minmax[t].first);
    CHECK(mse[t].second <= minmax[t].second);
    CHECK(mae[t].first >= minmax[t].first);
    CHECK(mae[t].second <= minmax[t].second);
    narrower += mae[t].second < minmax[t].second || mae[t].first > minmax[t].first;
  }
  CHECK(narrower > static_cast<int>(mae.size()) / 2);
}

TEST_CASE("calibration method names round-trip; an unknown one is refused naming it") {
  for (CalibrationMethod m :
       {CalibrationMethod::Mae, CalibrationMethod::Mse, CalibrationMethod::MinMax, CalibrationMethod::Percentile})
    CHECK(parse_calibration_method(calibration_method_name(m)) == m);
  CHECK(calibration_method_names() == "mae|mse|minmax|percentile");
  CHECK(CalibrationOptions{}.method == CalibrationMethod::Mae);
  CHECK_THROWS_WITH_AS(parse_calibration_method("kl"), doctest::Contains("'kl'"), Error);
}
