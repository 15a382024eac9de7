// elementwise_chunks: the one place where elementwise ops decide whether to go parallel.
// Ranges longer than kElementwiseParallelMin are split over the threads with parallel_chunks
// (each chunk writes only its own slice); shorter ones run serially, because starting a
// parallel region costs more than a few thousand multiply-adds.
// body(lo, hi) must be a plain loop over [lo, hi) so the compiler can vectorise it.
#pragma once
#include <cstdint>

#include "core/parallel.h"

namespace piconas::ops {

inline constexpr int64_t kElementwiseParallelMin = 32768;

template <class Body>
void elementwise_chunks(int64_t n, Body&& body) {
  if (n <= 0) return;
  if (n > kElementwiseParallelMin)
    parallel_chunks(0, n, body);
  else
    body(int64_t{0}, n);
}

}  // namespace piconas::ops
