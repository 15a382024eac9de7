// Small dense linear algebra for the training-free metrics (matrices of at most a few hundred
// rows, so plain loops are fast enough and keep the numerics visible).
// Matrices are row-major n x n in a std::vector<double>.
// logabsdet: LU with partial pivoting in long double; log|det A|, the sign ignored. A pivot
//   that is exactly zero, or below n * epsilon * max|A| (singular up to rounding), gives -inf;
//   the result is never NaN for finite input.
// symmetric_eigenvalues: cyclic Jacobi rotations on a symmetric matrix (only the upper
//   triangle is read); eigenvalues in ascending order, accurate to a few ulps of max|A|.
#pragma once
#include <cstdint>
#include <vector>

namespace piconas::nas::metrics {

double logabsdet(const std::vector<double>& matrix, int64_t n);

std::vector<double> symmetric_eigenvalues(const std::vector<double>& matrix, int64_t n);

}  // namespace piconas::nas::metrics
