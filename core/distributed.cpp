#include "core/distributed.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace piconas {

int launched_ranks() {
  // OpenMPI, then the PMI variables of MPICH's hydra and of Slurm's srun.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long ranks = std::strtol(value, &end, 10);
    PICONAS_CHECK(
        *end == '\0' && ranks >= 1 && ranks <= 1 << 20,
        "environment variable " << name << "='" << excerpt(value) << "' is not a rank count");
    return static_cast<int>(ranks);
  }
  return 1;
}

Communicator::Communicator(Communicator&& other) noexcept
    : rank_(other.rank_), size_(other.size_), joined_(other.joined_) {
  other.joined_ = false;
}

}  // namespace piconas
