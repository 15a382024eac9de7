#include "data/loader.h"

#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "data/split.h"

namespace piconas::data {

namespace {
// Stream numbers of Rng(seed).derive(): even for the epoch shuffle, odd for augmentation.
uint64_t shuffle_stream(int64_t epoch) { return 2 * static_cast<uint64_t>(epoch); }
uint64_t augment_stream(int64_t epoch) { return 2 * static_cast<uint64_t>(epoch) + 1; }
}  // namespace

Loader::Loader(const Dataset& dataset, std::vector<int64_t> indices, LoaderOptions options,
               Normalization normalization)
    : dataset_(dataset),
      indices_(std::move(indices)),
      options_(std::move(options)),
      normalization_(std::move(normalization)) {
  dataset_.validate();
  PICONAS_CHECK(!indices_.empty(), "Loader: no items to load");
  for (int64_t index : indices_)
    PICONAS_CHECK(index >= 0 && index < dataset_.count,
                  "Loader: index " << index << " outside [0, " << dataset_.count << ")");
  PICONAS_CHECK(options_.batch_size > 0, "Loader: batch_size must be > 0, got " << options_.batch_size);
  PICONAS_CHECK(options_.prefetch >= 0, "Loader: prefetch must be >= 0, got " << options_.prefetch);
  options_.augment.validate();
  normalization_.validate(dataset_.channels);
}

Loader::~Loader() { stop(); }

int64_t Loader::num_batches() const {
  int64_t n = size();
  int64_t b = options_.batch_size;
  return options_.drop_last || n % b == 0 ? n / b : n / b + 1;  // (n + b - 1) / b overflows
}

std::vector<int64_t> Loader::epoch_order(int64_t epoch) const {
  PICONAS_CHECK(epoch >= 0, "Loader: negative epoch " << epoch);
  if (!options_.shuffle) return indices_;
  Rng rng = Rng(options_.seed).derive(shuffle_stream(epoch));
  return seeded_permutation(indices_, rng.next_u64());
}

Batch Loader::make_batch(int64_t epoch, int64_t batch_index) const {
  return build(epoch_order(epoch), epoch, batch_index);
}

Batch Loader::build(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index) const {
  PICONAS_CHECK(batch_index >= 0 && batch_index < num_batches(),
                "Loader: batch " << batch_index << " outside [0, " << num_batches() << ")");
  int64_t begin = batch_index * options_.batch_size;
  int64_t end = std::min(begin + options_.batch_size, size());
  int64_t count = end - begin;
  int channels = dataset_.channels;
  int64_t pixels = static_cast<int64_t>(dataset_.height) * dataset_.width;
  int64_t image_size = dataset_.image_size();

  // Byte -> normalised float lookup per channel.
  std::vector<float> table(static_cast<size_t>(channels) * 256);
  for (int c = 0; c < channels; ++c)
    for (int v = 0; v < 256; ++v)
      table[c * 256 + v] = (static_cast<float>(v) / 255.0f - normalization_.mean[c]) /
                           normalization_.std[c];

  Batch batch;
  batch.batch_index = batch_index;
  batch.images = Tensor({count, channels, dataset_.height, dataset_.width}, DType::F32);
  batch.labels.resize(count);
  batch.indices.assign(order.begin() + begin, order.begin() + end);
  float* out = batch.images.data<float>();
  Rng batch_rng = Rng(options_.seed).derive(augment_stream(epoch)).derive(batch_index);
  std::vector<uint8_t> scratch(image_size);
  for (int64_t i = 0; i < count; ++i) {
    int64_t index = batch.indices[i];
    batch.labels[i] = dataset_.labels[index];
    const uint8_t* pixels_in = dataset_.image(index);
    if (options_.augment.any()) {
      std::copy(pixels_in, pixels_in + image_size, scratch.data());
      Rng rng = batch_rng.derive(i);
      augment_image(scratch.data(), channels, dataset_.height, dataset_.width, options_.augment, rng);
      pixels_in = scratch.data();
    }
    float* dst = out + i * image_size;
    for (int c = 0; c < channels; ++c) {
      const float* lut = &table[c * 256];
      for (int64_t p = 0; p < pixels; ++p) dst[c * pixels + p] = lut[pixels_in[c * pixels + p]];
    }
  }
  built_.fetch_add(1);
  return batch;
}

void Loader::start_epoch(int64_t epoch) {
  stop();
  order_ = epoch_order(epoch);
  epoch_ = epoch;
  next_batch_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.clear();
    stopping_ = false;
    finished_ = false;
    failure_ = nullptr;
  }
  if (options_.prefetch > 0) worker_ = std::thread([this, epoch] { produce(epoch); });
}

void Loader::produce(int64_t epoch) {
  int64_t batches = num_batches();
  for (int64_t b = 0; b < batches; ++b) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_.wait(lock, [&] {
        return stopping_ || static_cast<int64_t>(queue_.size()) < options_.prefetch;
      });
      if (stopping_) return;
    }
    try {
      Batch batch = build(order_, epoch, b);
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::current_exception();
      finished_ = true;
      ready_.notify_one();
      return;
    }
    ready_.notify_one();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  ready_.notify_one();
}

std::optional<Batch> Loader::next() {
  PICONAS_CHECK(epoch_ >= 0, "Loader: call start_epoch() before next()");
  if (options_.prefetch == 0) {
    if (next_batch_ >= num_batches()) return std::nullopt;
    return build(order_, epoch_, next_batch_++);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [&] { return !queue_.empty() || finished_ || stopping_; });
  if (!queue_.empty()) {
    Batch batch = std::move(queue_.front());
    queue_.pop_front();
    ++next_batch_;
    lock.unlock();
    space_.notify_one();
    return batch;
  }
  if (failure_) {
    std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
  return std::nullopt;
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_.notify_all();
  ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.clear();
  next_batch_ = num_batches();  // synchronous mode: the stopped epoch yields nothing more
}

}  // namespace piconas::data
