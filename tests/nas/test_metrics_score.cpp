// score_network: metric names, trial averaging, sharing work versus the separate metric
// functions, reproducibility across runs and thread counts, and the skip metric.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/layers.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/metrics/jacob_cov.h"
#include "nas/metrics/naswot.h"
#include "nas/metrics/score.h"
#include "nas/metrics/skip.h"
#include "nas/metrics/snip.h"
#include "nas/metrics/synflow.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::autograd;

namespace {
metrics::ScoringData random_scoring_data(int64_t n, const Shape3& in, int classes, uint64_t seed) {
  Rng rng(seed);
  metrics::ScoringData data{Tensor({n, in.c, in.h, in.w}), {}};
  fill_normal(data.images, rng, 0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int32_t>(rng.uniform_int(0, classes - 1)));
  return data;
}

double relative(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }
}  // namespace

TEST_CASE("tiny-bench on random data gives finite, bounded values for every metric") {
  ArchSpec spec = tiny_bench();
  auto net = build_network(spec);
  metrics::ScoringData data = random_scoring_data(16, spec.input, spec.num_classes, 1);
  metrics::MetricValues v = score_network(*net, data, metrics::network_metric_names(), 1, 42);
  REQUIRE(v.size() == 6);
  for (auto& [name, value] : v) {
    INFO(name);
    CHECK(std::isfinite(value));
  }
  CHECK(v["naswot"] > 0);
  CHECK(v["jacob_cov"] <= -16.0);
  CHECK(v["synflow"] > 0);
  CHECK(v["snip"] > 0);
  CHECK(v["grad_norm"] > 0);
  CHECK(net->training());
}

TEST_CASE("unknown metric names are an error that lists the known ones") {
  auto net = build_network(tiny_bench());
  metrics::ScoringData data = random_scoring_data(4, tiny_bench().input, 10, 1);
  try {
    metrics::score_network(*net, data, {"naswot", "zen"}, 1, 0);
    FAIL("no error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("'zen'") != std::string::npos);
    for (const std::string& name : metrics::network_metric_names())
      CHECK(msg.find(name) != std::string::npos);
  }
  CHECK_THROWS_AS(metrics::score_network(*net, data, {"snip"}, 0, 0), Error);
  metrics::ScoringData unlabeled{data.images, {}};
  CHECK_THROWS_AS(metrics::score_network(*net, unlabeled, {"grad_norm"}, 1, 0), Error);
  CHECK_NOTHROW(metrics::score_network(*net, unlabeled, {"naswot", "synflow"}, 1, 0));
}

TEST_CASE("the shared pass equals the separate metric functions, averaged over trials") {
  ArchSpec spec = parse_arch("blocks:in=3x16x16,classes=4,act=relu6,stem=8k3s1|ir:k3e2s1c8|ds:k5s2c16|cn:k3e2s1c16|head=24");
  auto net = build_network(spec);
  metrics::ScoringData data = random_scoring_data(12, spec.input, spec.num_classes, 2);
  const uint64_t seed = 99;
  const int trials = 3;
  metrics::MetricValues shared =
      score_network(*net, data, metrics::network_metric_names(), trials, seed);
  metrics::MetricValues expected;
  for (int t = 0; t < trials; ++t) {
    Rng rng = Rng(seed).derive(t);
    net->initialize(rng);
    expected["naswot"] += metrics::naswot(*net, data.images) / trials;
    expected["jacob_cov"] += metrics::jacob_cov(*net, data.images) / trials;
    metrics::SnipScores s = metrics::snip(*net, data.images, data.labels);
    expected["snip"] += s.snip / trials;
    expected["grad_norm"] += s.grad_norm / trials;
    metrics::SynflowScores f = metrics::synflow(*net, {3, 16, 16});
    expected["synflow"] += f.synflow / trials;
    expected["logsynflow"] += f.logsynflow / trials;
  }
  for (auto& [name, value] : expected) {
    INFO(name);
    CHECK(relative(shared.at(name), value) < 1e-9);
  }
  // One trial is not the average of three.
  metrics::MetricValues single = score_network(*net, data, {"naswot"}, 1, seed);
  CHECK(single["naswot"] != shared["naswot"]);
}

TEST_CASE("non-finite trial values: mean of the finite ones, else the non-finite value") {
  // Identical images give identical codes (naswot -inf); a one-channel net that starts with a
  // global average pool has a constant input gradient per sample (jacob_cov NaN).
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<GlobalAvgPool>());
  net->add(std::make_shared<Linear>(1, 4));
  net->add(std::make_shared<autograd::Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<Linear>(4, 3));
  metrics::ScoringData data{Tensor::full({4, 1, 5, 5}, 0.5), {0, 1, 2, 0}};
  metrics::MetricValues v = score_network(*net, data, {"naswot", "jacob_cov", "snip"}, 2, 1);
  CHECK(std::isinf(v["naswot"]));
  CHECK(v["naswot"] < 0);
  CHECK(std::isnan(v["jacob_cov"]));
  CHECK(std::isfinite(v["snip"]));
}

TEST_CASE("mean_of_finite skips non-finite trials and keeps an all-non-finite value") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(metrics::mean_of_finite({1.0, -inf, 4.0}) == 2.5);
  CHECK(metrics::mean_of_finite({nan, 3.0}) == 3.0);
  CHECK(metrics::mean_of_finite({-inf, -inf}) == -inf);
  CHECK(std::isnan(metrics::mean_of_finite({nan, -inf})));
  CHECK_THROWS_AS(metrics::mean_of_finite({}), Error);
}

TEST_CASE("scores are reproducible for a seed and across thread counts") {
  ArchSpec spec = tiny_bench();
  auto net = build_network(spec);
  metrics::ScoringData data = random_scoring_data(8, spec.input, spec.num_classes, 3);
  const int threads = num_threads();
  set_num_threads(1);
  metrics::MetricValues one = score_network(*net, data, metrics::network_metric_names(), 2, 7);
  set_num_threads(2);
  metrics::MetricValues two = score_network(*net, data, metrics::network_metric_names(), 2, 7);
  metrics::MetricValues again = score_network(*net, data, metrics::network_metric_names(), 2, 7);
  CHECK(num_threads() == 2);  // restored after the call
  set_num_threads(threads);
  CHECK(two == again);
  CHECK(one == two);  // every metric, bit for bit (score.h: parts fixed by the size)
  metrics::MetricValues other = score_network(*net, data, metrics::network_metric_names(), 2, 8);
  CHECK(other["naswot"] != two["naswot"]);
}

TEST_CASE("skip: fraction of blocks with a residual connection") {
  CHECK(metrics::skip_fraction(tiny_bench()) == 0.0);  // depthwise-separable blocks never skip
  ArchSpec spec = parse_arch("blocks:in=3x16x16,classes=4,act=relu6,stem=8k3s1|ir:k3e2s1c8|ir:k3e2s2c16|cn:k3e2s1c16|ds:k3s1c16|head=0");
  CHECK(metrics::skip_fraction(spec) == doctest::Approx(0.5));
  spec.blocks.clear();
  CHECK(metrics::skip_fraction(spec) == 0.0);
  // mbv2-bench: 17 blocks, the first of each stage changes shape (7 of them, and the first
  // stage goes 16 -> 16 with stride 1, so it keeps its residual).
  CHECK(metrics::skip_fraction(expand_mbv2(mbv2_bench())) == doctest::Approx(11.0 / 17.0));
}
