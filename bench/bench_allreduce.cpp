// The cost of Communicator::allreduce_sum (core/distributed.h) per call, for float buffers of
// the sizes of a network's gradients; docs/distributed.md models data-parallel training with it.
// Run: mpirun --oversubscribe --allow-run-as-root -np 2 build/bin/bench_allreduce
// (a single process measures nothing but the call). Prints one line per size on rank 0.
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/distributed.h"

int main() {
  const piconas::Communicator comm = piconas::Communicator::join();
  for (int64_t count : {1000, 10000, 100000, 1000000}) {
    std::vector<float> buffer(static_cast<size_t>(count), 1.0f);
    const int repeats = count >= 1000000 ? 10 : 50;
    comm.barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r) comm.allreduce_sum(buffer.data(), count);
    comm.barrier();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
    if (comm.is_root())
      std::printf("allreduce_sum ranks %d floats %lld: %.3f ms per call (%.2f GB/s of buffer)\n",
                  comm.size(), static_cast<long long>(count), 1e3 * seconds,
                  static_cast<double>(count) * 4 / seconds / 1e9);
  }
  return 0;
}
