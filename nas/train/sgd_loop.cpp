#include "nas/train/sgd_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "autograd/functions.h"
#include "core/error.h"
#include "nas/train/data_parallel.h"
#include "nas/train/evaluate.h"

namespace piconas::nas::train {

SgdLoop::SgdLoop(autograd::Module& net, const autograd::SgdOptions& sgd,
                 const autograd::LrSchedule& schedule, const Communicator& comm,
                 double label_smoothing)
    : net_(net),
      params_(net.parameters()),
      sgd_(params_, sgd, autograd::decay_weights_only(params_)),
      schedule_(schedule),
      comm_(comm),
      label_smoothing_(label_smoothing),
      weight_decay_(sgd.weight_decay) {
  check_shardable(net_, comm_);
}

void SgdLoop::step(const data::Batch& batch, int64_t global_step, int64_t epoch, int64_t b,
                   EpochSums& sums) {
  const BatchShard shard = shard_batch(batch, comm_);
  const int64_t n = shard.global_count;
  sgd_.set_lr(schedule_.lr_at(global_step));
  sgd_.zero_grad();
  autograd::Variable logits = net_(autograd::Variable(shard.images));
  autograd::Variable loss = autograd::softmax_cross_entropy(logits, shard.labels, label_smoothing_);
  const std::vector<int32_t> predicted = predicted_classes(logits.value());
  int64_t correct = 0;
  for (size_t i = 0; i < shard.labels.size(); ++i) correct += predicted[i] == shard.labels[i];
  // [sum of losses, correct] over the global batch.
  double totals[2] = {loss.value().get(0) * static_cast<double>(shard.labels.size()),
                      static_cast<double>(correct)};
  comm_.allreduce_sum(totals, 2);
  const double loss_value =
      comm_.size() == 1 ? loss.value().get(0) : totals[0] / static_cast<double>(n);
  PICONAS_CHECK(std::isfinite(loss_value),
                "train: the loss became " << loss_value << " at epoch " << epoch + 1 << ", step "
                                          << b + 1 << " (the run diverged; lower the learning rate "
                                          << schedule_.base_lr << " or the weight decay "
                                          << weight_decay_
                                          << "); the checkpoints keep the last finite state");
  if (comm_.size() == 1) {
    loss.backward();
  } else {
    autograd::scale(loss, shard.weight).backward();  // the gradient of the global batch mean
    sum_gradients(params_, comm_);
  }
  sgd_.step();
  sums.correct += static_cast<int64_t>(totals[1]);
  sums.loss_sum += loss_value * static_cast<double>(n);
  sums.seen += n;
}

bool SgdLoop::run_epoch(data::Loader& loader, int64_t epoch, int64_t first_batch, int64_t batches,
                        int64_t& global_step, EpochSums& sums, const AfterStep& after_step) {
  using Clock = std::chrono::steady_clock;
  net_.set_training(true);
  shard_batchnorm(net_, comm_, true);
  loader.start_epoch(epoch);
  bool finished = true;
  for (int64_t b = 0; b < batches; ++b) {
    std::optional<data::Batch> batch = loader.next();
    PICONAS_CHECK(batch.has_value(),
                  "train: the loader ended after " << b << " of " << batches << " batches");
    if (b < first_batch) continue;
    const Clock::time_point start = Clock::now();
    step(*batch, global_step, epoch, b, sums);
    ++global_step;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (after_step && !after_step(b, batch->images.dim(0), seconds)) {
      finished = false;
      break;
    }
  }
  loader.stop();
  shard_batchnorm(net_, comm_, false);
  return finished;
}

EpochSums fit(autograd::Module& net, const data::Dataset& dataset,
              const std::vector<int64_t>& indices, const data::Normalization& normalization,
              const FitOptions& o, const std::function<void(int64_t, const EpochSums&)>& on_epoch) {
  PICONAS_CHECK(!indices.empty(), "train: no training images");
  data::LoaderOptions loader_options;
  loader_options.batch_size = o.batch_size;
  loader_options.seed = o.seed;
  loader_options.shuffle = true;
  loader_options.drop_last = static_cast<int64_t>(indices.size()) >= o.batch_size;
  data::Loader loader(dataset, indices, loader_options, normalization);
  autograd::LrSchedule schedule;
  schedule.kind = o.schedule;
  schedule.base_lr = o.sgd.lr;
  schedule.total_steps = std::max<int64_t>(1, o.epochs * loader.num_batches());
  const Communicator single;
  SgdLoop loop(net, o.sgd, schedule, o.communicator ? *o.communicator : single, o.label_smoothing);
  int64_t global_step = 0;
  EpochSums sums;
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    sums = EpochSums{};
    loop.run_epoch(loader, epoch, 0, loader.num_batches(), global_step, sums);
    if (on_epoch) on_epoch(epoch, sums);
  }
  return sums;
}

}  // namespace piconas::nas::train
