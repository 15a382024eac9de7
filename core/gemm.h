// Row-major GEMM on raw pointers, the one door to Eigen:
//   C[m x n] = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T.
// A is m x k (or k x m when transposed) with leading dimension lda, likewise B and C.
// beta == 0 overwrites C without reading it. gemm() is single-threaded (safe inside our own
// parallel regions); gemm_parallel() splits the rows (or columns) of C into blocks fixed by the
// sizes (core/parallel.h fixed_part_count) and runs them on the threads, so its result is the
// same bits for any thread count.
// gemm_naive() is the loop-for-loop oracle.
#pragma once
#include <cstdint>

namespace piconas {

enum class Trans { No, Yes };

template <class T>
void gemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

template <class T>
void gemm_parallel(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

template <class T>
void gemm_naive(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace piconas
