#include <doctest/doctest.h>

#include <cmath>

#include "autograd/layers.h"
#include "autograd/optimizer.h"
#include "core/parallel.h"

using namespace piconas;
using namespace piconas::autograd;

namespace {
std::shared_ptr<Sequential> tiny_cnn() {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(Conv2dOptions{1, 6, 3}));
  net->add(std::make_shared<BatchNorm2d>(6));
  net->add(std::make_shared<Activation>(ActivationKind::ReLU));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{6, 6, 3, 2, -1, 1, 6}));  // depthwise s2
  net->add(std::make_shared<BatchNorm2d>(6));
  net->add(std::make_shared<Activation>(ActivationKind::ReLU6));
  auto block = std::make_shared<Sequential>();
  block->add(std::make_shared<Conv2d>(Conv2dOptions{6, 6, 1}));
  block->add(std::make_shared<BatchNorm2d>(6));
  net->add(std::make_shared<Residual>(block));
  net->add(std::make_shared<GlobalAvgPool>());
  net->add(std::make_shared<Linear>(6, 3));
  return net;
}

// Synthetic 3-class task: class k has a bright bar in row band k of an 8x8 image, plus noise.
void synthetic_batch(Rng& rng, int64_t batch, Tensor& images, std::vector<int32_t>& labels) {
  images = Tensor({batch, 1, 8, 8});
  labels.assign(batch, 0);
  for (int64_t n = 0; n < batch; ++n) {
    int32_t label = static_cast<int32_t>(rng.uniform_int(0, 2));
    labels[n] = label;
    for (int64_t i = 0; i < 64; ++i) {
      int64_t row = i / 8;
      double bar = (row / 3 == label) ? 1.0 : 0.0;
      images.set(n * 64 + i, bar + 0.3 * rng.normal());
    }
  }
}

std::vector<double> train_losses(int threads, int steps) {
  set_num_threads(threads);
  auto net = tiny_cnn();
  Rng init_rng(11);
  net->initialize(init_rng);
  Sgd sgd(net->parameters(), SgdOptions{0.1, 0.9, true, 1e-4}, decay_weights_only(net->parameters()));
  Rng data_rng(12);
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    Tensor images;
    std::vector<int32_t> labels;
    synthetic_batch(data_rng, 16, images, labels);
    sgd.zero_grad();
    Variable loss = softmax_cross_entropy((*net)(Variable(images)), labels);
    loss.backward();
    sgd.step();
    losses.push_back(loss.value().get(0));
  }
  set_num_threads(2);
  return losses;
}
}  // namespace

TEST_CASE("modules: named parameters, buffers and state in registration order") {
  auto net = tiny_cnn();
  auto named = net->named_parameters();
  REQUIRE(named.size() == 11);
  CHECK(named[0].first == "0.weight");
  CHECK(named[1].first == "1.weight");  // BatchNorm gamma, PyTorch naming
  CHECK(named[6].first == "6.body.0.weight");
  CHECK(named[9].first == "8.weight");
  CHECK(named[10].first == "8.bias");
  auto state = net->state();
  CHECK(state.count("4.running_var") == 1);
  CHECK(state.size() == 11 + 6);
  CHECK(state.at("0.weight").shape() == Shape{6, 1, 3, 3});
  CHECK(state.at("3.weight").shape() == Shape{6, 1, 3, 3});
}

TEST_CASE("modules: load_state round trip and clear errors") {
  auto a = tiny_cnn(), b = tiny_cnn();
  Rng rng(1);
  a->initialize(rng);
  b->load_state(a->state());
  CHECK(b->state().at("8.weight").to_vector() == a->state().at("8.weight").to_vector());
  auto broken = a->state();
  broken["8.weight"] = Tensor({2, 2});
  CHECK_THROWS_WITH_AS(b->load_state(broken),
                       "load_state: entry '8.weight' has shape [2, 2], the module expects [3, 6]", Error);
  broken = a->state();
  broken.erase("1.running_mean");
  CHECK_THROWS_AS(b->load_state(broken), Error);
  broken = a->state();
  broken["extra"] = Tensor({1});
  CHECK_THROWS_WITH_AS(b->load_state(broken), "load_state: unexpected entry 'extra' [1]", Error);
}

TEST_CASE("modules: initialize is deterministic per seed; to(F64) converts everything") {
  auto a = tiny_cnn(), b = tiny_cnn();
  Rng r1(7), r2(7);
  a->initialize(r1);
  b->initialize(r2);
  CHECK(a->state().at("6.body.0.weight").to_vector() == b->state().at("6.body.0.weight").to_vector());
  CHECK(a->state().at("1.weight").get(0) == 1.0);
  a->to(DType::F64);
  for (auto& [name, t] : a->state()) CHECK(t.dtype() == DType::F64);
  Variable y = (*a)(Variable(Tensor({2, 1, 8, 8}, DType::F64)));
  CHECK(y.shape() == Shape{2, 3});
}

TEST_CASE("modules: eval mode uses running statistics and leaves them unchanged") {
  auto bn = std::make_shared<BatchNorm2d>(2);
  Tensor x = Tensor::from_values({2, 2, 1, 1}, {1, 2, 3, 6});
  (*bn)(Variable(x));
  CHECK(bn->state.running_mean.get(0) == doctest::Approx(0.2));   // 0.1 * mean(1, 3)
  CHECK(bn->state.running_var.get(1) == doctest::Approx(0.9 + 0.1 * 8.0));  // unbiased var(2, 6) = 8
  bn->set_training(false);
  Variable y = (*bn)(Variable(x));
  CHECK(y.value().get(0) == doctest::Approx((1 - 0.2) / std::sqrt(0.9 + 0.1 * 1.0 * 2 + 1e-5)).epsilon(1e-5));
  CHECK(bn->state.running_mean.get(0) == doctest::Approx(0.2));
}

TEST_CASE("forward hooks see every module output") {
  auto net = tiny_cnn();
  int activations = 0;
  net->set_forward_hook_recursive([&](const Module& m, const Variable&) {
    if (dynamic_cast<const Activation*>(&m)) ++activations;
  });
  (*net)(Variable(Tensor({2, 1, 8, 8})));
  CHECK(activations == 2);
}

TEST_CASE("SGD: momentum, Nesterov and weight decay by hand") {
  for (bool nesterov : {false, true}) {
    Variable p(Tensor::from_values({1}, {1.0}, DType::F64), true);
    Sgd sgd({p}, SgdOptions{0.1, 0.9, nesterov, 0.1});
    sum(scale(p, 0.5)).backward();  // gradient 0.5
    sgd.step();
    CHECK(p.value().get(0) == doctest::Approx(nesterov ? 0.886 : 0.94));
    if (!nesterov) {
      sgd.zero_grad();
      sum(scale(p, 0.5)).backward();
      sgd.step();
      CHECK(p.value().get(0) == doctest::Approx(0.8266));
    }
  }
}

TEST_CASE("SGD state round trip continues identically") {
  Variable p(Tensor::from_values({2}, {1.0, -1.0}, DType::F64), true), q(p.value().clone(), true);
  Sgd a({p}, SgdOptions{0.1, 0.9, false, 0.0});
  for (int i = 0; i < 3; ++i) {
    a.zero_grad();
    sum(mul(p, p)).backward();
    a.step();
  }
  q.value().copy_from(p.value());
  Sgd b({q}, SgdOptions{0.1, 0.9, false, 0.0});
  b.load_state(a.state());
  CHECK(b.steps() == 3);
  a.zero_grad();
  sum(mul(p, p)).backward();
  a.step();
  sum(mul(q, q)).backward();
  b.step();
  CHECK(p.value().to_vector() == q.value().to_vector());
}

TEST_CASE("Adam: first step moves each weight by lr against the gradient sign") {
  Variable p(Tensor::from_values({2}, {1.0, 1.0}, DType::F64), true);
  Adam adam({p}, AdamOptions{0.01});
  sum(mul(p, Variable(Tensor::from_values({2}, {3.0, -0.5}, DType::F64)))).backward();
  adam.step();
  CHECK(p.value().get(0) == doctest::Approx(0.99));
  CHECK(p.value().get(1) == doctest::Approx(1.01));
}

TEST_CASE("learning-rate schedules by hand") {
  LrSchedule cosine{ScheduleKind::Cosine, 0.1, 0.0, 10, 2};
  CHECK(cosine.lr_at(0) == doctest::Approx(0.05));
  CHECK(cosine.lr_at(1) == doctest::Approx(0.1));
  CHECK(cosine.lr_at(2) == doctest::Approx(0.1));
  CHECK(cosine.lr_at(6) == doctest::Approx(0.05));
  CHECK(cosine.lr_at(10) == doctest::Approx(0.0));
  LrSchedule step{ScheduleKind::Step, 0.1, 0.0, 100, 0, 3, 0.1};
  CHECK(step.lr_at(2) == doctest::Approx(0.1));
  CHECK(step.lr_at(3) == doctest::Approx(0.01));
  CHECK(step.lr_at(7) == doctest::Approx(0.001));
}

TEST_CASE("fixed-seed training trajectory: bit-identical per thread count, and learning") {
  auto first = train_losses(2, 30);
  auto second = train_losses(2, 30);
  CHECK(first == second);  // bit for bit
  auto single = train_losses(1, 30);
  for (size_t i = 0; i < first.size(); ++i) CHECK(single[i] == doctest::Approx(first[i]).epsilon(1e-4));
  double head = (first[0] + first[1] + first[2]) / 3, tail = (first[27] + first[28] + first[29]) / 3;
  INFO("first losses ", first[0], " ", first[1], " last ", first[29]);
  CHECK(tail < 0.5 * head);
}
