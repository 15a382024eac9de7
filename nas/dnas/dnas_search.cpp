#include "nas/dnas/dnas_search.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/optimizer.h"
#include "data/loader.h"
#include "nas/train/evaluate.h"

namespace piconas::nas::dnas {

using autograd::Variable;

namespace {
int64_t correct(const Tensor& logits, const std::vector<int32_t>& labels) {
  const std::vector<int32_t> predicted = predicted_classes(logits);  // nas/train's arg-max
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

autograd::LrSchedule cosine(double lr, int64_t total_steps) {
  autograd::LrSchedule s;
  s.kind = autograd::ScheduleKind::Cosine;
  s.base_lr = lr;
  s.total_steps = std::max<int64_t>(1, total_steps);
  return s;
}
}  // namespace

void search(DnasNetwork& net, const TrainData& data, const SearchOptions& o,
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
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    EpochReport r;
    r.epoch = epoch;
    r.arch_trained = epoch >= o.warmup_epochs && !arch.empty();
    const double e = static_cast<double>(std::max<int64_t>(0, epoch - o.warmup_epochs));
    r.temperature = std::max(o.t_min, o.t0 * std::pow(o.t_decay, e));
    net.selection().temperature = r.temperature;
    loader.start_epoch(epoch);
    int64_t seen = 0, hits = 0, batches = 0;
    double loss_total = 0.0;
    while (auto batch = loader.next()) {
      sgd.set_lr(schedule.lr_at(sgd.steps()));
      sgd.zero_grad();
      adam.zero_grad();
      const Variable logits = net(Variable(batch->images));
      Variable loss = autograd::softmax_cross_entropy(logits, batch->labels);
      loss_total += loss.value().get(0);
      if (r.arch_trained) {
        const Variable cost = net.cost(o.cost);
        r.cost = cost.value().get(0);
        loss = autograd::add(loss, autograd::scale(cost, o.lambda));
        if (o.icv_weight > 0.0)
          loss = autograd::add(loss, autograd::scale(net.icv_total(), o.icv_weight));
      }
      loss.backward();
      sgd.step();
      if (r.arch_trained) {
        adam.step();
        net.clamp_masks();
      }
      hits += correct(logits.value(), batch->labels);
      seen += static_cast<int64_t>(batch->labels.size());
      ++batches;
    }
    if (!r.arch_trained) {
      autograd::NoGradGuard guard;
      r.cost = net.cost(o.cost).value().get(0);
    }
    r.loss = loss_total / static_cast<double>(std::max<int64_t>(1, batches));
    r.accuracy = static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, seen));
    if (on_epoch) on_epoch(r);
  }
  net.selection().rng = nullptr;
  net.selection().mode = SelectionMode::Argmax;
}

double finetune(autograd::Module& net, const TrainData& data, const FinetuneOptions& o,
                const std::function<void(int64_t, double, double)>& on_epoch) {
  data::Loader loader = make_loader(data, o.batch_size, o.seed, true);
  const std::vector<Variable> weights = net.parameters();
  autograd::Sgd sgd(weights, {o.lr, o.momentum, false, o.weight_decay},
                    autograd::decay_weights_only(weights));
  const autograd::LrSchedule schedule = cosine(o.lr, o.epochs * loader.num_batches());
  net.set_training(true);
  double accuracy = 0.0;
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    loader.start_epoch(epoch);
    int64_t seen = 0, hits = 0, batches = 0;
    double loss_total = 0.0;
    while (auto batch = loader.next()) {
      sgd.set_lr(schedule.lr_at(sgd.steps()));
      sgd.zero_grad();
      const Variable logits = net(Variable(batch->images));
      Variable loss = autograd::softmax_cross_entropy(logits, batch->labels);
      loss.backward();
      sgd.step();
      loss_total += loss.value().get(0);
      hits += correct(logits.value(), batch->labels);
      seen += static_cast<int64_t>(batch->labels.size());
      ++batches;
    }
    accuracy = static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, seen));
    if (on_epoch)
      on_epoch(epoch, loss_total / static_cast<double>(std::max<int64_t>(1, batches)), accuracy);
  }
  return accuracy;
}

double evaluate(autograd::Module& net, const TrainData& data, int64_t batch_size) {
  PICONAS_CHECK(data.dataset != nullptr, "dnas: no dataset");
  PICONAS_CHECK(!data.indices.empty(), "dnas: no images to evaluate");
  return nas::evaluate(net, *data.dataset, data.normalization, data.indices, batch_size).accuracy;
}

}  // namespace piconas::nas::dnas
