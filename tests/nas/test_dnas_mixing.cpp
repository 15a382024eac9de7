#include <doctest/doctest.h>

#include "nas/dnas/mixing.h"
#include "nas/dnas_test_util.h"

using namespace piconas;
using namespace piconas::nas::dnas;
using autograd::Variable;
using testing::fd_error;
using testing::random_tensor;
using testing::weighted_total;

TEST_CASE("mix_weights softmax and gumbel match finite differences") {
  Rng rng(1);
  const Tensor alpha = random_tensor({4}, rng);
  for (SelectionMode mode : {SelectionMode::Softmax, SelectionMode::Gumbel}) {
    auto f = [&](const Variable& a) {
      Rng noise(7);  // the same Gumbel sample for every evaluation
      return weighted_total(mix_weights(a, mode, 0.7, &noise), 3);
    };
    CHECK(fd_error(f, alpha) < 1e-7);
  }
}

TEST_CASE("hard gumbel: forward one-hot, backward the soft sample's gradient") {
  Rng rng(2);
  const Tensor alpha = random_tensor({5}, rng);
  for (uint64_t s = 0; s < 20; ++s) {
    Rng n1(s), n2(s);
    Variable a_hard(alpha.clone(), true), a_soft(alpha.clone(), true);
    const Variable hard = mix_weights(a_hard, SelectionMode::HardGumbel, 0.5, &n1);
    const Variable soft = mix_weights(a_soft, SelectionMode::Gumbel, 0.5, &n2);
    const std::vector<double> h = hard.value().to_vector(), p = soft.value().to_vector();
    int ones = 0;
    for (double v : h) {
      CHECK((v == 0.0 || v == 1.0));
      ones += v == 1.0;
    }
    CHECK(ones == 1);
    CHECK(h[std::max_element(p.begin(), p.end()) - p.begin()] == 1.0);
    weighted_total(hard, 11).backward();
    weighted_total(soft, 11).backward();
    for (int64_t i = 0; i < 5; ++i)
      CHECK(a_hard.grad().get(i) == doctest::Approx(a_soft.grad().get(i)));
  }
}

TEST_CASE("argmax selection is the one-hot of the largest alpha") {
  Variable a(Tensor::from_values({3}, {0.1, 2.0, -1.0}), true);
  const Variable t = mix_weights(a, SelectionMode::Argmax, 1.0, nullptr);
  CHECK(t.value().to_vector() == std::vector<double>{0.0, 1.0, 0.0});
  CHECK_THROWS_AS(mix_weights(a, SelectionMode::Gumbel, 1.0, nullptr), Error);
  CHECK_THROWS_AS(parse_selection_mode("gumble"), Error);
  CHECK(parse_selection_mode("hard-gumbel") == SelectionMode::HardGumbel);
}

TEST_CASE("weighted_sum gradients for theta and every branch") {
  Rng rng(3);
  const Tensor theta = random_tensor({3}, rng);
  std::vector<Tensor> xs;
  for (int i = 0; i < 3; ++i) xs.push_back(random_tensor({2, 3, 2, 2}, rng));
  auto of_theta = [&](const Variable& t) {
    std::vector<Variable> b;
    for (const Tensor& x : xs) b.emplace_back(x);
    return weighted_total(weighted_sum(t, b), 5);
  };
  CHECK(fd_error(of_theta, theta) < 1e-7);
  for (int k = 0; k < 3; ++k) {
    auto of_branch = [&](const Variable& xk) {
      std::vector<Variable> b;
      for (int i = 0; i < 3; ++i) b.push_back(i == k ? xk : Variable(xs[i]));
      return weighted_total(weighted_sum(Variable(theta), b), 5);
    };
    CHECK(fd_error(of_branch, xs[k]) < 1e-7);
  }
  CHECK_THROWS_AS(weighted_sum(Variable(theta), {Variable(xs[0])}), Error);
}

TEST_CASE("binarize_mask: hard forward at 0.5, straight-through backward, one channel kept") {
  Variable g(Tensor::from_values({4}, {0.2, 0.5, 0.9, 0.49}, DType::F64), true);
  Variable b = binarize_mask(g);
  CHECK(b.value().to_vector() == std::vector<double>{0, 1, 1, 0});
  b.backward(Tensor::from_values({4}, {1, 2, 3, 4}, DType::F64));
  CHECK(g.grad().to_vector() == std::vector<double>{1, 2, 3, 4});
  Variable dead(Tensor::from_values({3}, {0.1, 0.3, 0.2}), true);
  CHECK(binarize_mask(dead).value().to_vector() == std::vector<double>{0, 1, 0});
}

TEST_CASE("channel_mask and expand_mask match finite differences") {
  Rng rng(4);
  const Tensor x = random_tensor({2, 3, 2, 2}, rng), m = random_tensor({3}, rng);
  CHECK(fd_error([&](const Variable& v) { return weighted_total(channel_mask(v, Variable(m)), 1); },
                 x) < 1e-7);
  CHECK(fd_error([&](const Variable& v) { return weighted_total(channel_mask(Variable(x), v), 1); },
                 m) < 1e-7);
  const Tensor flat = random_tensor({4, 3}, rng);
  CHECK(fd_error([&](const Variable& v) { return weighted_total(channel_mask(v, Variable(m)), 2); },
                 flat) < 1e-7);
  CHECK(fd_error([&](const Variable& v) { return weighted_total(expand_mask(v, 3), 2); }, m) <
        1e-7);
  const Variable e = expand_mask(Variable(Tensor::from_values({2}, {1.0, 0.0})), 2);
  REQUIRE(e.value().numel() == 4);
  CHECK(e.value().get(0) == 1.0);
  CHECK(e.value().get(1) == 1.0);
  CHECK(e.value().get(2) == 0.0);
  CHECK(e.value().get(3) == 0.0);
}

TEST_CASE("icv: value by hand and gradient") {
  // theta = (0.5, 0.3, 0.2): mean 1/3, population variance 0.0155556, eps 1e-3.
  const Variable v = icv(Variable(Tensor::from_values({3}, {0.5, 0.3, 0.2}, DType::F64)));
  const double var = ((0.5 - 1.0 / 3) * (0.5 - 1.0 / 3) + (0.3 - 1.0 / 3) * (0.3 - 1.0 / 3) +
                      (0.2 - 1.0 / 3) * (0.2 - 1.0 / 3)) /
                     3;
  CHECK(v.value().get(0) == doctest::Approx((1.0 / 3) / (var + 1e-3)));
  Rng rng(5);
  CHECK(fd_error([](const Variable& t) { return icv(t); }, random_tensor({4}, rng)) < 1e-6);
  // Polarised choices have the smaller ICV.
  const double flat = icv(Variable(Tensor::from_values({2}, {0.5, 0.5}))).value().get(0);
  const double sharp = icv(Variable(Tensor::from_values({2}, {0.95, 0.05}))).value().get(0);
  CHECK(sharp < flat);
}

TEST_CASE("pick selects one element with its gradient") {
  Rng rng(6);
  CHECK(fd_error([](const Variable& v) { return autograd::scale(pick(v, 2), 3.0); },
                 random_tensor({4}, rng)) < 1e-7);
  CHECK_THROWS_AS(pick(Variable(Tensor::zeros({2})), 2), Error);
}
