// core/distributed.h on a single process (the MPI side runs in the ctests mpi_search, mpi_run,
// mpi_train): every collective is the identity, and the launcher's rank count is parsed
// strictly from the environment.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/distributed.h"
#include "core/error.h"

using namespace piconas;

namespace {
// Sets an environment variable for the scope, restoring the previous state after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};
}  // namespace

TEST_CASE("distributed: a single process is rank 0 of 1 and collectives are the identity") {
  const Communicator comm;
  CHECK(comm.rank() == 0);
  CHECK(comm.size() == 1);
  CHECK(comm.is_root());
  std::string bytes = "abc";
  comm.broadcast(bytes);
  CHECK(bytes == "abc");
  CHECK(comm.gather("xyz") == std::vector<std::string>{"xyz"});
  std::vector<float> f{1.5f, -2.0f};
  comm.allreduce_sum(f.data(), 2);
  CHECK(f == std::vector<float>{1.5f, -2.0f});
  double d[2] = {0.25, 4.0};
  comm.allreduce_sum(d, 2);
  CHECK(d[0] == 0.25);
  CHECK(d[1] == 4.0);
  comm.barrier();
}

TEST_CASE("distributed: the launcher's rank count comes from the environment, checked") {
  ScopedEnv a("OMPI_COMM_WORLD_SIZE", nullptr), b("PMI_SIZE", nullptr), c("PMIX_SIZE", nullptr);
  CHECK(launched_ranks() == 1);
  {
    ScopedEnv set("OMPI_COMM_WORLD_SIZE", "3");
    CHECK(launched_ranks() == 3);
  }
  {
    ScopedEnv set("PMI_SIZE", "2");
    CHECK(launched_ranks() == 2);
  }
  for (const char* bad : {"abc", "0", "-2", "3x", "99999999999"}) {
    CAPTURE(bad);
    ScopedEnv set("OMPI_COMM_WORLD_SIZE", bad);
    CHECK_THROWS_AS(launched_ranks(), Error);
  }
  // A launcher with one process: no MPI, a single process.
  ScopedEnv one("OMPI_COMM_WORLD_SIZE", "1");
  const Communicator joined = Communicator::join();
  CHECK(joined.size() == 1);
  CHECK(joined.rank() == 0);
}
