// softmax_cross_entropy (fused): logits [batch, classes], int32 labels in [0, classes).
// With label smoothing e, the target is (1 - e) one-hot + e / classes everywhere.
// loss = mean over the batch of -sum_k target_k * log softmax(logits)_k, computed with the
// max-shift log-sum-exp. Forward writes probs (softmax, [batch, classes]) for backward and
// returns the loss; a label out of range throws Error naming the sample and label.
// Backward ACCUMULATES dloss * (probs - target) / batch into dlogits.
#pragma once
#include <cstdint>

namespace piconas::ops {

template <class T>
T softmax_cross_entropy_forward(int64_t batch, int64_t classes, const T* logits,
                                const int32_t* labels, T label_smoothing, T* probs);
template <class T>
void softmax_cross_entropy_backward(int64_t batch, int64_t classes, const T* probs,
                                    const int32_t* labels, T label_smoothing, T dloss, T* dlogits);

}  // namespace piconas::ops
