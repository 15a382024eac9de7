#include "core/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "core/error.h"

namespace piconas {

namespace {
constexpr size_t kAlignment = 64;
constexpr size_t kCacheMinimum = size_t{1} << 20;
constexpr size_t kLargeGranule = size_t{64} << 10;
constexpr size_t kHugePage = size_t{2} << 20;

struct BlockCache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;
  int64_t cached_bytes = 0;
  int64_t limit = int64_t{4} << 30;
  int64_t hits = 0, misses = 0;

  ~BlockCache();
};

BlockCache& cache() {
  static BlockCache instance;
  return instance;
}

size_t round_capacity(size_t bytes) {
  if (bytes < kCacheMinimum) {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    return rounded == 0 ? kAlignment : rounded;
  }
  const size_t granule = bytes >= kHugePage ? kHugePage : kLargeGranule;
  return (bytes + granule - 1) / granule * granule;
}

// Blocks of 2 MiB and more (whole 2 MiB pages by round_capacity) are mapped directly, 2 MiB
// aligned and marked for transparent huge pages: their first touch then faults one 2 MiB page
// instead of 512 pages of 4 KiB (a cold scoring pass of mbv2-bench at 96x96 took ~380,000
// faults, a third of its time). Elsewhere, and if the mapping fails, plain aligned_alloc.
bool is_mapped(size_t capacity) {
#ifdef __linux__
  return capacity >= kHugePage;
#else
  (void)capacity;
  return false;
#endif
}

void* system_allocate(size_t capacity) {
#ifdef __linux__
  if (is_mapped(capacity)) {
    const size_t span = capacity + kHugePage;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > start) munmap(raw, aligned - start);
    if (start + span > aligned + capacity)
      munmap(reinterpret_cast<void*>(aligned + capacity), start + span - aligned - capacity);
    void* block = reinterpret_cast<void*>(aligned);
    madvise(block, capacity, MADV_HUGEPAGE);  // advice only: without THP, 4 KiB pages
    return block;
  }
#endif
  return std::aligned_alloc(kAlignment, capacity);
}

void system_free(void* block, size_t capacity) {
#ifdef __linux__
  if (is_mapped(capacity)) {
    munmap(block, capacity);
    return;
  }
#endif
  (void)capacity;
  std::free(block);
}

BlockCache::~BlockCache() {
  for (auto& [size, block] : free_blocks) system_free(block, size);
}
}  // namespace

void* allocate_block(size_t bytes, size_t* capacity) {
  size_t rounded = round_capacity(bytes);
  *capacity = rounded;
  if (rounded >= kCacheMinimum) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(rounded);
    if (it != c.free_blocks.end()) {
      void* block = it->second;
      c.free_blocks.erase(it);
      c.cached_bytes -= static_cast<int64_t>(rounded);
      ++c.hits;
      return block;
    }
    ++c.misses;
  }
  void* block = system_allocate(rounded);
  PICONAS_CHECK(block != nullptr, "out of memory allocating " << bytes << " bytes");
  return block;
}

void free_block(void* block, size_t capacity) {
  if (!block) return;
  if (capacity >= kCacheMinimum) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cached_bytes + static_cast<int64_t>(capacity) <= c.limit) {
      c.free_blocks.emplace(capacity, block);
      c.cached_bytes += static_cast<int64_t>(capacity);
      return;
    }
  }
  system_free(block, capacity);
}

AllocatorStats allocator_stats() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.cached_bytes, c.hits, c.misses};
}

void set_allocator_cache_limit(int64_t bytes) {
  PICONAS_CHECK(bytes >= 0, "allocator cache limit must be >= 0, got " << bytes);
  {
    std::lock_guard<std::mutex> lock(cache().mutex);
    cache().limit = bytes;
  }
  release_cached_blocks();
}

void release_cached_blocks() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, block] : c.free_blocks) system_free(block, size);
  c.free_blocks.clear();
  c.cached_bytes = 0;
}

}  // namespace piconas
