#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace piconas::data {

std::vector<int64_t> seeded_permutation(std::vector<int64_t> indices, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = static_cast<int64_t>(indices.size()) - 1; i > 0; --i)
    std::swap(indices[i], indices[rng.uniform_int(0, i)]);
  return indices;
}

SplitIndices split_train_val(int64_t count, double validation_fraction, uint64_t seed) {
  PICONAS_CHECK(count >= 0, "split_train_val: negative count " << count);
  PICONAS_CHECK(validation_fraction >= 0.0 && validation_fraction < 1.0,
                "split_train_val: validation_fraction " << validation_fraction
                                                        << " outside [0, 1)");
  std::vector<int64_t> all(count);
  std::iota(all.begin(), all.end(), int64_t{0});
  std::vector<int64_t> order = seeded_permutation(std::move(all), seed);
  auto validation_count = static_cast<int64_t>(std::llround(count * validation_fraction));
  SplitIndices split;
  split.validation.assign(order.begin(), order.begin() + validation_count);
  split.train.assign(order.begin() + validation_count, order.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

SplitIndices split_fixed_validation(int64_t count, int64_t validation_count, int64_t train_count,
                                    uint64_t seed) {
  PICONAS_CHECK(validation_count > 0 && validation_count < count,
                "split_fixed_validation: " << validation_count << " validation items of " << count
                                           << " (need 0 < validation < count)");
  PICONAS_CHECK(train_count >= 0 && train_count <= count - validation_count,
                "split_fixed_validation: " << train_count << " training items do not fit beside "
                                           << validation_count << " validation items in " << count);
  std::vector<int64_t> all(static_cast<size_t>(count));
  std::iota(all.begin(), all.end(), int64_t{0});
  const std::vector<int64_t> order = seeded_permutation(std::move(all), seed);
  const auto train_end = train_count > 0 ? validation_count + train_count : count;
  SplitIndices split;
  split.validation.assign(order.begin(), order.begin() + validation_count);
  split.train.assign(order.begin() + validation_count, order.begin() + train_end);
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

}  // namespace piconas::data
