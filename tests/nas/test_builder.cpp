#include <doctest/doctest.h>

#include <cstring>

#include "autograd/functions.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"

using namespace piconas;
using namespace piconas::nas;

namespace {
int64_t count_parameters(const autograd::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.value().numel();
  return n;
}
}  // namespace

TEST_CASE("built networks have exactly the analytic parameter count") {
  for (const std::string& name : reference_names()) {
    ArchSpec spec = parse_arch(name);
    INFO(name);
    CHECK(count_parameters(*build_network(spec)) == arch_cost(spec).params);
  }
  ArchSpec convnext = parse_arch("blocks:in=3x32x32,classes=10,act=relu,stem=16k3s1|cn:k7e4s1c16|ir:k5e2s2c32|ds:k3s1c64|head=96");
  CHECK(count_parameters(*build_network(convnext)) == arch_cost(convnext).params);
}

TEST_CASE("parameter names are readable") {
  auto net = build_network(tiny_bench());
  auto named = net->named_parameters();
  CHECK(named.front().first == "stem.0.weight");
  CHECK(named.back().first == "classifier.bias");
  CHECK(named[3].first == "blocks.0.0.weight");
}

namespace {
// Undoes build_network's BatchNorm + activation fusion: every module runs on its own again.
int64_t unfuse(autograd::Module& net) {
  int64_t fused = 0;
  net.visit([&](autograd::Module& m) {
    if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) {
      fused += bn->activation != ops::NormActivation::Identity;
      bn->activation = ops::NormActivation::Identity;
    }
    if (auto* act = dynamic_cast<autograd::Activation*>(&m)) act->applied_by_batchnorm = false;
  });
  return fused;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.numel() * dtype_size(a.dtype())) == 0;
}
}  // namespace

TEST_CASE("BatchNorm + activation fused in training: the same bits as the unfused modules") {
  // ReLU6 (with a residual add and a projection conv -> BN) and ReLU networks.
  for (const std::string arch :
       {"blocks:in=3x12x12,classes=5,act=relu6,stem=8k3s2|ir:k3e2s1c8|ir:k5e3s2c12|head=16",
        "blocks:in=1x10x10,classes=3,act=relu,stem=8k3s1|ds:k3s2c16|ir:k3e2s1c16|head=0"}) {
    CAPTURE(arch);
    auto fused_net = build_network(parse_arch(arch));
    auto plain_net = build_network(parse_arch(arch));
    Rng rng_a(5), rng_b(5);
    fused_net->initialize(rng_a);
    plain_net->initialize(rng_b);
    CHECK(unfuse(*plain_net) >= 3);  // stem, expansion, depthwise (at least)
    Rng data_rng(6);
    const ArchSpec spec = parse_arch(arch);
    Tensor images({4, spec.input.c, spec.input.h, spec.input.w});
    fill_normal(images, data_rng, 0.0, 1.0);
    const std::vector<int32_t> labels{0, 1, 2, 1};
    // Activation outputs as a forward hook sees them (the naswot metric reads these).
    std::vector<Tensor> seen_fused, seen_plain;
    auto hook_into = [](std::vector<Tensor>& seen) {
      return [&seen](const autograd::Module& m, const autograd::Variable& out) {
        if (dynamic_cast<const autograd::Activation*>(&m)) seen.push_back(out.value().clone());
      };
    };
    fused_net->set_forward_hook_recursive(hook_into(seen_fused));
    plain_net->set_forward_hook_recursive(hook_into(seen_plain));
    for (auto* net : {fused_net.get(), plain_net.get()}) {
      autograd::Variable loss =
          autograd::softmax_cross_entropy((*net)(autograd::Variable(images, true)), labels);
      loss.backward();
      net->set_forward_hook_recursive({});
    }
    REQUIRE(seen_fused.size() == seen_plain.size());
    for (size_t i = 0; i < seen_fused.size(); ++i) CHECK(same_bits(seen_fused[i], seen_plain[i]));
    const auto a = fused_net->named_parameters(), b = plain_net->named_parameters();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(a[i].first);
      CHECK(same_bits(a[i].second.grad(), b[i].second.grad()));
    }
    const auto sa = fused_net->state(), sb = plain_net->state();
    for (const auto& [name, t] : sa) {
      CAPTURE(name);
      CHECK(same_bits(t, sb.at(name)));
    }
    // Eval mode (the running statistics) also matches.
    fused_net->set_training(false);
    plain_net->set_training(false);
    autograd::NoGradGuard no_grad;
    CHECK(same_bits((*fused_net)(autograd::Variable(images)).value(),
                    (*plain_net)(autograd::Variable(images)).value()));
  }
}
