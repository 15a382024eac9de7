// Communicator on MPI (PICONAS_MPI on). Every collective is skipped on a single process, so a
// run without a launcher never touches MPI.
// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "core/distributed.h"
#include "core/error.h"

namespace piconas {

namespace {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(text, length));
}

// Waits for a non-blocking collective without holding a core: OpenMPI's blocking calls poll at
// full speed, which on a shared machine takes the core from the ranks doing the work (a rank
// waiting for the root's next batch, the root waiting for the last share). Polls for about
// 50 microseconds, then sleeps between polls, up to 1 ms apart.
void wait_for(MPI_Request& request, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  auto pause = std::chrono::microseconds(20);
  while (true) {
    int done = 0;
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    if (std::chrono::steady_clock::now() - start < std::chrono::microseconds(50)) continue;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

int checked_count(int64_t count, const char* what) {
  PICONAS_CHECK(count >= 0 && count <= INT_MAX,
                "MPI " << what << ": " << count << " elements do not fit one message");
  return static_cast<int>(count);
}

// Fixed-order sum: gather every rank's buffer on the root, add them in rank order, broadcast.
template <class T>
void sum_in_rank_order(const Communicator& comm, T* data, int64_t count, MPI_Datatype type) {
  if (comm.size() == 1 || count == 0) return;
  const int n = checked_count(count, "allreduce");
  std::vector<T> all;
  if (comm.is_root()) all.resize(static_cast<size_t>(count) * static_cast<size_t>(comm.size()));
  MPI_Request request;
  check_mpi(MPI_Igather(data, n, type, all.data(), n, type, 0, MPI_COMM_WORLD, &request), "gather");
  wait_for(request, "gather");
  if (comm.is_root()) {
    std::memcpy(data, all.data(), static_cast<size_t>(count) * sizeof(T));
    for (int r = 1; r < comm.size(); ++r) {
      const T* part = all.data() + static_cast<size_t>(r) * static_cast<size_t>(count);
      for (int64_t i = 0; i < count; ++i) data[i] += part[i];
    }
  }
  check_mpi(MPI_Ibcast(data, n, type, 0, MPI_COMM_WORLD, &request), "broadcast");
  wait_for(request, "broadcast");
}

}  // namespace

bool Communicator::mpi_built() { return true; }

Communicator Communicator::join() {
  if (launched_ranks() == 1) return Communicator();
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "initialized");
  PICONAS_CHECK(!initialized, "MPI joined twice in one process");
  check_mpi(MPI_Init(nullptr, nullptr), "init");
  // Errors come back as codes (check_mpi turns them into Error) instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return Communicator(rank, size);
}

Communicator::~Communicator() {
  if (joined_) MPI_Finalize();
}

void Communicator::broadcast(std::string& bytes) const {
  if (size_ == 1) return;
  uint64_t length = bytes.size();
  MPI_Request request;
  check_mpi(MPI_Ibcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &request), "broadcast");
  wait_for(request, "broadcast");
  bytes.resize(length);
  check_mpi(MPI_Ibcast(bytes.data(), checked_count(static_cast<int64_t>(length), "broadcast"),
                       MPI_CHAR, 0, MPI_COMM_WORLD, &request),
            "broadcast");
  wait_for(request, "broadcast");
}

std::vector<std::string> Communicator::gather(const std::string& bytes) const {
  if (size_ == 1) return {bytes};
  const int length = checked_count(static_cast<int64_t>(bytes.size()), "gather");
  std::vector<int> lengths(is_root() ? size_ : 0);
  MPI_Request request;
  check_mpi(
      MPI_Igather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request),
      "gather");
  wait_for(request, "gather");
  std::vector<int> offsets(lengths.size());
  int64_t total = 0;
  for (size_t r = 0; r < lengths.size(); ++r) {
    offsets[r] = checked_count(total, "gather");
    total += lengths[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  check_mpi(MPI_Igatherv(bytes.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                         MPI_CHAR, 0, MPI_COMM_WORLD, &request),
            "gather");
  wait_for(request, "gather");
  std::vector<std::string> parts;
  for (size_t r = 0; r < lengths.size(); ++r)
    parts.push_back(all.substr(static_cast<size_t>(offsets[r]), static_cast<size_t>(lengths[r])));
  return parts;
}

void Communicator::allreduce_sum(float* data, int64_t count) const {
  sum_in_rank_order(*this, data, count, MPI_FLOAT);
}

void Communicator::allreduce_sum(double* data, int64_t count) const {
  sum_in_rank_order(*this, data, count, MPI_DOUBLE);
}

void Communicator::barrier() const {
  if (size_ == 1) return;
  MPI_Request request;
  check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier");
  wait_for(request, "barrier");
}

void Communicator::abort(int code) const {
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace piconas
