// Loader: turns a Dataset (or a subset of its indices) into normalised float32 batches.
//
// A batch is images [B, C, H, W] float32 with x = (pixel / 255 - mean[c]) / std[c], plus the
// int32 labels and the dataset indices it came from. Batch b of an epoch holds items
// order[b*B .. b*B+B) of the epoch order; the last, smaller batch is dropped with drop_last.
//
// Determinism: the epoch order is a seeded permutation of `indices` by (seed, epoch) (or the
// given order when shuffle is off), and every sample's augmentation Rng is derived from
// (seed, epoch, batch index, position in batch). A batch is therefore a pure function of
// (dataset, options, epoch, batch index) — make_batch() — and does not depend on the
// prefetch thread, its timing, or the thread count.
//
// Prefetch: with prefetch > 0, start_epoch() launches one background std::thread that builds
// the batches of the epoch in order into a bounded queue of `prefetch` batches, so decoding
// and augmentation overlap the caller's compute. next() blocks for the next batch and returns
// nullopt after the last one; an exception thrown while building a batch is rethrown by next().
// Starting a new epoch, stop() or destruction stops the thread promptly (mid-epoch too).
// With prefetch == 0 batches are built synchronously inside next().
// The dataset must outlive the Loader. One consumer thread only.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/normalize.h"

namespace piconas::data {

struct LoaderOptions {
  int64_t batch_size = 32;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;
  AugmentConfig augment;  // all off by default (evaluation)
  int prefetch = 2;       // queue capacity in batches; 0 = no background thread
};

struct Batch {
  Tensor images;                 // [B, C, H, W] float32, normalised
  std::vector<int32_t> labels;   // [B]
  std::vector<int64_t> indices;  // [B] dataset indices
  int64_t batch_index = 0;
};

class Loader {
 public:
  Loader(const Dataset& dataset, std::vector<int64_t> indices, LoaderOptions options,
         Normalization normalization);
  // The Loader keeps a reference: a temporary dataset would dangle.
  Loader(Dataset&&, std::vector<int64_t>, LoaderOptions, Normalization) = delete;
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  int64_t num_batches() const;
  const LoaderOptions& options() const { return options_; }

  // The dataset indices of an epoch, in batch order (before drop_last).
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  // Builds batch `batch_index` of `epoch` (what the prefetch thread runs).
  Batch make_batch(int64_t epoch, int64_t batch_index) const;

  // Begins an epoch (stopping any unfinished one); then call next() until it returns nullopt.
  void start_epoch(int64_t epoch);
  std::optional<Batch> next();
  // Stops the prefetch thread and discards queued batches.
  void stop();
  // Batches built since construction (shows how far prefetch runs ahead).
  int64_t batches_built() const { return built_.load(); }

 private:
  Batch build(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index) const;
  void produce(int64_t epoch);

  const Dataset& dataset_;
  std::vector<int64_t> indices_;
  LoaderOptions options_;
  Normalization normalization_;

  std::vector<int64_t> order_;  // current epoch order
  int64_t epoch_ = -1;
  int64_t next_batch_ = 0;  // next batch handed out (synchronous mode and bookkeeping)
  mutable std::atomic<int64_t> built_{0};  // counts build() calls, also from const make_batch

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable space_;  // producer waits here when the queue is full
  std::condition_variable ready_;  // consumer waits here when the queue is empty
  std::deque<Batch> queue_;
  bool stopping_ = false;
  bool finished_ = false;  // producer built the last batch
  std::exception_ptr failure_;
};

}  // namespace piconas::data
