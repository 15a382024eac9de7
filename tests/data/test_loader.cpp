#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/loader.h"

using namespace piconas;
using namespace piconas::data;

namespace {
// count images of 1x2x2; every pixel of image i is i (so a batch reveals its indices).
Dataset numbered(int64_t count, int size = 2) {
  Dataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = size;
  for (int64_t i = 0; i < count; ++i)
    for (int p = 0; p < size * size; ++p) d.images.push_back(static_cast<uint8_t>(i));
  for (int64_t i = 0; i < count; ++i) d.labels.push_back(static_cast<int32_t>(i % 3));
  d.num_classes = 3;
  d.class_names = {"a", "b", "c"};
  return d;
}

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

LoaderOptions opts(int64_t batch, uint64_t seed, int prefetch, bool drop_last = false) {
  LoaderOptions o;
  o.batch_size = batch;
  o.seed = seed;
  o.prefetch = prefetch;
  o.drop_last = drop_last;
  return o;
}

std::vector<Batch> run_epoch(Loader& loader, int64_t epoch) {
  std::vector<Batch> batches;
  loader.start_epoch(epoch);
  while (auto batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

std::vector<int64_t> seen(const std::vector<Batch>& batches) {
  std::vector<int64_t> order;
  for (const Batch& b : batches) order.insert(order.end(), b.indices.begin(), b.indices.end());
  return order;
}
}  // namespace

TEST_CASE("loader: each index once per epoch, shapes, labels and normalised values") {
  Dataset d = numbered(10);
  Normalization norm{{0.5f}, {0.25f}};
  Loader loader(d, range(10), opts(4, 1, 2), norm);
  CHECK(loader.num_batches() == 3);
  std::vector<Batch> batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].images.shape() == Shape{4, 1, 2, 2});
  CHECK(batches[2].images.shape() == Shape{2, 1, 2, 2});
  std::vector<int64_t> order = seen(batches);
  CHECK(order == loader.epoch_order(0));
  CHECK(order != range(10));
  std::sort(order.begin(), order.end());
  CHECK(order == range(10));
  for (const Batch& b : batches)
    for (size_t i = 0; i < b.indices.size(); ++i) {
      CHECK(b.labels[i] == b.indices[i] % 3);
      double expected = (b.indices[i] / 255.0 - 0.5) / 0.25;
      CHECK(b.images.get(static_cast<int64_t>(i) * 4 + 3) == doctest::Approx(expected).epsilon(1e-6));
    }
}

TEST_CASE("loader: same seed same order, new epoch or seed another order, no shuffle keeps order") {
  Dataset d = numbered(50);
  Loader a(d, range(50), opts(8, 3, 2), Normalization::identity(1));
  Loader b(d, range(50), opts(8, 3, 0), Normalization::identity(1));
  Loader c(d, range(50), opts(8, 4, 1), Normalization::identity(1));
  std::vector<int64_t> a0 = seen(run_epoch(a, 0));
  CHECK(a0 == seen(run_epoch(b, 0)));
  CHECK(seen(run_epoch(a, 1)) != a0);
  CHECK(seen(run_epoch(a, 0)) == a0);
  CHECK(seen(run_epoch(c, 0)) != a0);
  LoaderOptions fixed = opts(8, 3, 2);
  fixed.shuffle = false;
  std::vector<int64_t> subset = {9, 2, 40};
  Loader plain(d, subset, fixed, Normalization::identity(1));
  CHECK(seen(run_epoch(plain, 5)) == subset);
}

TEST_CASE("loader: drop_last drops the short batch") {
  Dataset d = numbered(10);
  Loader loader(d, range(10), opts(4, 0, 2, true), Normalization::identity(1));
  CHECK(loader.num_batches() == 2);
  std::vector<Batch> batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 2);
  for (const Batch& b : batches) CHECK(b.images.shape() == Shape{4, 1, 2, 2});
  CHECK(seen(batches).size() == 8);
}

TEST_CASE("loader: augmented batches do not depend on the prefetch thread") {
  Dataset d = numbered(30, 6);
  for (size_t i = 0; i < d.images.size(); ++i) d.images[i] = static_cast<uint8_t>(i * 13);
  LoaderOptions with = opts(7, 11, 2);
  with.augment.pad = 2;
  with.augment.horizontal_flip = true;
  LoaderOptions without = with;
  without.prefetch = 0;
  Loader threaded(d, range(30), with, Normalization::identity(1));
  Loader inline_loader(d, range(30), without, Normalization::identity(1));
  for (int64_t epoch : {0, 1}) {
    std::vector<Batch> x = run_epoch(threaded, epoch);
    std::vector<Batch> y = run_epoch(inline_loader, epoch);
    REQUIRE(x.size() == y.size());
    for (size_t b = 0; b < x.size(); ++b) {
      CHECK(x[b].indices == y[b].indices);
      CHECK(x[b].images.to_vector() == y[b].images.to_vector());
      CHECK(x[b].images.to_vector() == threaded.make_batch(epoch, b).images.to_vector());
    }
  }
  // Augmentation is active: some batch differs from the unaugmented pixels.
  Loader plain(d, range(30), opts(7, 11, 0), Normalization::identity(1));
  CHECK(plain.make_batch(0, 0).images.to_vector() != threaded.make_batch(0, 0).images.to_vector());
}

TEST_CASE("loader: bounded prefetch and clean shutdown mid-epoch") {
  Dataset d = numbered(200, 16);
  auto future = std::async(std::launch::async, [&d] {
    Loader loader(d, range(200), opts(2, 0, 2), Normalization::identity(1));
    loader.start_epoch(0);
    REQUIRE(loader.next().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t built = loader.batches_built();
    loader.start_epoch(1);  // abandons epoch 0 mid-way
    REQUIRE(loader.next().has_value());
    return built;  // the loader is destroyed mid-epoch here
  });
  REQUIRE(future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  int64_t built = future.get();
  CHECK(built >= 1);
  CHECK(built <= 3);  // 1 consumed + at most 2 queued, never the whole epoch of 100
}

TEST_CASE("loader: bad settings throw") {
  Dataset d = numbered(5);
  CHECK_THROWS_AS(Loader(d, {}, opts(2, 0, 2), Normalization::identity(1)), Error);
  CHECK_THROWS_AS(Loader(d, {5}, opts(2, 0, 2), Normalization::identity(1)), Error);
  CHECK_THROWS_AS(Loader(d, {0}, opts(0, 0, 2), Normalization::identity(1)), Error);
  CHECK_THROWS_AS(Loader(d, {0}, opts(1, 0, 2), Normalization::identity(3)), Error);
  Loader loader(d, range(5), opts(2, 0, 2), Normalization::identity(1));
  CHECK_THROWS_WITH_AS(loader.next(), doctest::Contains("start_epoch"), Error);
  CHECK_THROWS_AS(loader.make_batch(0, 3), Error);
}
