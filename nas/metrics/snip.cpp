#include "nas/metrics/snip.h"

#include <cmath>

#include "autograd/functions.h"
#include "nas/metrics/scored_weights.h"

namespace piconas::nas {

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
      double norm2 = 0;
      for (int64_t i = 0; i < w.value().numel(); ++i) {
        const double gi = g[i];
        scores.snip += std::fabs(static_cast<double>(theta[i]) * gi);
        norm2 += gi * gi;
      }
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

}  // namespace piconas::nas
