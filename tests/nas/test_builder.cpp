#include <doctest/doctest.h>

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
