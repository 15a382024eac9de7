#include "core/parallel.h"

#include <algorithm>

#include "core/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace piconas {

namespace {
int configured_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
}  // namespace

void set_num_threads(int threads) {
  PICONAS_CHECK(threads >= 1, "thread count must be >= 1, got " << threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
  omp_set_max_active_levels(1);
#endif
}

int num_threads() { return configured_threads(); }

bool in_parallel_region() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

int64_t parallel_chunk_count(int64_t n) {
  if (n <= 1 || in_parallel_region()) return 1;
  return std::min<int64_t>(n, configured_threads());
}

}  // namespace piconas
