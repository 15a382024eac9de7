#include "ops/softmax_cross_entropy.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/elementwise.h"

namespace piconas::ops {

namespace {

template <class T>
void check_inputs(int64_t batch, int64_t classes, const int32_t* labels, T label_smoothing) {
  PICONAS_CHECK(batch >= 1 && classes >= 1, "softmax_cross_entropy: logits [" << batch << ", "
                                                << classes << "] must be non-empty");
  PICONAS_CHECK(label_smoothing >= T(0) && label_smoothing <= T(1),
                "softmax_cross_entropy: label_smoothing " << label_smoothing
                                                          << " must be in [0, 1]");
  for (int64_t b = 0; b < batch; ++b)
    PICONAS_CHECK(labels[b] >= 0 && labels[b] < classes,
                  "softmax_cross_entropy: sample " << b << " has label " << labels[b]
                                                   << ", expected in [0, " << classes << ")");
}

// Rows go parallel only for large logit tensors.
template <class Body>
void row_chunks(int64_t batch, int64_t classes, Body&& body) {
  if (batch * classes > kElementwiseParallelMin)
    parallel_chunks(0, batch, body);
  else
    body(int64_t{0}, batch);
}

}  // namespace

// Per row, with m = max logit and lse = m + log sum exp(l - m): log p_k = l_k - lse, and
//   loss_row = -(1 - e) log p_label - (e / K) sum_k log p_k.
// Shifting by m keeps every exp() in (0, 1], so logits of any magnitude give a finite loss.
// Row losses are summed serially in row order, so the result does not depend on threads.
template <class T>
T softmax_cross_entropy_forward(int64_t batch, int64_t classes, const T* logits,
                                const int32_t* labels, T label_smoothing, T* probs) {
  check_inputs(batch, classes, labels, label_smoothing);
  const double e = label_smoothing;
  std::vector<double> row_loss(static_cast<size_t>(batch));
  row_chunks(batch, classes, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const T* l = logits + b * classes;
      T* p = probs + b * classes;
      T m = l[0];
      for (int64_t k = 1; k < classes; ++k) m = l[k] > m ? l[k] : m;
      double sum_exp = 0.0, sum_shifted = 0.0;
      for (int64_t k = 0; k < classes; ++k) {
        const double shifted = static_cast<double>(l[k]) - m;
        const double ex = std::exp(shifted);
        p[k] = static_cast<T>(ex);
        sum_exp += ex;
        sum_shifted += shifted;
      }
      const double log_sum = std::log(sum_exp);
      const T inv = static_cast<T>(1.0 / sum_exp);
      for (int64_t k = 0; k < classes; ++k) p[k] *= inv;
      // log p_k = (l_k - m) - log_sum.
      const double logp_label = (static_cast<double>(l[labels[b]]) - m) - log_sum;
      const double sum_logp = sum_shifted - static_cast<double>(classes) * log_sum;
      row_loss[b] = -(1.0 - e) * logp_label - e / static_cast<double>(classes) * sum_logp;
    }
  });
  double total = 0.0;
  for (double v : row_loss) total += v;
  return static_cast<T>(total / static_cast<double>(batch));
}

template <class T>
void softmax_cross_entropy_backward(int64_t batch, int64_t classes, const T* probs,
                                    const int32_t* labels, T label_smoothing, T dloss,
                                    T* dlogits) {
  check_inputs(batch, classes, labels, label_smoothing);
  const T scale = dloss / static_cast<T>(batch);
  const T off_target = label_smoothing / static_cast<T>(classes);
  const T on_extra = T(1) - label_smoothing;
  row_chunks(batch, classes, [=](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const T* p = probs + b * classes;
      T* d = dlogits + b * classes;
      for (int64_t k = 0; k < classes; ++k) d[k] += scale * (p[k] - off_target);
      d[labels[b]] -= scale * on_extra;
    }
  });
}

template float softmax_cross_entropy_forward<float>(int64_t, int64_t, const float*,
                                                    const int32_t*, float, float*);
template double softmax_cross_entropy_forward<double>(int64_t, int64_t, const double*,
                                                      const int32_t*, double, double*);
template void softmax_cross_entropy_backward<float>(int64_t, int64_t, const float*,
                                                    const int32_t*, float, float, float*);
template void softmax_cross_entropy_backward<double>(int64_t, int64_t, const double*,
                                                     const int32_t*, double, double, double*);

}  // namespace piconas::ops
