// Data-parallel steps over the ranks of a Communicator (docs/distributed.md), shared by
// nas/train's SGD loop (sgd_loop.h: train_model and DNAS fine-tuning) and nas/dnas's search.
//
// A step: every rank holds the same global batch of n images (the loader's batches are a pure
// function of seed, epoch and index) and takes rows [n*r/R, n*(r+1)/R) (shard_batch); it scales
// its shard's mean loss by weight = rows / n, so the ranks' losses add up to the global mean;
// BatchNorm layers use the statistics of the global batch while shard_batchnorm is on; after
// backward, sum_gradients adds the ranks' gradients in rank order, and every rank takes the
// same optimizer step. On a single process every function is the identity.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/module.h"
#include "core/distributed.h"
#include "data/loader.h"

namespace piconas::nas::train {

struct BatchShard {
  Tensor images;                // this rank's rows (the whole batch on one process)
  std::vector<int32_t> labels;  // their labels
  int64_t global_count = 0;     // n, images in the global batch
  double weight = 1.0;          // rows / n
};
// Error when the batch has fewer images than there are ranks.
BatchShard shard_batch(const data::Batch& batch, const Communicator& comm);

// Global-batch BatchNorm statistics in every BatchNorm2d of net (on), or per process (off).
void shard_batchnorm(autograd::Module& net, const Communicator& comm, bool on);

// Error when net holds a module whose training draws cannot be sharded (dropout).
void check_shardable(autograd::Module& net, const Communicator& comm);

// Every parameter's gradient (zeros where none reached it) summed over the ranks.
void sum_gradients(const std::vector<autograd::Variable>& params, const Communicator& comm);

}  // namespace piconas::nas::train
