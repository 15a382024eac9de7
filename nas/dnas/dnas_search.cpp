#include "nas/dnas/dnas_search.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/optimizer.h"
#include "data/loader.h"
#include "core/distributed.h"
#include "nas/train/data_parallel.h"
#include "nas/train/evaluate.h"
#include "nas/train/sgd_loop.h"

namespace piconas::nas::dnas {

using autograd::Variable;

namespace {
int64_t correct(const Tensor& logits, const std::vector<int32_t>& labels) {
  const std::vector<int32_t> predicted = train::predicted_classes(logits);  // nas/train's arg-max
  int64_t hits = 0;
  for (size_t i = 0; i < predicted.size(); ++i) hits += predicted[i] == labels[i];
  return hits;
}

data::Loader make_loader(const TrainData& d, int64_t batch, uint64_t seed, bool shuffle) {
  PICONAS_CHECK(d.dataset != nullptr, "dnas: no dataset");
  data::LoaderOptions o;
  o.batch_size = batch;
  o.seed = seed;
  o.shuffle = shuffle;
  o.drop_last = shuffle;
  o.prefetch = 1;
  return data::Loader(*d.dataset, d.indices, o, d.normalization);
}

// One data-parallel or single-process forward: logits of this rank's shard; adds the global
// batch's mean loss, hits and images to the running sums.
struct StepStats {
  double loss_total = 0.0;
  int64_t seen = 0, hits = 0, batches = 0;
};

void count_step(const Communicator& comm, const train::BatchShard& shard, const Variable& loss,
                const Variable& logits, StepStats& stats) {
  double sums[2] = {loss.value().get(0) * static_cast<double>(shard.labels.size()),
                    static_cast<double>(correct(logits.value(), shard.labels))};
  comm.allreduce_sum(sums, 2);
  stats.loss_total += comm.size() == 1 ? loss.value().get(0)
                                       : sums[0] / static_cast<double>(shard.global_count);
  stats.hits += static_cast<int64_t>(sums[1]);
  stats.seen += shard.global_count;
  ++stats.batches;
}

autograd::LrSchedule cosine(double lr, int64_t total_steps) {
  autograd::LrSchedule s;
  s.kind = autograd::ScheduleKind::Cosine;
  s.base_lr = lr;
  s.total_steps = std::max<int64_t>(1, total_steps);
  return s;
}
}  // namespace

void search_supernet(SearchNetwork& net, const TrainData& data, const SearchOptions& o,
                     const std::function<void(const EpochReport&)>& on_epoch) {
  data::Loader loader = make_loader(data, o.batch_size, o.seed, true);
  const std::vector<Variable> weights = net.parameters();
  autograd::Sgd sgd(weights, {o.weight_lr, o.momentum, false, o.weight_decay},
                    autograd::decay_weights_only(weights));
  const std::vector<Variable> arch = net.arch_parameters();
  autograd::AdamOptions adam_options;
  adam_options.lr = o.arch_lr;
  autograd::Adam adam(arch, adam_options);
  const autograd::LrSchedule schedule = cosine(o.weight_lr, o.epochs * loader.num_batches());
  Rng noise(o.seed ^ 0x9e3779b97f4a7c15ULL);
  net.selection().mode = o.mode;
  net.selection().rng = &noise;
  net.set_training(true);
  const Communicator single;
  const Communicator& comm = o.communicator ? *o.communicator : single;
  train::check_shardable(net, comm);
  train::shard_batchnorm(net, comm, true);
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    EpochReport r;
    r.epoch = epoch;
    r.arch_trained = epoch >= o.warmup_epochs && !arch.empty();
    const double e = static_cast<double>(std::max<int64_t>(0, epoch - o.warmup_epochs));
    r.temperature = std::max(o.t_min, o.t0 * std::pow(o.t_decay, e));
    net.selection().temperature = r.temperature;
    loader.start_epoch(epoch);
    StepStats stats;
    while (auto batch = loader.next()) {
      sgd.set_lr(schedule.lr_at(sgd.steps()));
      sgd.zero_grad();
      adam.zero_grad();
      const train::BatchShard shard = train::shard_batch(*batch, comm);
      const Variable logits = net(Variable(shard.images));
      Variable loss = autograd::softmax_cross_entropy(logits, shard.labels);
      count_step(comm, shard, loss, logits, stats);
      if (r.arch_trained) {
        const Variable cost = net.cost(o.cost);
        r.cost = cost.value().get(0);
        loss = autograd::add(loss, autograd::scale(cost, o.lambda));
        if (o.icv_weight > 0.0)
          loss = autograd::add(loss, autograd::scale(net.icv_total(), o.icv_weight));
      }
      if (comm.size() == 1) {
        loss.backward();
      } else {  // the ranks' scaled losses add up to the global one (cost terms included)
        autograd::scale(loss, shard.weight).backward();
        train::sum_gradients(weights, comm);
        train::sum_gradients(arch, comm);
      }
      sgd.step();
      if (r.arch_trained) {
        adam.step();
        net.clamp_masks();
      }
    }
    if (!r.arch_trained) {
      autograd::NoGradGuard guard;
      r.cost = net.cost(o.cost).value().get(0);
    }
    r.loss = stats.loss_total / static_cast<double>(std::max<int64_t>(1, stats.batches));
    r.accuracy = static_cast<double>(stats.hits) / static_cast<double>(std::max<int64_t>(1, stats.seen));
    if (on_epoch) on_epoch(r);
  }
  train::shard_batchnorm(net, comm, false);
  net.selection().rng = nullptr;
  net.selection().mode = SelectionMode::Argmax;
}

double finetune(autograd::Module& net, const TrainData& data, const FinetuneOptions& o,
                const std::function<void(int64_t, double, double)>& on_epoch) {
  PICONAS_CHECK(data.dataset != nullptr, "dnas: no dataset");
  train::FitOptions fit;
  fit.epochs = o.epochs;
  fit.batch_size = o.batch_size;
  fit.sgd = {o.lr, o.momentum, false, o.weight_decay};
  fit.seed = o.seed;
  fit.communicator = o.communicator;
  const train::EpochSums last =
      train::fit(net, *data.dataset, data.indices, data.normalization, fit,
                 [&](int64_t epoch, const train::EpochSums& sums) {
                   if (on_epoch) on_epoch(epoch, sums.loss(), sums.accuracy());
                 });
  return last.accuracy();
}

double evaluate(autograd::Module& net, const TrainData& data, int64_t batch_size) {
  PICONAS_CHECK(data.dataset != nullptr, "dnas: no dataset");
  PICONAS_CHECK(!data.indices.empty(), "dnas: no images to evaluate");
  return train::evaluate(net, *data.dataset, data.normalization, data.indices, batch_size).accuracy;
}

}  // namespace piconas::nas::dnas
