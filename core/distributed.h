// The process group of a distributed run (docs/distributed.md): the one place piconas talks MPI.
//
// A Communicator is either a single process (rank 0 of 1; no MPI call is ever made) or the
// ranks of an MPI job. Communicator::join() joins the job when the process was started by an
// MPI launcher (mpirun/mpiexec set OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK) and the binary
// was built with PICONAS_MPI; anything else runs as a single process, so a plain command line
// never initialises MPI. A binary built without MPI and started by a launcher with more than one
// process refuses (N independent copies would write the same outputs).
//
// Collectives are called by every rank in the same order (MPI semantics); rank 0 is the root.
// allreduce_sum adds the ranks' buffers in rank order (((r0 + r1) + r2) + ...) on the root and
// broadcasts the sum, so the result is the same on every rank and, for a given number of ranks,
// from run to run (MPI_Allreduce promises neither).
// Failure: a rank that exits or dies ends the whole job (OpenMPI's mpirun kills the other ranks
// when one exits without MPI_Finalize); abort() ends it on purpose with an exit code.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace piconas {

class Communicator {
 public:
  Communicator() = default;  // a single process
  // Joins the launched MPI job (once per process; the returned object finalizes MPI when it is
  // destroyed), or returns a single process (see the header comment).
  static Communicator join();
  // True when this binary was built with PICONAS_MPI.
  static bool mpi_built();

  Communicator(Communicator&& other) noexcept;
  Communicator& operator=(Communicator&&) = delete;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  ~Communicator();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // The root's bytes on every rank.
  void broadcast(std::string& bytes) const;
  // Every rank's bytes on the root, in rank order; other ranks get an empty vector.
  std::vector<std::string> gather(const std::string& bytes) const;
  // data <- sum over ranks of data, added in rank order (see above); the same on every rank.
  void allreduce_sum(float* data, int64_t count) const;
  void allreduce_sum(double* data, int64_t count) const;
  void barrier() const;
  // Ends every rank of the job with exit code `code` (a single process: std::exit).
  [[noreturn]] void abort(int code) const;

 private:
  Communicator(int rank, int size) : rank_(rank), size_(size), joined_(true) {}
  int rank_ = 0;
  int size_ = 1;
  bool joined_ = false;  // this object initialised MPI and finalizes it
};

// Ranks of the job the launcher announces in the environment (1 when not launched by one).
int launched_ranks();

}  // namespace piconas
