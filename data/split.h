// Deterministic train / validation split of the items [0, count).
// The permutation comes from Rng(seed), so a seed gives the same split on every machine.
// validation gets round(count * validation_fraction) items; both lists are sorted ascending,
// disjoint and together cover [0, count).
#pragma once
#include <cstdint>
#include <vector>

namespace piconas::data {

struct SplitIndices {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

// validation_fraction in [0, 1).
SplitIndices split_train_val(int64_t count, double validation_fraction, uint64_t seed);

// A validation set shared by trainings on subsets of different sizes (the shortlist's rungs):
// the first validation_count items of Rng(seed)'s permutation of [0, count) are the validation
// set, the next train_count items (0: all the rest) the training set; both sorted. The
// validation set depends on (count, validation_count, seed) only, and a smaller train_count's
// training set is a subset of a larger one's. Error unless 0 < validation_count < count and
// validation_count + train_count <= count.
SplitIndices split_fixed_validation(int64_t count, int64_t validation_count, int64_t train_count,
                                    uint64_t seed);

// Fisher-Yates shuffle of indices driven by Rng(seed) (the Loader shuffles with it too).
std::vector<int64_t> seeded_permutation(std::vector<int64_t> indices, uint64_t seed);

}  // namespace piconas::data
