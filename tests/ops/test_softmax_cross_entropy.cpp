#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "misc_gradcheck.h"
#include "ops/softmax_cross_entropy.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("softmax_cross_entropy: golden loss, probabilities and gradient") {
  // logits [0, ln 3]: softmax = [1/4, 3/4]. Label 1: loss = -ln(3/4) = ln(4/3).
  // dlogits = dloss * (probs - onehot) / batch = 2 * [1/4, -1/4] / 1 = [0.5, -0.5].
  std::vector<double> logits{0, std::log(3.0)}, probs(2);
  std::vector<int32_t> labels{1};
  double loss = softmax_cross_entropy_forward<double>(1, 2, logits.data(), labels.data(), 0.0,
                                                      probs.data());
  CHECK(loss == doctest::Approx(std::log(4.0 / 3.0)).epsilon(1e-14));
  CHECK(probs[0] == doctest::Approx(0.25).epsilon(1e-14));
  CHECK(probs[1] == doctest::Approx(0.75).epsilon(1e-14));
  std::vector<double> d(2, 0.0);
  softmax_cross_entropy_backward<double>(1, 2, probs.data(), labels.data(), 0.0, 2.0, d.data());
  CHECK(d[0] == doctest::Approx(0.5).epsilon(1e-14));
  CHECK(d[1] == doctest::Approx(-0.5).epsilon(1e-14));
}

TEST_CASE("softmax_cross_entropy: label smoothing by hand") {
  // Same logits, e = 0.2, K = 2: target = 0.8 * onehot(1) + 0.1 = [0.1, 0.9].
  // loss = -(0.1 ln(1/4) + 0.9 ln(3/4)) = 0.1 ln 4 + 0.9 ln(4/3).
  // Second sample: logits [0, 0], label 0: p = [1/2, 1/2], loss = ln 2 for any smoothing.
  // Mean over the batch of 2. dlogits (dloss 1) = (p - target) / 2:
  //   sample 0: [0.25 - 0.1, 0.75 - 0.9] / 2 = [0.075, -0.075];
  //   sample 1: target [0.9, 0.1] -> [0.5 - 0.9, 0.5 - 0.1] / 2 = [-0.2, 0.2].
  std::vector<double> logits{0, std::log(3.0), 0, 0}, probs(4), d(4, 0.0);
  std::vector<int32_t> labels{1, 0};
  double loss = softmax_cross_entropy_forward<double>(2, 2, logits.data(), labels.data(), 0.2,
                                                      probs.data());
  const double expected = (0.1 * std::log(4.0) + 0.9 * std::log(4.0 / 3.0) + std::log(2.0)) / 2;
  CHECK(loss == doctest::Approx(expected).epsilon(1e-14));
  softmax_cross_entropy_backward<double>(2, 2, probs.data(), labels.data(), 0.2, 1.0, d.data());
  CHECK(d[0] == doctest::Approx(0.075).epsilon(1e-13));
  CHECK(d[1] == doctest::Approx(-0.075).epsilon(1e-13));
  CHECK(d[2] == doctest::Approx(-0.2).epsilon(1e-13));
  CHECK(d[3] == doctest::Approx(0.2).epsilon(1e-13));
}

TEST_CASE("softmax_cross_entropy: logits of magnitude 1000 give a finite loss (float)") {
  // logits [1000, 0, -1000], label 1: log p_1 = 0 - 1000 - log(1 + e^-1000 + e^-2000) = -1000,
  // so the loss is 1000; label 0 gives 0. Without the max shift exp(1000) overflows.
  std::vector<float> logits{1000.f, 0.f, -1000.f, 1000.f, 0.f, -1000.f}, probs(6), d(6, 0.f);
  std::vector<int32_t> labels{1, 0};
  float loss = softmax_cross_entropy_forward<float>(2, 3, logits.data(), labels.data(), 0.0f,
                                                    probs.data());
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(500.0));
  for (float p : probs) CHECK(std::isfinite(p));
  CHECK(probs[0] == 1.0f);
  softmax_cross_entropy_backward<float>(2, 3, probs.data(), labels.data(), 0.1f, 1.0f, d.data());
  for (float g : d) CHECK(std::isfinite(g));
  float smoothed = softmax_cross_entropy_forward<float>(2, 3, logits.data(), labels.data(), 0.1f,
                                                        probs.data());
  CHECK(std::isfinite(smoothed));
}

TEST_CASE("softmax_cross_entropy: finite-difference gradient of the logits") {
  struct Case {
    int64_t batch, classes;
    double smoothing;
  };
  for (Case c : {Case{1, 1, 0.0}, Case{1, 5, 0.0}, Case{3, 7, 0.1}, Case{4, 2, 0.3}}) {
    CAPTURE(c.batch);
    CAPTURE(c.classes);
    CAPTURE(c.smoothing);
    auto logits = random_values(c.batch * c.classes, 161, -3, 3);
    std::vector<int32_t> labels(c.batch);
    for (int64_t b = 0; b < c.batch; ++b) labels[b] = static_cast<int32_t>((3 * b + 1) % c.classes);
    std::vector<double> probs(logits.size());
    auto forward = [&] {
      return std::vector<double>{softmax_cross_entropy_forward(
          c.batch, c.classes, logits.data(), labels.data(), c.smoothing, probs.data())};
    };
    forward();
    const double dloss = 1.7;
    auto d = prefilled(logits.size());
    softmax_cross_entropy_backward(c.batch, c.classes, probs.data(), labels.data(), c.smoothing,
                                   dloss, d.data());
    check_gradient("softmax_cross_entropy dlogits", logits, forward, {dloss}, d);
  }
}

TEST_CASE("softmax_cross_entropy: labels out of range name the sample and label") {
  std::vector<double> logits(6, 0.0), probs(6), d(6);
  std::vector<int32_t> labels{0, 3};
  CHECK_THROWS_WITH_AS(softmax_cross_entropy_forward<double>(2, 3, logits.data(), labels.data(),
                                                             0.0, probs.data()),
                       "softmax_cross_entropy: sample 1 has label 3, expected in [0, 3)", Error);
  labels = {-1, 0};
  CHECK_THROWS_WITH_AS(softmax_cross_entropy_forward<double>(2, 3, logits.data(), labels.data(),
                                                             0.0, probs.data()),
                       "softmax_cross_entropy: sample 0 has label -1, expected in [0, 3)", Error);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy_backward<double>(2, 3, probs.data(), labels.data(),
                                                              0.0, 1.0, d.data()),
                       "softmax_cross_entropy: sample 0 has label -1, expected in [0, 3)", Error);
  labels = {0, 1};
  CHECK_THROWS_WITH_AS(softmax_cross_entropy_forward<double>(2, 3, logits.data(), labels.data(),
                                                             1.5, probs.data()),
                       "softmax_cross_entropy: label_smoothing 1.5 must be in [0, 1]", Error);
}
