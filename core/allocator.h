// Tensor storage allocation: 64-byte aligned blocks, with a cache for large blocks.
// Blocks of 1 MiB and more are rounded up to 64 KiB and, when freed, kept for reuse by the
// next request of the same rounded size instead of going back to the system. Training and
// scoring loops allocate the same activation shapes every step; without the cache each one is
// a fresh mmap whose page faults cost ~45% of a forward/backward pass on large batches.
// The cache is process-wide and thread-safe, holds at most `limit` bytes (default 4 GiB) and
// can be emptied at any time with release_cached_blocks().
#pragma once
#include <cstddef>
#include <cstdint>

namespace piconas {

void* allocate_block(size_t bytes, size_t* capacity);  // capacity receives the usable size
void free_block(void* block, size_t capacity);

struct AllocatorStats {
  int64_t cached_bytes = 0;
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
};
AllocatorStats allocator_stats();
void set_allocator_cache_limit(int64_t bytes);
void release_cached_blocks();

}  // namespace piconas
