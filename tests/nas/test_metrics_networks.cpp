// Metrics on whole networks of the search spaces: NASWOT codes only the activation layers
// (checked against codes collected independently), logsynflow is finite on ConvNeXt networks
// (LayerNorm muted), and every metric is identical for 1, 2 and 3 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "autograd/layers.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/metrics/naswot.h"
#include "nas/metrics/score.h"
#include "nas/metrics/synflow.h"
#include "nas/search/nb201_network.h"
#include "nas/search/nb201_space.h"
#include "nas/search/search_space.h"
#include "ops/conv2d.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::autograd;

namespace {
metrics::ScoringData normal_scoring_data(int64_t n, const Shape3& in, int classes, uint64_t seed) {
  Rng rng(seed);
  metrics::ScoringData data{Tensor({n, in.c, in.h, in.w}), {}};
  fill_normal(data.images, rng, 0.0, 1.0);
  for (int64_t i = 0; i < n; ++i)
    data.labels.push_back(static_cast<int32_t>(rng.uniform_int(0, classes - 1)));
  return data;
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(previous_); }

 private:
  int previous_;
};

bool is_activation_kind(const char* kind) {
  for (const char* name : {"relu", "relu6", "gelu", "hardswish"})
    if (std::strcmp(kind, name) == 0) return true;
  return false;
}
}  // namespace

TEST_CASE("naswot on a real network codes the activation outputs only") {
  // Every block kind and a residual: many non-activation modules (conv, BN, LayerNorm, add).
  ArchSpec spec = parse_arch(
      "blocks:in=1x12x12,classes=4,act=relu,stem=8k3s1|ir:k3e2s1c8|ds:k3s2c16|cn:k3e2s1c16|head=0");
  auto net = build_network(spec);
  const int64_t n = 12;
  Rng rng(5);
  Tensor images({n, 1, 12, 12});
  fill_normal(images, rng, 0.0, 1.0);
  // score_network initialises the net (seed 5) and leaves it with those weights, in train mode.
  metrics::ScoringData data{images, std::vector<int32_t>(n, 0)};
  const double scored = metrics::score_network(*net, data, {"naswot"}, 1, 5).at("naswot");
  // Independent codes: a hook that keeps (output > 0) of every module whose kind names an
  // activation, concatenated in call order.
  std::vector<std::vector<uint8_t>> codes(n);
  int64_t layers = 0, all_modules = 0;
  net->set_training(true);
  net->set_forward_hook_recursive([&](const Module& m, const Variable& out) {
    ++all_modules;
    if (!is_activation_kind(m.kind())) return;
    ++layers;
    const std::vector<double> v = out.value().to_vector();
    const size_t units = v.size() / n;
    for (int64_t i = 0; i < n; ++i)
      for (size_t u = 0; u < units; ++u) codes[i].push_back(v[i * units + u] > 0);
  });
  {
    NoGradGuard no_grad;
    (*net)(Variable(images));
  }
  net->set_forward_hook_recursive({});
  REQUIRE(layers >= 5);
  REQUIRE(all_modules > 2 * layers);
  const double expected = metrics::naswot_from_codes(codes);
  REQUIRE(std::isfinite(expected));
  CHECK(scored == doctest::Approx(expected).epsilon(1e-12));
  CHECK(metrics::naswot(*net, images) == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("logsynflow is finite on ConvNeXt networks of the blocks space (relu and relu6)") {
  for (nas::Activation act : {nas::Activation::ReLU, nas::Activation::ReLU6}) {
    search::SpaceOptions o;
    o.input = {1, 16, 16};
    o.num_classes = 10;
    o.activation = act;
    o.min_blocks = 3;
    o.max_blocks = 5;
    auto space = search::make_search_space("blocks", o);
    Rng rng(21);
    int convnext_nets = 0;
    for (int draw = 0; draw < 60 && convnext_nets < 8; ++draw) {
      const search::Candidate c = space->sample(rng);
      if (c.text.find("|cn:") == std::string::npos) continue;
      ++convnext_nets;
      auto net = space->build(c);
      Rng init(static_cast<uint64_t>(draw));
      net->initialize(init);
      const metrics::SynflowScores s = metrics::synflow(*net, {1, 16, 16});
      INFO(c.text);
      CHECK(std::isfinite(s.logsynflow));
      CHECK(s.logsynflow >= 0);
      CHECK(std::isfinite(s.synflow));
    }
    CHECK(convnext_nets == 8);
  }
}

namespace {
// Every metric of `net` with 1, 2 and 3 threads, compared bit for bit. The kernels cut their
// reductions into parts fixed by the problem size (core/parallel.h fixed_part_count); a part
// count taken from the thread count changes the last bits of snip, grad_norm and jacob_cov.
void check_thread_independent(autograd::Module& net, const metrics::ScoringData& data) {
  std::vector<metrics::MetricValues> values;
  for (int threads : {1, 2, 3}) {
    ThreadCount count(threads);
    values.push_back(metrics::score_network(net, data, metrics::network_metric_names(), 2, 4));
  }
  REQUIRE(values[0].size() == metrics::network_metric_names().size());
  for (auto& [name, value] : values[0]) {
    INFO(name);
    CHECK(std::isfinite(value));
    CHECK(std::memcmp(&value, &values[1].at(name), sizeof(double)) == 0);
    CHECK(std::memcmp(&value, &values[2].at(name), sizeof(double)) == 0);
  }
}
}  // namespace

TEST_CASE("every metric is identical for 1, 2 and 3 threads: every block kind") {
  // 30 images x 6 rows: weight gradients of the pointwise and stem convs over 8 fixed parts.
  ArchSpec spec = parse_arch(
      "blocks:in=3x12x12,classes=5,act=relu6,stem=8k3s1|ir:k3e2s1c8|ds:k5s2c16|cn:k3e2s1c16|"
      "ir:k3e4s2c32|head=32");
  auto net = build_network(spec);
  check_thread_independent(*net, normal_scoring_data(30, spec.input, spec.num_classes, 9));
}

TEST_CASE("every metric is identical for 1, 2 and 3 threads: mbv2-bench, images cut into parts") {
  // 5 images: fewer than the parts, so the conv kernels cut images between parts (row
  // segments of the pointwise GEMMs, the stem's input gradient by channels).
  ArchSpec spec = expand_mbv2(mbv2_bench());
  spec.input = {3, 32, 32};
  auto net = build_network(spec);
  check_thread_independent(*net, normal_scoring_data(5, spec.input, spec.num_classes, 10));
}

TEST_CASE("every metric is identical for 1, 2 and 3 threads: nb201, Winograd convolutions") {
  search::Nb201MacroOptions o;
  o.input = {3, 16, 16};
  o.cells_per_stage = 1;
  o.num_classes = 4;
  search::Nb201Network net(
      search::parse_nb201(
          "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|"
          "nor_conv_3x3~2|"),
      o);
  // 8 images of 16x16: 2048 output pixels, so the 16->16 3x3 convs of the first cell run as
  // Winograd (ops/conv2d.cpp select_conv_algo), the later ones as im2col.
  CHECK(ops::select_conv_algo(ops::conv2d_shape({8, 16, 16, 16}, {16, 16, 3, 3},
                                                ops::Conv2dParams{1, 1, 1, 1, 1, 1, 1})) ==
        ops::ConvAlgo::Winograd);
  check_thread_independent(net, normal_scoring_data(8, o.input, o.num_classes, 11));
}
