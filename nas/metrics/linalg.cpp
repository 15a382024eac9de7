#include "nas/metrics/linalg.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace piconas::nas::metrics {

namespace {
void check_square(const std::vector<double>& matrix, int64_t n, const char* what) {
  PICONAS_CHECK(n >= 1 && static_cast<int64_t>(matrix.size()) == n * n,
                what << ": expected a " << n << "x" << n << " matrix, got " << matrix.size()
                     << " values");
}
}  // namespace

double logabsdet(const std::vector<double>& matrix, int64_t n) {
  check_square(matrix, n, "logabsdet");
  std::vector<long double> a(matrix.begin(), matrix.end());
  long double max_abs = 0;
  for (long double v : a) {
    PICONAS_CHECK(std::isfinite(static_cast<double>(v)), "logabsdet: non-finite matrix entry");
    max_abs = std::max(max_abs, std::fabs(v));
  }
  const long double tiny = static_cast<long double>(n) * LDBL_EPSILON * max_abs;
  long double log_det = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < n; ++i)
      if (std::fabs(a[i * n + k]) > std::fabs(a[pivot * n + k])) pivot = i;
    const long double p = a[pivot * n + k];
    if (p == 0 || std::fabs(p) <= tiny) return -std::numeric_limits<double>::infinity();
    if (pivot != k)
      for (int64_t j = k; j < n; ++j) std::swap(a[k * n + j], a[pivot * n + j]);
    log_det += std::log(std::fabs(p));
    for (int64_t i = k + 1; i < n; ++i) {
      const long double factor = a[i * n + k] / p;
      if (factor == 0) continue;
      for (int64_t j = k + 1; j < n; ++j) a[i * n + j] -= factor * a[k * n + j];
    }
  }
  return static_cast<double>(log_det);
}

std::vector<double> symmetric_eigenvalues(const std::vector<double>& matrix, int64_t n) {
  check_square(matrix, n, "symmetric_eigenvalues");
  std::vector<double> a(matrix.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) a[i * n + j] = j >= i ? matrix[i * n + j] : matrix[j * n + i];
  double total = 0;
  for (double v : a) total += v * v;
  PICONAS_CHECK(std::isfinite(total), "symmetric_eigenvalues: non-finite matrix entry");
  // Each rotation zeroes a[p][q] by an orthogonal similarity (Golub & Van Loan, sym.schur2);
  // sweeps stop once the off-diagonal mass is negligible relative to the whole matrix.
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-32 * total) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0) continue;
        const double tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::fabs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t);
        const double s = t * c;
        for (int64_t r = 0; r < n; ++r) {  // columns p and q: A <- A J
          const double arp = a[r * n + p], arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (int64_t r = 0; r < n; ++r) {  // rows p and q: A <- J^T A
          const double apr = a[p * n + r], aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        a[p * n + q] = a[q * n + p] = 0;
      }
    }
  }
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = a[i * n + i];
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace piconas::nas::metrics
