#include <doctest/doctest.h>

#include <vector>

#include "misc_gradcheck.h"
#include "ops/add.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("add: golden forward and accumulating backward") {
  // [1, 2, 3] + [10, -2, 0.5] = [11, 0, 3.5]; dy = [1, 2, 3] lands in da and db on top of 1.
  std::vector<double> a{1, 2, 3}, b{10, -2, 0.5}, y(3), dy{1, 2, 3}, da(3, 1.0), db(3, 1.0);
  add_forward<double>(3, a.data(), b.data(), y.data());
  CHECK(y == std::vector<double>{11, 0, 3.5});
  add_backward<double>(3, dy.data(), da.data(), db.data());
  CHECK(da == std::vector<double>{2, 3, 4});
  CHECK(db == std::vector<double>{2, 3, 4});
  add_backward<double>(3, dy.data(), nullptr, db.data());
  CHECK(db == std::vector<double>{3, 5, 7});
}

TEST_CASE("add: finite-difference gradients of both inputs") {
  for (int64_t n : {1, 13}) {
    CAPTURE(n);
    auto a = random_values(n, 141), b = random_values(n, 142), r = random_values(n, 143);
    auto forward = [&] {
      std::vector<double> y(n);
      add_forward(n, a.data(), b.data(), y.data());
      return y;
    };
    auto da = prefilled(n), db = prefilled(n);
    add_backward(n, r.data(), da.data(), db.data());
    check_gradient("add da", a, forward, r, da);
    check_gradient("add db", b, forward, r, db);
  }
}

TEST_CASE("add: the parallel path (> 32k values) covers every element") {
  const int64_t n = 50003;
  std::vector<float> a(n), b(n), y(n, -1.f), dy(n, 1.f), da(n, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f;
  }
  add_forward<float>(n, a.data(), b.data(), y.data());
  add_backward<float>(n, dy.data(), da.data(), nullptr);
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += (y[i] != static_cast<float>(i) + 0.5f) + (da[i] != 1.f);
  CHECK(bad == 0);
}
