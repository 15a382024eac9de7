// Commands that run on every rank of an MPI job (docs/distributed.md) wrap their body in
// run_on_ranks: on one rank of several, an error is printed with the rank and ends the whole
// job at once (MPI_Abort: exit code 1 from mpirun), so no other rank waits for a message that
// will never come. On a single process the error goes to main as for every command.
#pragma once
#include <cstdio>
#include <exception>

#include "core/distributed.h"

namespace piconas::apps {

template <class Body>
void run_on_ranks(const Communicator& comm, Body&& body) {
  if (comm.size() == 1) {
    body();
    return;
  }
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "piconas: error on rank %d of %d: %s\n", comm.rank(), comm.size(),
                 e.what());
    std::fflush(stderr);
    comm.abort(1);
  }
}

}  // namespace piconas::apps
