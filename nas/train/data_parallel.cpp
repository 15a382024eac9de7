#include "nas/train/data_parallel.h"

#include <algorithm>
#include <string>

#include "autograd/layers.h"
#include "core/error.h"

namespace piconas::nas::train {

BatchShard shard_batch(const data::Batch& batch, const Communicator& comm) {
  BatchShard shard;
  const int64_t n = batch.images.dim(0);
  shard.global_count = n;
  if (comm.size() == 1) {
    shard.images = batch.images;
    shard.labels = batch.labels;
    return shard;
  }
  const int64_t ranks = comm.size(), rank = comm.rank();
  PICONAS_CHECK(n >= ranks, "data-parallel: a batch of "
                                << n << " images cannot be split over " << ranks
                                << " ranks (raise the batch size or use fewer ranks)");
  PICONAS_CHECK(batch.images.dtype() == DType::F32, "data-parallel: batches must be float32");
  const int64_t lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
  Shape shape = batch.images.shape();
  const int64_t per_image = batch.images.numel() / n;
  shape[0] = hi - lo;
  shard.images = Tensor::empty(shape, DType::F32);
  std::copy_n(batch.images.data<float>() + lo * per_image, (hi - lo) * per_image,
              shard.images.data<float>());
  shard.labels.assign(batch.labels.begin() + lo, batch.labels.begin() + hi);
  shard.weight = static_cast<double>(hi - lo) / static_cast<double>(n);
  return shard;
}

void shard_batchnorm(autograd::Module& net, const Communicator& comm, bool on) {
  if (comm.size() == 1) return;
  net.visit([&](autograd::Module& m) {
    if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m))
      bn->state.shard_sum = on ? ops::ShardSum([&comm](double* data, int64_t count) {
        comm.allreduce_sum(data, count);
      })
                               : ops::ShardSum();
  });
}

void check_shardable(autograd::Module& net, const Communicator& comm) {
  if (comm.size() == 1) return;
  net.visit([](autograd::Module& m) {
    PICONAS_CHECK(std::string(m.kind()) != "dropout",
                  "data-parallel: dropout's random draws cannot be sharded over ranks");
  });
}

void sum_gradients(const std::vector<autograd::Variable>& params, const Communicator& comm) {
  if (comm.size() == 1) return;
  int64_t total = 0;
  for (const autograd::Variable& p : params) total += p.value().numel();
  std::vector<float> grads(static_cast<size_t>(total));
  int64_t offset = 0;
  for (const autograd::Variable& p : params) {
    const Tensor& g = autograd::grad_buffer(*p.node());
    PICONAS_CHECK(g.dtype() == DType::F32, "data-parallel: gradients must be float32");
    std::copy_n(g.data<float>(), g.numel(), grads.data() + offset);
    offset += g.numel();
  }
  comm.allreduce_sum(grads.data(), total);
  offset = 0;
  for (const autograd::Variable& p : params) {
    Tensor& g = autograd::grad_buffer(*p.node());
    std::copy_n(grads.data() + offset, g.numel(), g.data<float>());
    offset += g.numel();
  }
}

}  // namespace piconas::nas::train
