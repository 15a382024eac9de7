#include <doctest/doctest.h>

#include <vector>

#include "misc_gradcheck.h"
#include "ops/mul.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("mul: golden forward and accumulating backward") {
  // [1, 2, 3] * [4, -1, 0.5] = [4, -2, 1.5].
  // dy = [1, 2, 3]: da += dy * b = [4, -2, 1.5]; db += dy * a = [1, 4, 9]; both start at 1.
  std::vector<double> a{1, 2, 3}, b{4, -1, 0.5}, y(3), dy{1, 2, 3}, da(3, 1.0), db(3, 1.0);
  mul_forward<double>(3, a.data(), b.data(), y.data());
  CHECK(y == std::vector<double>{4, -2, 1.5});
  mul_backward<double>(3, a.data(), b.data(), dy.data(), da.data(), db.data());
  CHECK(da == std::vector<double>{5, -1, 2.5});
  CHECK(db == std::vector<double>{2, 5, 10});
  mul_backward<double>(3, a.data(), b.data(), dy.data(), nullptr, db.data());
  CHECK(db == std::vector<double>{3, 9, 19});
}

TEST_CASE("mul: finite-difference gradients of both inputs") {
  for (int64_t n : {1, 13}) {
    CAPTURE(n);
    auto a = random_values(n, 151), b = random_values(n, 152), r = random_values(n, 153);
    auto forward = [&] {
      std::vector<double> y(n);
      mul_forward(n, a.data(), b.data(), y.data());
      return y;
    };
    auto da = prefilled(n), db = prefilled(n);
    mul_backward(n, a.data(), b.data(), r.data(), da.data(), db.data());
    check_gradient("mul da", a, forward, r, da);
    check_gradient("mul db", b, forward, r, db);
  }
}

TEST_CASE("mul: the parallel path (> 32k values) covers every element") {
  const int64_t n = 50003;
  std::vector<float> a(n), b(n, 2.f), y(n, -1.f), dy(n, 1.f), db(n, 0.f);
  for (int64_t i = 0; i < n; ++i) a[i] = static_cast<float>(i % 1000);
  mul_forward<float>(n, a.data(), b.data(), y.data());
  mul_backward<float>(n, a.data(), b.data(), dy.data(), nullptr, db.data());
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += (y[i] != 2.f * a[i]) + (db[i] != a[i]);
  CHECK(bad == 0);
}
