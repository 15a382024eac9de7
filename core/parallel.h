// Thread settings in one place, and the one helper through which kernels go
// parallel. set_num_threads() is the only switch; kernels never start threads
// themselves. The engine runs its parallel regions on its own worker pool
// (core/parallel.cpp), started once and reused, so no environment variable
// decides how idle workers wait: a worker that finds no work spins briefly,
// yielding the core to any other runnable thread, then sleeps. That is fast on
// an idle machine (the next region starts within a microsecond) and costs
// little on a loaded one (a waiting worker gives its core away; the calling
// thread also runs any chunk no worker has picked up yet, so a descheduled
// worker never stalls a region). Nested parallelism is off: a parallel_for
// inside a parallel region runs serially on the calling thread, so scoring
// candidates on separate threads and running kernels in parallel cannot
// oversubscribe the cores. parallel_for splits [begin, end) statically: the
// same thread count gives the same split, so per-chunk partial results combined
// in chunk order are reproducible (which thread runs a chunk does not matter).
// An exception thrown by a chunk is rethrown to the caller once every chunk has
// finished. The default thread count is OpenMP's (OMP_NUM_THREADS, else the
// available cores).
#pragma once
#include <cstdint>

namespace piconas {

void set_num_threads(int threads);
int num_threads();
bool in_parallel_region();

// Number of chunks parallel_chunks uses for a range of n items (for sizing
// partial buffers).
int64_t parallel_chunk_count(int64_t n);

// Work whose result must not depend on the thread count (a reduction whose
// per-part partial sums are added in part order, or GEMMs whose shapes decide
// their rounding) is cut into a number of parts fixed by its size alone:
// min(items / min_items_per_part, kFixedParts), at least 1. The parts then run
// on however many threads there are (parallel_for over the parts; serially
// inside a parallel region), and the result is the same bits for any thread
// count. 8 parts keep 1, 2, 4 and 8 threads evenly busy.
constexpr int64_t kFixedParts = 8;
int64_t fixed_part_count(int64_t items, int64_t min_items_per_part = 1);

namespace detail {
using ChunkFn = void (*)(void* context, int64_t chunk);
// Runs fn(context, c) for every c in [0, chunks) on the pool; returns when all
// have finished.
void run_chunks(int64_t chunks, ChunkFn fn, void* context);
}  // namespace detail

// Calls body(lo, hi) on contiguous chunks covering [begin, end), one chunk per
// thread. chunk c covers [begin + n*c/chunks, begin + n*(c+1)/chunks): balanced
// to within one element.
template <class Body>
void parallel_chunks(int64_t begin, int64_t end, Body&& body) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t chunks = parallel_chunk_count(n);
  if (chunks == 1) {
    body(begin, end);
    return;
  }
  auto run_chunk = [&](int64_t c) { body(begin + n * c / chunks, begin + n * (c + 1) / chunks); };
  using RunChunk = decltype(run_chunk);
  detail::run_chunks(
      chunks, [](void* context, int64_t c) { (*static_cast<RunChunk*>(context))(c); }, &run_chunk);
}

// Calls body(i) for every i in [begin, end), iterations spread statically over
// the threads.
template <class Body>
void parallel_for(int64_t begin, int64_t end, Body&& body) {
  parallel_chunks(begin, end, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) body(i);
  });
}

}  // namespace piconas
