// batchnorm2d_stream: streaming (non-temporal) stores for the outputs of the fused BatchNorm
// kernels (ops/batchnorm2d_act.cpp), not a public interface. Header-only.
//
// An ordinary store first reads the destination line from memory (write-allocate); a tensor
// larger than the caches then costs a read and a write per line. A streaming store writes
// whole 64-byte lines without the read. The values and their bits are those of the plain
// stores; only where the lines go differs. After a run of streaming stores, stream_fence()
// orders them before anything the thread does next (the parallel region's end then publishes
// them to the other threads).
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__x86_64__) && defined(__AVX__)
#include <immintrin.h>
#endif

namespace piconas::ops::batchnorm2d_stream {

inline constexpr int64_t kLineBytes = 64;

// Outputs of at least this many bytes are stored streaming (measured: bench/README.md).
inline constexpr int64_t kStreamMinBytes = int64_t{8} << 20;

// Copies the 64-byte aligned `line` to the 64-byte aligned `dst` with streaming stores.
inline void stream_line(void* dst, const void* line) {
#if defined(__AVX512F__)
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_load_si512(line));
#elif defined(__x86_64__) && defined(__AVX__)
  const __m256i* from = static_cast<const __m256i*>(line);
  __m256i* to = static_cast<__m256i*>(dst);
  _mm256_stream_si256(to, _mm256_load_si256(from));
  _mm256_stream_si256(to + 1, _mm256_load_si256(from + 1));
#else
  std::memcpy(dst, line, kLineBytes);
#endif
}

inline void stream_fence() {
#if defined(__x86_64__) && defined(__AVX__)
  _mm_sfence();
#endif
}

// dst[i] = value(i) for i < count: plain stores up to the first 64-byte boundary of dst and
// after its last full line, streaming stores of whole lines in between.
template <class T, class F>
inline void write_streaming(T* dst, int64_t count, F&& value) {
  constexpr int64_t kLine = kLineBytes / static_cast<int64_t>(sizeof(T));
  const int64_t misalign = static_cast<int64_t>(reinterpret_cast<uintptr_t>(dst) % kLineBytes);
  const int64_t head =
      std::min<int64_t>(count, (kLineBytes - misalign) % kLineBytes / static_cast<int64_t>(sizeof(T)));
  int64_t i = 0;
  for (; i < head; ++i) dst[i] = value(i);
  for (; i + kLine <= count; i += kLine) {
    alignas(kLineBytes) T line[kLine];
#pragma omp simd
    for (int64_t l = 0; l < kLine; ++l) line[l] = value(i + l);
    stream_line(dst + i, line);
  }
  for (; i < count; ++i) dst[i] = value(i);
}

}  // namespace piconas::ops::batchnorm2d_stream
