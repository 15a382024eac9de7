#include "nas/metrics/score.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "nas/metrics/jacob_cov.h"
#include "nas/metrics/metric_list.h"
#include "nas/metrics/naswot.h"
#include "nas/metrics/scored_weights.h"
#include "nas/metrics/snip.h"
#include "nas/metrics/synflow.h"

namespace piconas::nas::metrics {

using autograd::Module;
using autograd::Variable;

std::vector<std::string> network_metric_names() {
  std::vector<std::string> names;
  for (const std::string& name : metric_names())
    if (needs_network(parse_metric(name))) names.push_back(name);
  return names;
}

namespace {
struct Wanted {
  bool naswot = false, jacob_cov = false, snip = false, synflow = false;
};

Wanted parse_metrics(const std::vector<std::string>& metrics) {
  const auto known = network_metric_names();
  Wanted w;
  for (const std::string& m : metrics) {
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error("score_network: unknown metric '" + m + "'; known metrics: " + list);
    }
    w.naswot |= m == "naswot";
    w.jacob_cov |= m == "jacob_cov";
    w.snip |= m == "snip" || m == "grad_norm";
    w.synflow |= m == "synflow" || m == "logsynflow";
  }
  return w;
}

// Clears the hooks however the data pass ends.
struct HookReset {
  Module& net;
  ~HookReset() { net.set_forward_hook_recursive({}); }
};

// The shared train-mode pass: one forward, then up to two backward passes over its graph.
void data_pass(Module& net, const ScoringData& data, const Wanted& w, MetricValues& out) {
  const int64_t n = data.images.dim(0);
  net.set_training(true);
  NaswotKernel kernel(n);
  HookReset reset{net};
  if (w.naswot) net.set_forward_hook_recursive(naswot_hook(kernel));
  Variable x(data.images, w.jacob_cov);
  Variable logits;
  if (!w.jacob_cov && !w.snip) {
    autograd::NoGradGuard no_grad;
    logits = net(x);
  } else if (!w.snip) {
    ParameterGradsOff frozen(net);  // nothing needs parameter gradients
    logits = net(x);
  } else {
    logits = net(x);
  }
  net.set_forward_hook_recursive({});
  if (w.naswot) out["naswot"] = kernel.score();
  if (w.jacob_cov) {
    ParameterGradsOff frozen(net);
    logits.backward();
    out["jacob_cov"] = jacob_cov_from_rows(x.grad());
  }
  if (w.snip) {
    x.set_requires_grad(false);
    net.zero_grad();
    autograd::softmax_cross_entropy(logits, data.labels).backward();
    SnipScores s = snip_from_gradients(net);
    out["snip"] = s.snip;
    out["grad_norm"] = s.grad_norm;
  }
}

void check_data(const ScoringData& data, const Wanted& w) {
  PICONAS_CHECK(data.images.defined() && data.images.ndim() == 4 && data.images.dim(0) >= 1,
                "score_network: images " << shape_str(data.images.shape())
                                         << " must be [N, C, H, W] with N >= 1");
  if (w.snip)
    PICONAS_CHECK(static_cast<int64_t>(data.labels.size()) == data.images.dim(0),
                  "score_network: snip/grad_norm need one label per image, got "
                      << data.labels.size() << " labels for images "
                      << shape_str(data.images.shape()));
}
}  // namespace

double mean_of_finite(const std::vector<double>& values) {
  PICONAS_CHECK(!values.empty(), "mean_of_finite: no values");
  double sum = 0;
  int finite = 0;
  for (double x : values)
    if (std::isfinite(x)) {
      sum += x;
      ++finite;
    }
  return finite > 0 ? sum / finite : values.front();
}

MetricValues score_network(Module& net, const ScoringData& data,
                           const std::vector<std::string>& metrics, int trials, uint64_t seed) {
  const Wanted w = parse_metrics(metrics);
  PICONAS_CHECK(trials >= 1, "score_network: trials must be >= 1, got " << trials);
  check_data(data, w);
  const Rng base(seed);
  std::map<std::string, std::vector<double>> values;
  for (int t = 0; t < trials; ++t) {
    Rng rng = base.derive(static_cast<uint64_t>(t));
    net.initialize(rng);
    MetricValues trial;
    if (w.naswot || w.jacob_cov || w.snip) data_pass(net, data, w, trial);
    if (w.synflow) {
      const Shape& s = data.images.shape();
      SynflowScores syn = synflow(net, Shape(s.begin() + 1, s.end()));
      trial["synflow"] = syn.synflow;
      trial["logsynflow"] = syn.logsynflow;
    }
    for (const std::string& m : metrics) values[m].push_back(trial.at(m));
  }
  MetricValues result;
  for (auto& [name, v] : values) result[name] = mean_of_finite(v);
  return result;
}

}  // namespace piconas::nas::metrics
