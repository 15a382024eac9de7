// Thread settings in one place, and the one helper through which kernels go parallel.
// set_num_threads() is the only switch; kernels never call omp_* themselves.
// Nested parallelism is off: a parallel_for inside a parallel region runs serially on the
// calling thread, so scoring candidates on separate threads and running kernels in parallel
// cannot oversubscribe the cores.
// parallel_for splits [begin, end) statically: the same thread count gives the same split,
// so per-chunk partial results combined in chunk order are reproducible.
#pragma once
#include <cstdint>

namespace piconas {

void set_num_threads(int threads);
int num_threads();
bool in_parallel_region();

// Calls body(lo, hi) on contiguous chunks covering [begin, end), one chunk per thread.
// chunk index = thread number; chunks are balanced to within one element.
template <class Body>
void parallel_chunks(int64_t begin, int64_t end, Body&& body);

// Calls body(i) for every i in [begin, end), iterations spread statically over the threads.
template <class Body>
void parallel_for(int64_t begin, int64_t end, Body&& body) {
  parallel_chunks(begin, end, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) body(i);
  });
}

// Number of chunks parallel_chunks uses for a range of n items (for sizing partial buffers).
int64_t parallel_chunk_count(int64_t n);

template <class Body>
void parallel_chunks(int64_t begin, int64_t end, Body&& body) {
  int64_t n = end - begin;
  if (n <= 0) return;
  int64_t chunks = parallel_chunk_count(n);
  if (chunks == 1) {
    body(begin, end);
    return;
  }
#pragma omp parallel for schedule(static, 1) num_threads(static_cast<int>(chunks))
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t lo = begin + n * c / chunks;
    int64_t hi = begin + n * (c + 1) / chunks;
    body(lo, hi);
  }
}

}  // namespace piconas
