// core/parallel's worker pool: chunk boundaries, nesting, exceptions,
// concurrent callers and thousands of back-to-back regions (the pattern of
// batch-1 inference).
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"

using namespace piconas;

namespace {
struct ThreadCount {
  explicit ThreadCount(int threads) : saved(num_threads()) { set_num_threads(threads); }
  ~ThreadCount() { set_num_threads(saved); }
  int saved;
};
}  // namespace

TEST_CASE(
    "parallel_chunks: chunk c covers [n*c/chunks, n*(c+1)/chunks) for "
    "1..5 threads") {
  for (int threads = 1; threads <= 5; ++threads) {
    ThreadCount guard(threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1001}) {
      CAPTURE(threads);
      CAPTURE(n);
      std::vector<int64_t> owner(n, -1);
      std::atomic<int> calls{0};
      parallel_chunks(10, 10 + n, [&](int64_t lo, int64_t hi) {
        calls++;
        for (int64_t i = lo; i < hi; ++i) owner[i - 10] = lo;
      });
      const int64_t chunks = parallel_chunk_count(n);
      CHECK(calls == chunks);
      for (int64_t c = 0; c < chunks; ++c)
        for (int64_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i)
          REQUIRE(owner[i] == 10 + n * c / chunks);
    }
  }
}

TEST_CASE(
    "parallel_for inside a parallel region runs serially on the calling "
    "thread") {
  ThreadCount guard(3);
  std::vector<int> inner_chunks(3, 0);
  parallel_for(0, 3, [&](int64_t i) {
    CHECK(in_parallel_region());
    CHECK(parallel_chunk_count(100) == 1);
    const std::thread::id me = std::this_thread::get_id();
    parallel_chunks(0, 100, [&](int64_t, int64_t) {
      inner_chunks[i]++;
      CHECK(std::this_thread::get_id() == me);
    });
  });
  CHECK(!in_parallel_region());
  for (int c : inner_chunks) CHECK(c == 1);
}

TEST_CASE(
    "an exception thrown by a chunk reaches the caller after every chunk "
    "finished") {
  ThreadCount guard(2);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> finished{0};
    CHECK_THROWS_AS(parallel_for(0, 2,
                                 [&](int64_t i) {
                                   if (i == round % 2) throw std::runtime_error("chunk failed");
                                   finished++;
                                 }),
                    std::runtime_error);
    CHECK(finished == 1);
  }
  std::atomic<int> after{0};
  parallel_for(0, 2, [&](int64_t) { after++; });  // the pool still works
  CHECK(after == 2);
}

TEST_CASE(
    "thousands of back-to-back regions and concurrent callers give exact "
    "sums") {
  ThreadCount guard(2);
  int64_t total = 0;
  for (int round = 0; round < 5000; ++round) {
    std::vector<int64_t> part(2, 0);
    parallel_chunks(0, 2 * (round % 7 + 1),
                    [&](int64_t lo, int64_t hi) { part[lo == 0 ? 0 : 1] += hi - lo; });
    total += part[0] + part[1];
  }
  int64_t expected = 0;
  for (int round = 0; round < 5000; ++round) expected += 2 * (round % 7 + 1);
  CHECK(total == expected);
  // Two application threads at once: one of them runs its chunks serially, both
  // complete.
  std::vector<int64_t> sums(2, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t)
    callers.emplace_back([&, t] {
      for (int round = 0; round < 500; ++round) {
        std::atomic<int64_t> sum{0};
        parallel_for(0, 100, [&](int64_t i) { sum += i; });
        sums[t] += sum;
      }
    });
  for (std::thread& c : callers) c.join();
  CHECK(sums[0] == 500 * 4950);
  CHECK(sums[1] == 500 * 4950);
}
