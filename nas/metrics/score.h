// score_network: the training-free metrics of one network, sharing work between them.
// For each trial t the net is re-initialised from Rng(seed).derive(t) (Module::initialize:
// Kaiming-normal fan_out conv/linear weights, zero biases, BN gamma 1 / beta 0), then:
//   - one train-mode forward of the scoring batch (input requiring a gradient only when
//     jacob_cov is asked) gives the NASWOT codes through a forward hook;
//   - jacob_cov: backward of the summed logits with parameter gradients switched off;
//   - snip / grad_norm: backward of the mean cross-entropy of the same logits, with the
//     input gradient switched off and the parameter gradients zeroed first;
//   - synflow / logsynflow: one float64 batch-1 pass with bit-exact restore (synflow.h).
// Each metric is averaged over the trials: the mean of its finite values, or, when no trial
// gave a finite value, the first trial's value (-inf for naswot, NaN for jacob_cov).
// Afterwards the net holds the last trial's weights, is in train mode and has no forward hooks.
// The kernels run on all threads and cut their reductions into parts fixed by the problem
// size (core/parallel.h fixed_part_count): every value is bit-identical for any thread count,
// and also when networks are scored at once on separate threads (as the search does; the
// kernels of each then run serially).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autograd/module.h"

namespace piconas::nas::metrics {

struct ScoringData {
  Tensor images;                // [N, C, H, W], normalised, the net's dtype
  std::vector<int32_t> labels;  // size N; needed by snip and grad_norm only
};

using MetricValues = std::map<std::string, double>;

// naswot, jacob_cov, synflow, logsynflow, snip, grad_norm
std::vector<std::string> network_metric_names();

// The trial average: the mean of the finite values; when none is finite, the first value.
double mean_of_finite(const std::vector<double>& values);

// metrics: names from network_metric_names() (an unknown name is an Error listing them);
// trials >= 1.
MetricValues score_network(autograd::Module& net, const ScoringData& data,
                           const std::vector<std::string>& metrics, int trials, uint64_t seed);

}  // namespace piconas::nas::metrics
