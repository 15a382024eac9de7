#include "core/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.h"

namespace piconas {

namespace {
constexpr size_t kAlignment = 64;
constexpr size_t kCacheMinimum = size_t{1} << 20;
constexpr size_t kLargeGranule = size_t{64} << 10;

struct BlockCache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;
  int64_t cached_bytes = 0;
  int64_t limit = int64_t{4} << 30;
  int64_t hits = 0, misses = 0;

  ~BlockCache() {
    for (auto& [size, block] : free_blocks) std::free(block);
  }
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
  return (bytes + kLargeGranule - 1) / kLargeGranule * kLargeGranule;
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
  void* block = std::aligned_alloc(kAlignment, rounded);
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
  std::free(block);
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
  for (auto& [size, block] : c.free_blocks) std::free(block);
  c.free_blocks.clear();
  c.cached_bytes = 0;
}

}  // namespace piconas
