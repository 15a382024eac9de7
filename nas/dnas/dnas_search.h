// The DNAS training: architecture search (weights and architecture trained together), and
// fine-tuning / evaluation of an exported network through nas/train (train::fit, the SGD loop
// of train_model, and train::evaluate). The search is single-level optimisation on one
// training set (PLiNIO style): every batch takes one SGD step on the weights (cosine learning
// rate) and, after the warm-up epochs, one Adam step on the architectural parameters, with
// loss = cross-entropy + lambda * cost + icv_weight * ICV. Gammas are clamped to [0, 1].
// The temperature of epoch e (counted from the end of the warm-up) is
// max(t_min, t0 * t_decay^e). Batches come from data::Loader, so a seed fixes the run.
// With a communicator of several ranks, search and finetune take data-parallel steps
// (nas/train/data_parallel.h): each rank a shard of every batch, BatchNorm over the global batch,
// weight and architecture gradients summed over the ranks; the result equals one process's
// within float rounding and is bit-identical for a given rank and thread count.
#pragma once
#include <functional>
#include <vector>

#include "autograd/module.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "nas/dnas/supernet.h"

namespace piconas {
class Communicator;
}

namespace piconas::nas::dnas {

struct TrainData {
  const data::Dataset* dataset = nullptr;
  std::vector<int64_t> indices;  // the images used
  data::Normalization normalization;
};

struct SearchOptions {
  CostKind cost = CostKind::Params;
  double lambda = 0.0;
  double icv_weight = 0.0;
  SelectionMode mode = SelectionMode::Softmax;
  double t0 = 1.0, t_decay = 1.0, t_min = 0.05;
  int64_t epochs = 5, warmup_epochs = 0, batch_size = 64;
  double weight_lr = 0.05, momentum = 0.9, weight_decay = 1e-4;
  double arch_lr = 0.02;
  uint64_t seed = 0;
  const Communicator* communicator = nullptr;  // data-parallel over its ranks; nullptr: one process
};

struct EpochReport {
  int64_t epoch = 0;
  double temperature = 1.0;
  double loss = 0.0, accuracy = 0.0;  // training batches, mean
  double cost = 0.0;                  // cost() of the last batch
  bool arch_trained = false;          // false during the warm-up
};

// Runs the search in place; on_epoch (optional) sees each finished epoch.
void search_supernet(SearchNetwork& net, const TrainData& data, const SearchOptions& options,
                     const std::function<void(const EpochReport&)>& on_epoch = {});

struct FinetuneOptions {
  int64_t epochs = 3, batch_size = 64;
  double lr = 0.05, momentum = 0.9, weight_decay = 1e-4;
  uint64_t seed = 0;
  const Communicator* communicator = nullptr;  // data-parallel over its ranks; nullptr: one process
};
// Trains the weights of any module mapping images to logits through nas/train's one training
// loop (train::fit: SGD without Nesterov, cosine learning rate without warm-up, shuffled batches
// seeded by `seed`, the last partial batch dropped); returns the last epoch's training accuracy.
// on_epoch sees the epoch (0-based), its mean training loss per image and its accuracy.
double finetune(
    autograd::Module& net, const TrainData& data, const FinetuneOptions& options,
    const std::function<void(int64_t epoch, double loss, double accuracy)>& on_epoch = {});

// Top-1 accuracy in eval mode (restores the previous mode), through nas/train's evaluate().
double evaluate(autograd::Module& net, const TrainData& data, int64_t batch_size = 256);

}  // namespace piconas::nas::dnas
