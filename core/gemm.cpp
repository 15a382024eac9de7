#include "core/gemm.h"

#define EIGEN_DONT_PARALLELIZE  // our own OpenMP regions own the threads
#include <Eigen/Core>

#include "core/parallel.h"

namespace piconas {

namespace {
template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MutableMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T, class LhsExpr, class RhsExpr>
void accumulate_product(MutableMap<T>& c, T alpha, T beta, const LhsExpr& lhs, const RhsExpr& rhs) {
  if (beta == T(0))
    c.noalias() = alpha * lhs * rhs;
  else {
    if (beta != T(1)) c *= beta;
    c.noalias() += alpha * lhs * rhs;
  }
}
}  // namespace

template <class T>
void gemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  MutableMap<T> cm(c, m, n, Eigen::OuterStride<>(ldc));
  if (k == 0) {
    if (beta == T(0)) cm.setZero();
    else cm *= beta;
    return;
  }
  bool ta = trans_a == Trans::Yes, tb = trans_b == Trans::Yes;
  ConstMap<T> am(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  ConstMap<T> bm(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  if (!ta && !tb) accumulate_product(cm, alpha, beta, am, bm);
  else if (ta && !tb) accumulate_product(cm, alpha, beta, am.transpose(), bm);
  else if (!ta && tb) accumulate_product(cm, alpha, beta, am, bm.transpose());
  else accumulate_product(cm, alpha, beta, am.transpose(), bm.transpose());
}

template <class T>
void gemm_parallel(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  // Split the larger of the two output dimensions into parts of at least 16 rows (columns),
  // their number fixed by the size: each part owns a block of C, and the blocks' shapes, which
  // decide how each element is rounded, are the same for any thread count.
  bool split_rows = m >= n;
  int64_t extent = split_rows ? m : n;
  int64_t chunks = fixed_part_count(extent, 16);
  if (chunks <= 1) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  bool ta = trans_a == Trans::Yes, tb = trans_b == Trans::Yes;
  parallel_for(0, chunks, [&](int64_t chunk) {
    int64_t lo = extent * chunk / chunks, hi = extent * (chunk + 1) / chunks;
    if (split_rows) {
      const T* a_block = ta ? a + lo : a + lo * lda;
      gemm(trans_a, trans_b, hi - lo, n, k, alpha, a_block, lda, b, ldb, beta, c + lo * ldc, ldc);
    } else {
      const T* b_block = tb ? b + lo * ldb : b + lo;
      gemm(trans_a, trans_b, m, hi - lo, k, alpha, a, lda, b_block, ldb, beta, c + lo, ldc);
    }
  });
}

template <class T>
void gemm_naive(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  bool ta = trans_a == Trans::Yes, tb = trans_b == Trans::Yes;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        double av = ta ? a[p * lda + i] : a[i * lda + p];
        double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      T previous = beta == T(0) ? T(0) : beta * c[i * ldc + j];
      c[i * ldc + j] = static_cast<T>(alpha * sum) + previous;
    }
}

#define PICONAS_INSTANTIATE_GEMM(T)                                                             \
  template void gemm<T>(Trans, Trans, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, \
                        int64_t, T, T*, int64_t);                                                \
  template void gemm_parallel<T>(Trans, Trans, int64_t, int64_t, int64_t, T, const T*, int64_t,  \
                                 const T*, int64_t, T, T*, int64_t);                             \
  template void gemm_naive<T>(Trans, Trans, int64_t, int64_t, int64_t, T, const T*, int64_t,     \
                              const T*, int64_t, T, T*, int64_t);
PICONAS_INSTANTIATE_GEMM(float)
PICONAS_INSTANTIATE_GEMM(double)

}  // namespace piconas
