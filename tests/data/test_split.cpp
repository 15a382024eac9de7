#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "data/split.h"

using namespace piconas;
using namespace piconas::data;

TEST_CASE("split: sizes, disjoint, complete, sorted") {
  SplitIndices s = split_train_val(100, 0.2, 7);
  CHECK(s.validation.size() == 20);
  CHECK(s.train.size() == 80);
  CHECK(std::is_sorted(s.train.begin(), s.train.end()));
  CHECK(std::is_sorted(s.validation.begin(), s.validation.end()));
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 100; ++i) CHECK(all[i] == i);
  CHECK(split_train_val(10, 0.0, 1).validation.empty());
  CHECK(split_train_val(7, 0.5, 1).validation.size() == 4);  // round(3.5) = 4
}

TEST_CASE("split: same seed same split, other seed other split") {
  SplitIndices a = split_train_val(1000, 0.1, 42);
  SplitIndices b = split_train_val(1000, 0.1, 42);
  SplitIndices c = split_train_val(1000, 0.1, 43);
  CHECK(a.validation == b.validation);
  CHECK(a.train == b.train);
  CHECK(a.validation != c.validation);
  // Not just a prefix or suffix of the range.
  CHECK(a.validation.front() < 900);
  CHECK(a.validation.back() >= 100);
}

TEST_CASE("split: bad fraction throws; permutation is a permutation") {
  CHECK_THROWS_AS(split_train_val(10, 1.0, 0), Error);
  CHECK_THROWS_AS(split_train_val(10, -0.1, 0), Error);
  std::vector<int64_t> p = seeded_permutation({5, 6, 7, 8, 9}, 3);
  CHECK(p != std::vector<int64_t>{5, 6, 7, 8, 9});
  std::sort(p.begin(), p.end());
  CHECK(p == std::vector<int64_t>{5, 6, 7, 8, 9});
}

TEST_CASE("split_fixed_validation: one validation set for every training size, nested training sets") {
  const SplitIndices all = split_fixed_validation(1000, 100, 0, 9);
  const SplitIndices small = split_fixed_validation(1000, 100, 50, 9);
  const SplitIndices medium = split_fixed_validation(1000, 100, 150, 9);
  CHECK(all.validation.size() == 100);
  CHECK(all.train.size() == 900);
  CHECK(small.train.size() == 50);
  CHECK(medium.train.size() == 150);
  // The same validation set whatever the training size (the shortlist's rungs rank on it).
  CHECK(small.validation == all.validation);
  CHECK(medium.validation == all.validation);
  for (const SplitIndices* s : {&all, &small, &medium}) {
    CHECK(std::is_sorted(s->train.begin(), s->train.end()));
    CHECK(std::is_sorted(s->validation.begin(), s->validation.end()));
    for (int64_t i : s->train)  // disjoint from the validation set
      CHECK_FALSE(std::binary_search(all.validation.begin(), all.validation.end(), i));
  }
  // The smaller training set lies inside the larger one; a seeded draw, not the first items.
  CHECK(std::includes(medium.train.begin(), medium.train.end(), small.train.begin(), small.train.end()));
  CHECK(small.train.back() >= 100);
  CHECK(all.validation != split_fixed_validation(1000, 100, 0, 10).validation);
  std::vector<int64_t> union_of = all.train;
  union_of.insert(union_of.end(), all.validation.begin(), all.validation.end());
  std::sort(union_of.begin(), union_of.end());
  for (int64_t i = 0; i < 1000; ++i) CHECK(union_of[static_cast<size_t>(i)] == i);
  CHECK_THROWS_AS(split_fixed_validation(1000, 0, 10, 9), Error);
  CHECK_THROWS_AS(split_fixed_validation(1000, 1000, 0, 9), Error);
  CHECK_THROWS_AS(split_fixed_validation(1000, 100, 901, 9), Error);
  CHECK(split_fixed_validation(1000, 100, 900, 9).train == all.train);
}
