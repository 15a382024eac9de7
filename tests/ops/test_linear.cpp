#include <doctest/doctest.h>

#include <vector>

#include "misc_gradcheck.h"
#include "ops/linear.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

TEST_CASE("linear: golden forward and backward") {
  // x = [1, 2], w = [[1, 0], [-1, 3]], bias = [0.5, -1]
  // y0 = 1*1 + 0*2 + 0.5 = 1.5;  y1 = -1*1 + 3*2 - 1 = 4
  // dy = [1, 2]: dx = dy w = [1*1 + 2*(-1), 1*0 + 2*3] = [-1, 6]
  //              dw = dy^T x = [[1, 2], [2, 4]],  dbias = dy = [1, 2]
  LinearShape s{1, 2, 2};
  std::vector<double> x{1, 2}, w{1, 0, -1, 3}, b{0.5, -1}, y(2), dy{1, 2};
  linear_forward(s, x.data(), w.data(), b.data(), y.data());
  CHECK(y == std::vector<double>{1.5, 4});
  std::vector<double> dx(2, 0.0), dw(4, 0.0), db(2, 0.0);
  linear_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  CHECK(dx == std::vector<double>{-1, 6});
  CHECK(dw == std::vector<double>{1, 2, 2, 4});
  CHECK(db == std::vector<double>{1, 2});
  // Without bias, y = x w^T only.
  linear_forward<double>(s, x.data(), w.data(), nullptr, y.data());
  CHECK(y == std::vector<double>{1, 5});
}

TEST_CASE("linear: finite-difference gradients of x, w, bias in float64") {
  for (LinearShape s : {LinearShape{1, 1, 1}, LinearShape{3, 5, 7}, LinearShape{2, 9, 1}}) {
    CAPTURE(s.batch);
    CAPTURE(s.in_features);
    CAPTURE(s.out_features);
    auto x = random_values(s.batch * s.in_features, 1);
    auto w = random_values(s.out_features * s.in_features, 2);
    auto b = random_values(s.out_features, 3);
    auto r = random_values(s.batch * s.out_features, 4);
    auto forward = [&] {
      std::vector<double> y(r.size());
      linear_forward(s, x.data(), w.data(), b.data(), y.data());
      return y;
    };
    auto dx = prefilled(x.size()), dw = prefilled(w.size()), db = prefilled(b.size());
    linear_backward(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
    check_gradient("linear dx", x, forward, r, dx);
    check_gradient("linear dw", w, forward, r, dw);
    check_gradient("linear dbias", b, forward, r, db);
  }
}

TEST_CASE("linear: gemm path matches the naive twin on odd sizes (float)") {
  const LinearShape shapes[] = {{1, 1, 1}, {3, 7, 5}, {17, 33, 9}, {2, 65, 31}, {33, 17, 1},
                                {1, 129, 15}};
  for (const LinearShape& s : shapes) {
    CAPTURE(s.batch);
    CAPTURE(s.in_features);
    CAPTURE(s.out_features);
    auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    auto x = to_float(random_values(s.batch * s.in_features, 11));
    auto w = to_float(random_values(s.out_features * s.in_features, 12));
    auto b = to_float(random_values(s.out_features, 13));
    auto dy = to_float(random_values(s.batch * s.out_features, 14));
    std::vector<float> y(dy.size()), y_ref(dy.size());
    linear_forward(s, x.data(), w.data(), b.data(), y.data());
    linear_forward_naive(s, x.data(), w.data(), b.data(), y_ref.data());
    CHECK(max_rel_diff(y, y_ref) < 1e-5);
    std::vector<float> dx(x.size(), 0.5f), dw(w.size(), 0.5f), db(b.size(), 0.5f);
    std::vector<float> dx_ref = dx, dw_ref = dw, db_ref = db;
    linear_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    linear_backward_naive(s, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                          db_ref.data());
    CHECK(max_rel_diff(dx, dx_ref) < 1e-5);
    CHECK(max_rel_diff(dw, dw_ref) < 1e-5);
    CHECK(max_rel_diff(db, db_ref) < 1e-5);
  }
}

TEST_CASE("linear: null gradient pointers are skipped") {
  LinearShape s{2, 3, 4};
  auto x = random_values(6, 21), w = random_values(12, 22), dy = random_values(8, 23);
  auto dw = prefilled(12), dw_ref = prefilled(12);
  linear_backward<double>(s, x.data(), w.data(), dy.data(), nullptr, dw.data(), nullptr);
  linear_backward_naive<double>(s, x.data(), w.data(), dy.data(), nullptr, dw_ref.data(), nullptr);
  CHECK(max_rel_diff(dw, dw_ref) < 1e-12);
}
