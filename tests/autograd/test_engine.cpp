#include <doctest/doctest.h>

#include "autograd/functions.h"
#include "gradcheck.h"

using namespace piconas;
using namespace piconas::autograd;

TEST_CASE("diamond graph: a shared input receives the sum of both paths") {
  Variable x(Tensor::from_values({2}, {1.0, -2.0}, DType::F64), true);
  Variable y = add(scale(x, 3.0), mul(x, x));  // y = 3x + x^2, dy/dx = 3 + 2x
  sum(y).backward();
  CHECK(x.grad().get(0) == doctest::Approx(5.0));
  CHECK(x.grad().get(1) == doctest::Approx(-1.0));
}

TEST_CASE("leaves accumulate over backward calls until zero_grad; interior grads restart") {
  Variable x(Tensor::from_values({1}, {2.0}, DType::F64), true);
  Variable y = scale(x, 4.0);
  y.backward();
  y.backward();
  CHECK(x.grad().get(0) == 8.0);
  CHECK(y.grad().get(0) == 1.0);
  x.zero_grad();
  CHECK(x.grad().get(0) == 0.0);
}

TEST_CASE("NoGradGuard records nothing and restores the previous mode") {
  Variable x(Tensor::from_values({1}, {2.0}, DType::F64), true);
  {
    NoGradGuard guard;
    Variable y = scale(x, 2.0);
    CHECK(!y.requires_grad());
    CHECK(y.node()->inputs.empty());
    CHECK_THROWS_AS(y.backward(), Error);
  }
  CHECK(grad_enabled());
  CHECK(scale(x, 2.0).requires_grad());
}

TEST_CASE("constants do not require gradients and receive none") {
  Variable c(Tensor::from_values({2}, {1.0, 2.0}, DType::F64), false);
  Variable x(Tensor::from_values({2}, {3.0, 4.0}, DType::F64), true);
  sum(mul(c, x)).backward();
  CHECK(!c.has_grad());
  CHECK(x.grad().get(1) == 2.0);
}

TEST_CASE("a deep chain backpropagates without recursion") {
  Variable x(Tensor::from_values({1}, {1.0}, DType::F64), true);
  Variable y = x;
  for (int i = 0; i < 20000; ++i) y = scale(y, 1.0);
  y.backward();
  CHECK(x.grad().get(0) == 1.0);
}

TEST_CASE("sum, scale and reshape pass finite-difference checks") {
  Rng rng(5);
  auto fn = [](const std::vector<Variable>& v) {
    return sum(mul(reshape(scale(v[0], -1.5), {3, 4}), v[1]));
  };
  auto result = piconas::testing::check_gradients(
      fn, {piconas::testing::random_variable({2, 6}, rng), piconas::testing::random_variable({3, 4}, rng)});
  INFO(result.worst_where);
  CHECK(result.worst_error < 1e-7);
}

TEST_CASE("backward seed must match the output shape; shape errors name both shapes") {
  Variable a(Tensor({2, 3}, DType::F64), true), b(Tensor({3, 2}, DType::F64), true);
  CHECK_THROWS_WITH_AS(add(a, b), "add: shapes differ, [2, 3] vs [3, 2]", Error);
  Variable y = scale(a, 1.0);
  CHECK_THROWS_AS(y.backward(Tensor({3}, DType::F64)), Error);
  Variable f(Tensor({2, 3}, DType::F32), true);
  CHECK_THROWS_AS(add(a, f), Error);
}
