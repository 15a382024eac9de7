#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace piconas {

namespace {

// How long a waiting thread polls before it sleeps on a futex. Between two
// kernels of one network the calling thread runs serial work for a few to a few
// tens of microseconds, and a sleeping worker costs a wake-up of ~10-50 us per
// region: batch-1 inference ran 4x slower with OMP_WAIT_POLICY=passive on an
// idle machine. On an oversubscribed machine polling is harmful instead (the
// poller burns its share of a core and the scheduler then runs it late:
// libgomp's default spinning ran 10-100x slower than passive waiting under load
// 8), so polling stops while the 1-minute load average exceeds the core count.
constexpr std::chrono::microseconds kPollTime{200};
constexpr std::chrono::milliseconds kLoadCheckInterval{500};

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#endif
}

std::atomic<int> g_threads{default_threads()};
thread_local bool t_in_region = false;

// True while the machine has more runnable threads than cores (1-minute load
// average).
bool machine_overloaded() {
  double load = 0;
  if (getloadavg(&load, 1) != 1) return false;
  return load > static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
}

// A job is published as one 64-bit claim word: generation << 32 | chunks << 16
// | next chunk. A thread claims chunk `next` by a compare-exchange that also
// checks the generation, so a late worker can never claim a chunk of a later
// job it has not seen.
constexpr uint64_t pack(uint64_t generation, uint64_t chunks, uint64_t next) {
  return generation << 32 | chunks << 16 | next;
}

class Pool {
 public:
  static Pool& instance() {
    // Never destroyed: a kernel run from another static's destructor at exit must still find
    // it. Its workers sleep on a futex and end with the process.
    static Pool* pool = new Pool;
    return *pool;
  }

  void run(int64_t chunks, detail::ChunkFn fn, void* context) {
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (!lock.owns_lock() || chunks > 0xffff) {  // another thread's job is running: go serial
      run_serially(chunks, fn, context);
      return;
    }
    while (static_cast<int64_t>(workers_.size()) < chunks - 1)
      workers_.emplace_back([this] { worker_loop(); });
    fn_ = fn;
    context_ = context;
    error_ = nullptr;
    pending_.store(static_cast<int>(chunks), std::memory_order_relaxed);
    const uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
    claim_.store(pack(generation, chunks, 0), std::memory_order_release);
    generation_.store(generation);  // seq_cst: pairs with the sleepers_ update in wait_for_job
    if (sleepers_.load() > 0) generation_.notify_all();
    run_claimed(generation);  // the caller runs every chunk no worker has claimed yet
    wait_for_chunks();
    refresh_polling();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static void run_serially(int64_t chunks, detail::ChunkFn fn, void* context) {
    const bool outer = t_in_region;
    t_in_region = true;
    try {
      for (int64_t c = 0; c < chunks; ++c) fn(context, c);
    } catch (...) {
      t_in_region = outer;
      throw;
    }
    t_in_region = outer;
  }

  // Re-reads the load average at most every kLoadCheckInterval.
  void refresh_polling() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_load_check_) return;
    next_load_check_ = now + kLoadCheckInterval;
    poll_.store(!machine_overloaded(), std::memory_order_relaxed);
  }

  // Claims and runs chunks of job `generation` until none is left.
  void run_claimed(uint32_t generation) {
    uint64_t word = claim_.load(std::memory_order_acquire);
    for (;;) {
      if (word >> 32 != generation) return;
      const uint64_t chunks = word >> 16 & 0xffff, next = word & 0xffff;
      if (next >= chunks) return;
      if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      t_in_region = true;
      try {
        fn_(context_, static_cast<int64_t>(next));
      } catch (...) {
        std::lock_guard<std::mutex> guard(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      t_in_region = false;
      // seq_cst: pairs with caller_sleeping_ in wait_for_chunks.
      if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) pending_.notify_all();
      word = claim_.load(std::memory_order_acquire);
    }
  }

  // The caller polls while chunks are pending for up to kPollTime (if polling),
  // then sleeps until the thread finishing the last chunk wakes it.
  void wait_for_chunks() {
    if (poll_.load(std::memory_order_relaxed)) {
      const auto deadline = std::chrono::steady_clock::now() + kPollTime;
      while (pending_.load(std::memory_order_acquire) > 0) {
        for (int k = 0; k < 16; ++k) cpu_relax();
        if (std::chrono::steady_clock::now() >= deadline) break;
      }
    }
    for (;;) {
      caller_sleeping_.store(true);
      const int pending = pending_.load();
      if (pending == 0) break;
      pending_.wait(pending);
    }
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }

  // A worker polls for a generation other than `seen` for up to kPollTime (if
  // polling), then sleeps until run() publishes one.
  uint32_t wait_for_job(uint32_t seen) {
    if (poll_.load(std::memory_order_relaxed)) {
      const auto deadline = std::chrono::steady_clock::now() + kPollTime;
      for (;;) {
        const uint32_t g = generation_.load(std::memory_order_acquire);
        if (g != seen) return g;
        for (int k = 0; k < 16; ++k) cpu_relax();
        if (std::chrono::steady_clock::now() >= deadline) break;
      }
    }
    for (;;) {
      sleepers_.fetch_add(1);
      const uint32_t g = generation_.load();
      if (g == seen) generation_.wait(seen);
      sleepers_.fetch_sub(1);
      const uint32_t now = generation_.load(std::memory_order_acquire);
      if (now != seen) return now;
    }
  }

  void worker_loop() {
    uint32_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      seen = wait_for_job(seen);
      run_claimed(seen);
    }
  }

  std::mutex run_mutex_;  // one job at a time; a concurrent caller runs its
                          // chunks serially
  std::vector<std::thread> workers_;
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> pending_{0};  // chunks of the current job not yet finished
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> poll_{!machine_overloaded()};
  std::chrono::steady_clock::time_point next_load_check_{};
  detail::ChunkFn fn_ = nullptr;
  void* context_ = nullptr;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace

void set_num_threads(int threads) {
  PICONAS_CHECK(threads >= 1 && threads <= 1024,
                "thread count must be in [1, 1024], got " << threads);
  g_threads.store(threads);
}

int num_threads() { return g_threads.load(); }

bool in_parallel_region() { return t_in_region; }

int64_t parallel_chunk_count(int64_t n) {
  if (n <= 1 || in_parallel_region()) return 1;
  return std::min<int64_t>(n, num_threads());
}

int64_t fixed_part_count(int64_t items, int64_t min_items_per_part) {
  PICONAS_CHECK(min_items_per_part >= 1,
                "fixed_part_count: min_items_per_part must be >= 1, got " << min_items_per_part);
  return std::clamp<int64_t>(items / min_items_per_part, 1, kFixedParts);
}

namespace detail {
void run_chunks(int64_t chunks, ChunkFn fn, void* context) {
  Pool::instance().run(chunks, fn, context);
}
}  // namespace detail

}  // namespace piconas
