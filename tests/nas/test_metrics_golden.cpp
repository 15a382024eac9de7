// Golden values G1-G5 of docs/metrics.md section 6 (hand-derived there), the synflow
// conservation property and the bit-exact restore after synflow.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "autograd/layers.h"
#include "nas/builder.h"
#include "nas/metrics/jacob_cov.h"
#include "nas/metrics/linalg.h"
#include "nas/metrics/naswot.h"
#include "nas/metrics/snip.h"
#include "nas/metrics/synflow.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::autograd;

namespace {
const std::vector<double> kW1{1, -2, 0.5, -1, 3, 2};
const std::vector<double> kW2{1, -1, 0.5, 2};

// G1 net: Linear(3->2) [with bias b1] -> Linear(2->2), no bias on layer 2.
std::shared_ptr<Sequential> linear_net(bool bias) {
  auto net = std::make_shared<Sequential>();
  auto l1 = net->add(std::make_shared<Linear>(3, 2, bias));
  auto l2 = net->add(std::make_shared<Linear>(2, 2, false));
  l1->weight.value() = Tensor::from_values({2, 3}, kW1);
  if (bias) l1->bias.value() = Tensor::from_values({2}, {-1, 0.5});
  l2->weight.value() = Tensor::from_values({2, 2}, kW2);
  return net;
}

// G1c: the same maps as 1x1 convolutions on a 1x1 image, with a BatchNorm in between.
std::shared_ptr<Sequential> conv_bn_net() {
  auto net = std::make_shared<Sequential>();
  auto c1 = net->add(std::make_shared<Conv2d>(Conv2dOptions{3, 2, 1}));
  auto bn = net->add(std::make_shared<BatchNorm2d>(2));
  auto c2 = net->add(std::make_shared<Conv2d>(Conv2dOptions{2, 2, 1}));
  c1->weight.value() = Tensor::from_values({2, 3, 1, 1}, kW1);
  c2->weight.value() = Tensor::from_values({2, 2, 1, 1}, kW2);
  bn->gamma.value() = Tensor::from_values({2}, {-0.7, 3.0});
  bn->beta.value() = Tensor::from_values({2}, {2.5, -1.25});
  bn->state.running_mean = Tensor::from_values({2}, {0.3, -4.0});
  bn->state.running_var = Tensor::from_values({2}, {0.01, 9.0});
  return net;
}

// G1d: the same with a LayerNorm over the two hidden channels instead of the BatchNorm.
std::shared_ptr<Sequential> conv_ln_net() {
  auto net = std::make_shared<Sequential>();
  auto c1 = net->add(std::make_shared<Conv2d>(Conv2dOptions{3, 2, 1}));
  auto ln = net->add(std::make_shared<LayerNorm2d>(2));
  auto c2 = net->add(std::make_shared<Conv2d>(Conv2dOptions{2, 2, 1}));
  c1->weight.value() = Tensor::from_values({2, 3, 1, 1}, kW1);
  c2->weight.value() = Tensor::from_values({2, 2, 1, 1}, kW2);
  ln->gamma.value() = Tensor::from_values({2}, {-0.7, 3.0});
  ln->beta.value() = Tensor::from_values({2}, {2.5, -1.25});
  return net;
}

std::vector<std::vector<unsigned char>> state_bytes(Module& net) {
  std::vector<std::vector<unsigned char>> out;
  for (auto& [name, t] : net.state()) {
    const auto* p = static_cast<const unsigned char*>(t.raw_data());
    out.emplace_back(p, p + t.nbytes());
  }
  return out;
}
}  // namespace

TEST_CASE("G1 synflow of the linear net, per layer and total, weights restored") {
  auto net = linear_net(false);
  auto before = state_bytes(*net);
  metrics::SynflowScores s = metrics::synflow(*net, {3});
  CHECK(s.output_sum == doctest::Approx(23.25).epsilon(1e-15));
  REQUIRE(s.layers.size() == 2);
  CHECK(s.layers[0].name == "0.weight");
  CHECK(s.layers[0].synflow == doctest::Approx(23.25).epsilon(1e-15));
  CHECK(s.layers[1].synflow == doctest::Approx(23.25).epsilon(1e-15));
  CHECK(s.synflow == doctest::Approx(46.5).epsilon(1e-15));
  CHECK(state_bytes(*net) == before);
  CHECK(net->dtype() == DType::F32);
  CHECK(net->parameters()[0].value().get(1) == -2.0);
}

TEST_CASE("G1b synflow abs'es the bias in the forward pass and does not score it") {
  auto net = linear_net(true);
  auto before = state_bytes(*net);
  CHECK(metrics::synflow(*net, {3}).synflow == doctest::Approx(49.5).epsilon(1e-15));
  CHECK(state_bytes(*net) == before);
}

TEST_CASE("G1c a BatchNorm with any parameters and statistics changes nothing") {
  auto net = conv_bn_net();
  net->set_training(true);
  auto before = state_bytes(*net);
  metrics::SynflowScores s = metrics::synflow(*net, {3, 1, 1});
  CHECK(s.synflow == doctest::Approx(46.5).epsilon(1e-15));
  CHECK(s.logsynflow == doctest::Approx(19.618630270609238).epsilon(1e-14));
  CHECK(state_bytes(*net) == before);
  CHECK(net->training());
  auto* bn = dynamic_cast<BatchNorm2d*>(net->children()[1].second.get());
  REQUIRE(bn);
  CHECK(bn->training());
  CHECK(bn->state.eps == 1e-5);
}

TEST_CASE("G1d a LayerNorm with any parameters is muted too, and unmuted after") {
  auto net = conv_ln_net();
  auto before = state_bytes(*net);
  metrics::SynflowScores s = metrics::synflow(*net, {3, 1, 1});
  CHECK(s.synflow == doctest::Approx(46.5).epsilon(1e-15));
  CHECK(s.logsynflow == doctest::Approx(19.618630270609238).epsilon(1e-14));
  CHECK(state_bytes(*net) == before);
  auto* ln = dynamic_cast<LayerNorm2d*>(net->children()[1].second.get());
  REQUIRE(ln);
  CHECK_FALSE(ln->muted);
  // Unmuted, the same net normalises: the output differs from the muted pass's R.
  Variable y = (*net)(Variable(Tensor::full({1, 3, 1, 1}, 1.0)));
  double sum = 0;
  for (double v : y.value().to_vector()) sum += v;
  CHECK(sum != doctest::Approx(23.25));
}

TEST_CASE("logsynflow per layer is sum |theta| * log1p(g), not sum |theta * log1p(g)|") {
  // log1p(-0.5) < 0: the two forms differ (the pass itself only sees g >= 0).
  const double theta[] = {2.0, -3.0, 0.5}, g[] = {-0.5, 0.25, 3.0};
  CHECK(metrics::layer_logsynflow(theta, g, 3) ==
        doctest::Approx(-0.023716526617315936).epsilon(1e-14));
  CHECK(metrics::layer_synflow(theta, g, 3) == doctest::Approx(3.25).epsilon(1e-15));
}

TEST_CASE("G2 logsynflow, per layer and with the bias") {
  auto net = linear_net(false);
  metrics::SynflowScores s = metrics::synflow(*net, {3});
  CHECK(s.layers[1].logsynflow == doctest::Approx(8.09384654233035).epsilon(1e-14));
  CHECK(s.layers[0].logsynflow == doctest::Approx(11.524783728278887).epsilon(1e-14));
  CHECK(s.logsynflow == doctest::Approx(19.618630270609238).epsilon(1e-14));
  auto biased = linear_net(true);
  CHECK(metrics::synflow(*biased, {3}).logsynflow ==
        doctest::Approx(20.12661492826332).epsilon(1e-14));
}

TEST_CASE("synflow conservation: every layer of a bias-free ReLU/avg-pool chain scores R") {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(Conv2dOptions{3, 8, 3}));
  net->add(std::make_shared<autograd::Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<AvgPool2d>(ops::Pool2dParams{2, 2, 2, 2, 0, 0}));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{8, 8, 3, 1, -1, 1, 8}));  // depthwise
  net->add(std::make_shared<autograd::Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{8, 16, 1}));
  net->add(std::make_shared<GlobalAvgPool>());
  net->add(std::make_shared<Linear>(16, 5, false));
  Rng rng(7);
  net->initialize(rng);
  metrics::SynflowScores s = metrics::synflow(*net, {3, 10, 10});
  REQUIRE(s.layers.size() == 4);
  CHECK(s.output_sum > 0);
  for (const metrics::LayerSynflow& layer : s.layers) {
    INFO(layer.name);
    CHECK(layer.synflow == doctest::Approx(s.output_sum).epsilon(1e-12));
  }
  CHECK(s.synflow == doctest::Approx(4 * s.output_sum).epsilon(1e-12));
}

TEST_CASE("synflow restores every parameter, buffer, mode and dtype bit-exactly") {
  auto net = build_network(tiny_bench());
  Rng rng(3);
  net->initialize(rng);
  Tensor images({4, 1, 28, 28});
  fill_normal(images, rng, 0.0, 1.0);
  net->set_training(true);
  net->zero_grad();
  (*net)(Variable(images));  // moves the BN running statistics away from 0 / 1
  net->children()[1].second->set_training(false);
  auto before = state_bytes(*net);
  std::vector<bool> modes;
  net->visit([&modes](Module& m) { modes.push_back(m.training()); });
  metrics::SynflowScores s = metrics::synflow(*net, {1, 28, 28});
  CHECK(std::isfinite(s.synflow));
  CHECK(s.synflow > 0);
  CHECK(state_bytes(*net) == before);
  std::vector<bool> after;
  net->visit([&after](Module& m) { after.push_back(m.training()); });
  CHECK(after == modes);
  CHECK(net->dtype() == DType::F32);
  for (auto& [name, b] : net->named_buffers()) CHECK(b->dtype() == DType::F32);
  // A float64 net stays float64 and is restored as well.
  net->to(DType::F64);
  auto before64 = state_bytes(*net);
  CHECK(metrics::synflow(*net, {1, 28, 28}).synflow == doctest::Approx(s.synflow).epsilon(1e-12));
  CHECK(state_bytes(*net) == before64);
  CHECK(net->dtype() == DType::F64);
}

TEST_CASE("G3 naswot from codes, layers concatenated, duplicates give -inf") {
  std::vector<std::vector<uint8_t>> codes{{1, 1, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 1}};
  metrics::NaswotKernel k(3);
  k.add_codes(codes);
  CHECK(k.kernel() == std::vector<int64_t>{4, 2, 1, 2, 4, 1, 1, 1, 4});
  CHECK(metrics::naswot_from_codes(codes) == doctest::Approx(3.784189633918261).epsilon(1e-14));
  k.add_codes({{1, 0}, {0, 1}, {1, 1}});
  CHECK(k.kernel() == std::vector<int64_t>{6, 2, 2, 2, 6, 2, 2, 2, 6});
  CHECK(k.score() == doctest::Approx(5.075173815233827).epsilon(1e-14));
  CHECK(metrics::naswot_from_codes({{1, 1, 0, 0, 1, 0}, {1, 0, 1, 0, 0, 1}, {0, 0, 0, 1, 1, 1}}) ==
        doctest::Approx(5.075173815233827).epsilon(1e-14));
  const double dup = metrics::naswot_from_codes({{1, 1, 0, 0}, {1, 0, 1, 0}, {1, 1, 0, 0}});
  CHECK(std::isinf(dup));
  CHECK(dup < 0);
}

TEST_CASE("naswot activation codes match explicit codes across word boundaries") {
  Rng rng(11);
  const int64_t n = 5, units = 131;  // 131 = 2 full words + 3 bits
  Tensor act({n, units});
  fill_normal(act, rng, 0.0, 1.0);
  std::vector<std::vector<uint8_t>> codes(n, std::vector<uint8_t>(units));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t u = 0; u < units; ++u) codes[i][u] = act.get(i * units + u) > 0;
  metrics::NaswotKernel from_act(n), from_codes(n);
  from_act.add_activation(act);
  from_act.add_activation(act.to(DType::F64).reshape({n, 1, units}));
  from_codes.add_codes(codes);
  from_codes.add_codes(codes);
  CHECK(from_act.kernel() == from_codes.kernel());
  CHECK(from_act.units() == 2 * units);
  // Hadamard bound: log det K <= N ln N_A.
  CHECK(from_act.score() <= n * std::log(2.0 * units));
}

TEST_CASE("G4 jacob_cov from rows") {
  CHECK(metrics::jacob_cov_from_rows(Tensor::from_values({2, 4}, {1, 0, 0, 0, 0, 1, 0, 0})) ==
        doctest::Approx(-2.1322113395826747).epsilon(1e-13));
  Tensor rows = Tensor::from_values({3, 4}, {1, 0, -1, 0, 0, 1, 0, -1, 1, 1, -1, -1});
  CHECK(metrics::jacob_cov_from_rows(rows) == doctest::Approx(-99990.680224).epsilon(1e-9));
  CHECK(metrics::jacob_cov_from_rows(rows.to(DType::F64)) ==
        doctest::Approx(-99990.680224).epsilon(1e-9));
  CHECK(std::isnan(metrics::jacob_cov_from_rows(Tensor::from_values({2, 3}, {1, 2, 3, 5, 5, 5}))));
}

TEST_CASE("G5 snip and grad_norm of one linear layer, single sample and batch of two") {
  auto net = std::make_shared<Sequential>();
  auto layer = net->add(std::make_shared<Linear>(2, 2, false));
  layer->weight.value() = Tensor::from_values({2, 2}, {1, 0, 0, 1});
  metrics::SnipScores one = metrics::snip(*net, Tensor::from_values({1, 2}, {1, 2}), {0});
  CHECK(one.snip == doctest::Approx(2.193175735890015).epsilon(1e-6));
  CHECK(one.grad_norm == doctest::Approx(2.311810211476113).epsilon(1e-6));
  metrics::SnipScores two = metrics::snip(*net, Tensor::from_values({2, 2}, {1, 2, 2, -1}), {0, 1});
  CHECK(two.snip == doctest::Approx(1.7943904795486523).epsilon(1e-6));
  CHECK(two.grad_norm == doctest::Approx(1.898581123154897).epsilon(1e-6));
  net->to(DType::F64);  // float64 reaches the golden values to rounding
  metrics::SnipScores exact =
      metrics::snip(*net, Tensor::from_values({2, 2}, {1, 2, 2, -1}, DType::F64), {0, 1});
  CHECK(exact.snip == doctest::Approx(1.7943904795486523).epsilon(1e-14));
  CHECK(exact.grad_norm == doctest::Approx(1.898581123154897).epsilon(1e-14));
}

TEST_CASE("grad_norm sums the per-layer norms (two layers), snip sums over both") {
  // Linear(2->2) -> Linear(2->2), no biases, batch x = [1, 2], [2, -1], labels 0, 1, mean CE;
  // reference: the gradients written out by hand (python, float64): ||dW1|| 4.530990461187788,
  // ||dW2|| 4.939413628980888; one global norm would be 6.702811466656128.
  auto net = std::make_shared<Sequential>();
  auto l1 = net->add(std::make_shared<Linear>(2, 2, false));
  auto l2 = net->add(std::make_shared<Linear>(2, 2, false));
  l1->weight.value() = Tensor::from_values({2, 2}, {1, -2, 0.5, 1});
  l2->weight.value() = Tensor::from_values({2, 2}, {1, -1, 0.5, 2});
  net->to(DType::F64);
  metrics::SnipScores s =
      metrics::snip(*net, Tensor::from_values({2, 2}, {1, 2, 2, -1}, DType::F64), {0, 1});
  CHECK(s.grad_norm == doctest::Approx(9.470404090168675).epsilon(1e-14));
  CHECK(s.snip == doctest::Approx(15.164468994661298).epsilon(1e-14));
}

TEST_CASE("linalg: logabsdet and Jacobi eigenvalues agree on random symmetric matrices") {
  Rng rng(5);
  for (int64_t n : {1, 2, 7, 40}) {
    std::vector<double> a(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = rng.uniform(-1, 1) + (i == j ? 3 : 0);
    auto v = metrics::symmetric_eigenvalues(a, n);
    double trace = 0, sum_v = 0, log_abs = 0, frob = 0, sum_v2 = 0;
    for (int64_t i = 0; i < n; ++i) trace += a[i * n + i];
    for (double x : a) frob += x * x;
    for (double x : v) {
      sum_v += x;
      sum_v2 += x * x;
      log_abs += std::log(std::fabs(x));
    }
    INFO(n);
    CHECK(std::is_sorted(v.begin(), v.end()));
    CHECK(sum_v == doctest::Approx(trace).epsilon(1e-12));
    CHECK(sum_v2 == doctest::Approx(frob).epsilon(1e-12));
    CHECK(metrics::logabsdet(a, n) == doctest::Approx(log_abs).epsilon(1e-10));
  }
  auto v2 = metrics::symmetric_eigenvalues({2, 1, 1, 2}, 2);
  CHECK(v2[0] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(v2[1] == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(std::isinf(metrics::logabsdet({1, 2, 2, 4}, 2)));
  CHECK(metrics::logabsdet({0, 2, 3, 0}, 2) == doctest::Approx(std::log(6.0)));  // needs a row swap
}
