// batchnorm2d sharded (data-parallel): a batch split over shards, each shard run on its own
// thread with a ShardSum that adds the shards' buffers (what Communicator::allreduce_sum does
// over MPI ranks), must give the whole batch's y and dx on every shard, and dgamma / dbeta whose
// sum over the shards is the whole batch's.
#include <doctest/doctest.h>

#include <barrier>
#include <cmath>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "misc_gradcheck.h"
#include "ops/batchnorm2d.h"

using namespace piconas;
using namespace piconas::ops;
using namespace piconas::test;

namespace {

// Sums equal-sized buffers of `shards` threads: every thread gets the total, added in shard order.
class ThreadShardSum {
 public:
  explicit ThreadShardSum(int shards) : parts_(shards), sync_(shards) {}
  ShardSum for_shard(int shard) {
    return [this, shard](double* data, int64_t count) {
      parts_[shard].assign(data, data + count);
      sync_.arrive_and_wait();
      for (int64_t i = 0; i < count; ++i) {
        double total = 0.0;
        for (const auto& part : parts_) total += part[i];
        data[i] = total;
      }
      sync_.arrive_and_wait();  // nobody overwrites a part before every shard has read it
    };
  }

 private:
  std::vector<std::vector<double>> parts_;
  std::barrier<> sync_;
};

struct ShardResult {
  std::vector<double> y, dx, dgamma, dbeta, running_mean, running_var;
};

}  // namespace

TEST_CASE("batchnorm2d sharded: shards of a batch equal the whole batch") {
  const int64_t batch = 7, channels = 3, spatial = 5;
  const int64_t plane = channels * spatial, n = batch * plane;
  // Large offsets per channel: the two-pass statistics must stay accurate when |mean| >> std.
  auto x = random_values(n, 51, -2, 2);
  for (int64_t i = 0; i < n; ++i) x[i] += 100.0 * static_cast<double>((i / spatial) % channels);
  const auto gamma = random_values(channels, 52, 0.5, 1.5), beta = random_values(channels, 53);
  const auto dy = random_values(n, 54);

  NormShape whole{batch, channels, spatial};
  ShardResult ref{std::vector<double>(n),
                  prefilled(n),
                  prefilled(channels),
                  prefilled(channels),
                  std::vector<double>(channels, 0.0),
                  std::vector<double>(channels, 1.0)};
  std::vector<double> mean(channels), invstd(channels);
  batchnorm2d_forward_train(whole, x.data(), gamma.data(), beta.data(), 1e-5, 0.1,
                            ref.running_mean.data(), ref.running_var.data(), ref.y.data(),
                            mean.data(), invstd.data());
  batchnorm2d_backward_train(whole, x.data(), gamma.data(), mean.data(), invstd.data(), dy.data(),
                             ref.dx.data(), ref.dgamma.data(), ref.dbeta.data());

  // The shards are std::threads of their own: their kernels stay off the shared worker pool.
  const int previous_threads = num_threads();
  set_num_threads(1);
  for (int shards : {1, 2, 3}) {
    CAPTURE(shards);
    ThreadShardSum sum(shards);
    std::vector<ShardResult> results(static_cast<size_t>(shards));
    std::vector<std::thread> threads;
    for (int r = 0; r < shards; ++r) {
      threads.emplace_back([&, r] {
        const int64_t lo = batch * r / shards, hi = batch * (r + 1) / shards;
        const NormShape s{hi - lo, channels, spatial};
        const int64_t m = (hi - lo) * plane;
        ShardResult& out = results[static_cast<size_t>(r)];
        out = {std::vector<double>(m),
               prefilled(m),
               prefilled(channels),
               prefilled(channels),
               std::vector<double>(channels, 0.0),
               std::vector<double>(channels, 1.0)};
        std::vector<double> shard_mean(channels), shard_invstd(channels);
        const double* xs = x.data() + lo * plane;
        batchnorm2d_forward_train_sharded(s, xs, gamma.data(), beta.data(), 1e-5, 0.1,
                                          out.running_mean.data(), out.running_var.data(),
                                          out.y.data(), shard_mean.data(), shard_invstd.data(),
                                          sum.for_shard(r));
        batchnorm2d_backward_train_sharded(
            s, xs, gamma.data(), shard_mean.data(), shard_invstd.data(), dy.data() + lo * plane,
            out.dx.data(), out.dgamma.data(), out.dbeta.data(), sum.for_shard(r));
      });
    }
    for (auto& t : threads) t.join();
    std::vector<double> dgamma = prefilled(channels), dbeta = prefilled(channels);
    for (int r = 0; r < shards; ++r) {
      const ShardResult& out = results[static_cast<size_t>(r)];
      const int64_t lo = batch * r / shards;
      for (size_t i = 0; i < out.y.size(); ++i) {
        CHECK(out.y[i] == doctest::Approx(ref.y[lo * plane + i]).epsilon(1e-9));
        CHECK(out.dx[i] - kPrefill ==
              doctest::Approx(ref.dx[lo * plane + i] - kPrefill).epsilon(1e-9));
      }
      for (int64_t c = 0; c < channels; ++c) {
        CHECK(out.running_mean[c] == doctest::Approx(ref.running_mean[c]).epsilon(1e-12));
        CHECK(out.running_var[c] == doctest::Approx(ref.running_var[c]).epsilon(1e-9));
        dgamma[c] += out.dgamma[c] - kPrefill;
        dbeta[c] += out.dbeta[c] - kPrefill;
      }
    }
    for (int64_t c = 0; c < channels; ++c) {
      CHECK(dgamma[c] == doctest::Approx(ref.dgamma[c]).epsilon(1e-9));
      CHECK(dbeta[c] == doctest::Approx(ref.dbeta[c]).epsilon(1e-9));
    }
  }
  set_num_threads(previous_threads);
}
