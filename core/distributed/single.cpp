// Communicator without MPI (PICONAS_MPI off): always a single process.
#include <cstdlib>

#include "core/distributed.h"
#include "core/error.h"

namespace piconas {

bool Communicator::mpi_built() { return false; }

Communicator Communicator::join() {
  const int ranks = launched_ranks();
  PICONAS_CHECK(ranks == 1,
                "started by an MPI launcher with "
                    << ranks
                    << " processes, but this piconas was built without MPI "
                       "(configure with -DPICONAS_MPI=ON after installing libopenmpi-dev)");
  return Communicator();
}

Communicator::~Communicator() = default;

void Communicator::broadcast(std::string&) const {}
std::vector<std::string> Communicator::gather(const std::string& bytes) const { return {bytes}; }
void Communicator::allreduce_sum(float*, int64_t) const {}
void Communicator::allreduce_sum(double*, int64_t) const {}
void Communicator::barrier() const {}
void Communicator::abort(int code) const { std::exit(code); }

}  // namespace piconas
