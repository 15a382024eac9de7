#include "nas/metrics/jacob_cov.h"

#include <cmath>
#include <limits>

#include "core/gemm.h"
#include "core/parallel.h"
#include "nas/metrics/linalg.h"
#include "nas/metrics/scored_weights.h"

namespace piconas::nas::metrics {

double jacob_cov_from_rows(const Tensor& rows) {
  PICONAS_CHECK(rows.ndim() >= 2 && rows.dim(0) >= 1 && rows.numel() > 0,
                "jacob_cov: rows " << shape_str(rows.shape()) << " must be [N, ...] with N >= 1");
  const int64_t n = rows.dim(0);
  const int64_t d = rows.numel() / n;
  // Centre and scale every row to unit norm in float64; then C = Z Z^T.
  std::vector<double> z(static_cast<size_t>(n * d));
  std::vector<char> constant(static_cast<size_t>(n), 0);
  dispatch_dtype(rows.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* x = rows.data<T>();
    parallel_for(0, n, [&](int64_t i) {
      const T* row = x + i * d;
      double* out = z.data() + i * d;
      double mean = 0;
      for (int64_t k = 0; k < d; ++k) mean += row[k];
      mean /= static_cast<double>(d);
      double norm2 = 0;
      for (int64_t k = 0; k < d; ++k) {
        out[k] = row[k] - mean;
        norm2 += out[k] * out[k];
      }
      if (!(norm2 > 0) || !std::isfinite(norm2)) {
        constant[i] = 1;
        return;
      }
      const double inv = 1 / std::sqrt(norm2);
      for (int64_t k = 0; k < d; ++k) out[k] *= inv;
    });
  });
  for (char c : constant)
    if (c) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> corr(static_cast<size_t>(n * n));
  gemm_parallel<double>(Trans::No, Trans::Yes, n, n, d, 1.0, z.data(), d, z.data(), d, 0.0,
                        corr.data(), n);
  const double k = 1e-5;
  double score = 0;
  for (double v : symmetric_eigenvalues(corr, n)) score -= std::log(v + k) + 1 / (v + k);
  return score;
}

double jacob_cov(autograd::Module& net, const Tensor& images) {
  net.set_training(true);
  autograd::Variable x(images, true);
  autograd::Variable y;
  {
    ParameterGradsOff frozen(net);
    y = net(x);
    y.backward();
  }
  return jacob_cov_from_rows(x.grad());
}

}  // namespace piconas::nas::metrics
