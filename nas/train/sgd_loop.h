// The one SGD training loop of piconas, shared by train_model (trainer.h, which adds data
// loading, validation, checkpoints and resuming around it) and DNAS fine-tuning (nas/dnas).
//
// A step: learning rate schedule.lr_at(global step), softmax cross-entropy with optional label
// smoothing, data-parallel over the ranks of a Communicator (data_parallel.h: each rank a shard
// of the global batch, BatchNorm over the global batch, gradients summed in rank order), one SGD
// step; the loss and hits of the global batch are added to the epoch's sums. A non-finite loss
// throws Error before the update ("train: the loss became ...").
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/module.h"
#include "autograd/optimizer.h"
#include "core/distributed.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/normalize.h"

namespace piconas::nas::train {

// Running sums of an epoch over global batches.
struct EpochSums {
  double loss_sum = 0;  // sum over images of the batch mean loss
  int64_t correct = 0, seen = 0;
  double loss() const { return seen > 0 ? loss_sum / static_cast<double>(seen) : 0.0; }
  double accuracy() const {
    return seen > 0 ? static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
  }
};

class SgdLoop {
 public:
  // Weight decay on conv and linear weights only (autograd::decay_weights_only).
  SgdLoop(autograd::Module& net, const autograd::SgdOptions& sgd,
          const autograd::LrSchedule& schedule, const Communicator& comm,
          double label_smoothing = 0.0);

  // Called after each step with the batch index in the epoch, its images and the seconds the
  // step took (loader wait excluded); returning false ends the epoch after that step.
  using AfterStep = std::function<bool(int64_t batch, int64_t images, double seconds)>;
  // Runs the batches [first_batch, batches) of the loader's epoch (0-based); earlier batches are
  // drawn and skipped (a resumed epoch: batches are a function of epoch and index). The network
  // trains with global-batch BatchNorm during the epoch. global_step counts the steps taken.
  // Returns false when after_step ended the epoch early (the loader is then stopped).
  bool run_epoch(data::Loader& loader, int64_t epoch, int64_t first_batch, int64_t batches,
                 int64_t& global_step, EpochSums& sums, const AfterStep& after_step = {});

  autograd::Sgd& sgd() { return sgd_; }

 private:
  void step(const data::Batch& batch, int64_t global_step, int64_t epoch, int64_t b,
            EpochSums& sums);

  autograd::Module& net_;
  std::vector<autograd::Variable> params_;
  autograd::Sgd sgd_;
  autograd::LrSchedule schedule_;
  const Communicator& comm_;
  double label_smoothing_;
  double weight_decay_;  // named by the divergence error
};

// Training of an already built network (no files, no validation), e.g. DNAS fine-tuning.
struct FitOptions {
  int64_t epochs = 3, batch_size = 64;
  autograd::SgdOptions sgd{0.05, 0.9, false, 1e-4};
  autograd::ScheduleKind schedule = autograd::ScheduleKind::Cosine;  // no warm-up
  double label_smoothing = 0.0;
  uint64_t seed = 0;                           // data::Loader seed: order of the batches
  const Communicator* communicator = nullptr;  // data-parallel over its ranks; nullptr: one process
};
// Trains net's weights in place on the images `indices` of dataset through SgdLoop (shuffled
// batches; the last partial batch is dropped when there is a full one); on_epoch (optional) sees
// each finished epoch (0-based) with its training sums. Returns the last epoch's sums.
EpochSums fit(autograd::Module& net, const data::Dataset& dataset,
              const std::vector<int64_t>& indices, const data::Normalization& normalization,
              const FitOptions& options,
              const std::function<void(int64_t epoch, const EpochSums& sums)>& on_epoch = {});

}  // namespace piconas::nas::train
