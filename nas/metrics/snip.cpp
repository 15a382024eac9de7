#include "nas/metrics/snip.h"

#include <cmath>

#include "autograd/functions.h"
#include "nas/metrics/scored_weights.h"

namespace piconas::nas::metrics {

SnipScores snip_from_gradients(autograd::Module& net) {
  SnipScores scores;
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (auto& entry : scored_weights(net)) {
    auto& w = entry.second;
    if (!w.has_grad()) continue;
    dispatch_dtype(w.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* theta = w.value().template data<T>();
      const T* g = w.grad().template data<T>();
      const int64_t n = w.value().numel();
      // Local sums so the loop vectorises (a running total in `scores` is reloaded each step).
      double snip_sum = 0, norm2 = 0;
#pragma omp simd reduction(+ : snip_sum, norm2)
      for (int64_t i = 0; i < n; ++i) {
        const double gi = g[i];
        snip_sum += std::fabs(static_cast<double>(theta[i]) * gi);
        norm2 += gi * gi;
      }
      scores.snip += snip_sum;
      scores.grad_norm += std::sqrt(norm2);
    });
  }
  return scores;
}

SnipScores snip(autograd::Module& net, const Tensor& images, const std::vector<int32_t>& labels) {
  net.set_training(true);
  net.zero_grad();
  autograd::Variable logits = net(autograd::Variable(images));
  autograd::softmax_cross_entropy(logits, labels).backward();
  return snip_from_gradients(net);
}

}  // namespace piconas::nas::metrics
