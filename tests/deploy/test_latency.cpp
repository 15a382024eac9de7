// The MCU latency model (nas/deploy/latency.h): features, the least-squares fit, the compiled
// table against committed QEMU measurements of held-out architectures, and the latency budget
// of the search.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/latency_fit.h"
#include "nas/search/search.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;

namespace {

const char* kArch =
    "blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2|ir:k3e2s1c16|ir:k7e6s2c32|ds:k5s1c32|head="
    "0";

const Layer& layer_named(const Graph& g, const std::string& name) {
  for (const Layer& l : g.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return g.layers.front();
}

}  // namespace

TEST_CASE("latency: MACs count only the taps inside the image") {
  // blocks.1.3 is a 7x7 stride-2 depthwise on 14x14 -> 7x7 with padding 3: along an axis the
  // windows at o = 0..6 start at 2o - 3 and keep 4, 6, 7, 7, 7, 7, 5 of their 7 taps (43).
  const Graph g = lower_arch(parse_arch(kArch));
  const Layer& dw = layer_named(g, "blocks.1.3");
  REQUIRE(dw.kind == OpKind::Depthwise);
  REQUIRE(dw.kernel == Size2(7));
  const LatencyTerms x = latency_features(g, dw);
  const Shape3& out = g.tensors[static_cast<size_t>(dw.output)];
  CHECK(out.h == 7);
  CHECK(x[1] == doctest::Approx(43.0 * 43.0 * out.c));
  CHECK(x[1] < 49.0 * 49 * out.c);  // fewer than the nominal k x k x output elements
  CHECK(x[2] == doctest::Approx(49.0 * out.c));
  CHECK(x[6] == doctest::Approx(7 * 49.0 * out.c));
  CHECK(x[7] == doctest::Approx(49 * 49.0 * out.c));
  CHECK(latency_kernel(dw, false) == LatencyKernel::Depthwise);
  CHECK(latency_kernel(dw, true) == LatencyKernel::DepthwiseInPlace);
  CHECK(latency_kernel(layer_named(g, "blocks.0.body.0"), false) == LatencyKernel::ConvPointwise);
  CHECK(latency_kernel(layer_named(g, "stem.0"), false) == LatencyKernel::ConvIm2col);
  CHECK(latency_kernel(layer_named(g, "stem.0"), false, true) == LatencyKernel::ConvPacked);
  // The exporter's choice: packed convs only on the DSP cores without MVE, where the plan has room.
  const MemoryPlan plan = plan_memory(g);
  const MemoryPlan packed = with_packed_conv(g, plan, PlanOptions{}.strategy, 0);
  const std::vector<LatencyKernel> m4 = latency_kernels(g, plan, McuTarget::CortexM4);
  const std::vector<LatencyKernel> m55 = latency_kernels(g, plan, McuTarget::CortexM55);
  int packed_convs = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    CHECK(m55[i] != LatencyKernel::ConvPacked);
    CHECK((m4[i] == LatencyKernel::ConvPacked) == (packed.packed_conv[i] != 0));
    packed_convs += m4[i] == LatencyKernel::ConvPacked;
  }
  CHECK(packed_convs > 0);
}

TEST_CASE("latency: the fit recovers the coefficients that generated the counts") {
  // Counts made from a known table on a few architectures must be fitted back exactly (every
  // variant has more distinct shapes than terms except the stem: its prediction is checked).
  LatencyTable truth;
  truth.origin = "test";
  for (int k = 0; k < kLatencyKernels; ++k) {
    LatencyRow row;
    row.target = McuTarget::CortexM7;
    row.kernel = static_cast<LatencyKernel>(k);
    for (int t = 0; t < kLatencyTerms; ++t)
      if (latency_terms_used(row.kernel)[static_cast<size_t>(t)])
        row.coefficients[static_cast<size_t>(t)] = 100.0 / (t + 1) + k;
    truth.rows.push_back(row);
  }
  const char* archs[] = {
      kArch,
      "blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ds:k3s1c16|ir:k3e2s2c16|ir:k3e2s1c16|head="
      "0",
      "blocks:in=3x32x32,classes=10,act=relu6,stem=24k5s2|ir:k5e4s1c16|ir:k3e6s2c32|ir:k7e2s1c32|"
      "ds:k3s2c64|head=0",
      "blocks:in=1x28x28,classes=10,act=relu6,stem=32k3s2|ir:k7e6s2c16|ds:k5s1c96|ir:k5e2s2c64|"
      "head=0",
      "blocks:in=3x32x32,classes=10,act=relu6,stem=16k3s2|ds:k7s1c32|ir:k3e4s1c32|ds:k5s2c16|ir:"
      "k3e2s1c16|head=0",
  };
  std::vector<LatencyMeasurement> runs;
  for (const char* text : archs) {
    LatencyMeasurement m;
    m.run = text;
    m.arch = parse_arch(text);
    m.target = McuTarget::CortexM7;
    const Graph g = lower_arch(m.arch);
    const LatencyEstimate e = estimate_latency(g, plan_memory(g), m.target, truth);
    for (const LayerLatency& l : e.layers) m.layer_instructions.push_back(l.instructions);
    m.total_instructions = e.instructions;
    runs.push_back(m);
  }
  const LatencyTable fitted = fit_latency(runs, "test");
  CHECK(fitted.calibrated(McuTarget::CortexM7));
  CHECK_FALSE(fitted.calibrated(McuTarget::CortexM4));
  const LatencyRow* add = fitted.find(McuTarget::CortexM7, LatencyKernel::Add);
  REQUIRE(add != nullptr);
  CHECK(add->coefficients[0] ==
        doctest::Approx(truth.find(McuTarget::CortexM7, LatencyKernel::Add)->coefficients[0])
            .epsilon(1e-4));
  CHECK(add->coefficients[2] ==
        doctest::Approx(truth.find(McuTarget::CortexM7, LatencyKernel::Add)->coefficients[2])
            .epsilon(1e-6));
  for (const LatencyMeasurement& m : runs) {
    const Graph g = lower_arch(m.arch);
    const LatencyEstimate e = estimate_latency(g, plan_memory(g), m.target, fitted);
    CHECK(e.instructions == doctest::Approx(m.total_instructions).epsilon(1e-6));
    for (size_t i = 0; i < e.layers.size(); ++i)
      CHECK(e.layers[i].instructions == doctest::Approx(m.layer_instructions[i]).epsilon(1e-5));
  }
  // The generated source names every row.
  const std::string source = latency_table_source(fitted);
  CHECK(source.find("LatencyKernel::DepthwiseInPlace") != std::string::npos);
  CHECK(source.find("McuTarget::CortexM7, LatencyKernel::Invoke") != std::string::npos);
}

TEST_CASE("latency: the compiled table predicts held-out QEMU measurements within 10 %") {
  // tests/deploy/latency_heldout.json: written by bench/latency_calibrate.sh from models that
  // were not in the fit (its "generated_by" says from what).
  const nlohmann::json data = nlohmann::json::parse(
      read_file(std::string(PICONAS_SOURCE_DIR) + "/tests/deploy/latency_heldout.json"));
  REQUIRE(data.at("models").size() >= 2);
  for (const auto& model : data.at("models")) {
    const McuTarget target = parse_mcu_target(model.at("target").get<std::string>());
    REQUIRE(builtin_latency_table().calibrated(target));
    const LatencyEstimate e =
        estimate_latency(parse_arch(model.at("arch").get<std::string>()), target);
    const double measured = model.at("instructions").get<double>();
    INFO(model.at("arch").get<std::string>() << " on " << mcu_board(target).name << ": predicted "
                                             << e.instructions << ", measured " << measured);
    CHECK(std::abs(e.instructions / measured - 1) <= 0.10);
  }
}

TEST_CASE("latency: milliseconds, range checks and the search budget") {
  CHECK(latency_ms(120e3, 120) == doctest::Approx(1.0));
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity(), 1e9}) {
    CHECK_THROWS_AS(check_mcu_mhz(bad), Error);
    CHECK_THROWS_AS(latency_ms(1000, bad), Error);
  }
  CHECK_THROWS_AS(check_latency_ms(0), Error);
  CHECK_THROWS_AS(check_latency_ms(std::nan("")), Error);

  search::Constraints limits;
  limits.max_latency_ms = -1;
  limits.mcu_mhz = 120;
  CHECK_THROWS_AS(search::check_constraints(limits), Error);
  limits.max_latency_ms = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(search::check_constraints(limits), Error);
  limits.max_latency_ms = 10;
  limits.mcu_mhz = 0;
  CHECK_THROWS_AS(search::check_constraints(limits), Error);
  limits.mcu_mhz = 120;
  CHECK_NOTHROW(search::check_constraints(limits));
  CHECK(search::has_deployment_budget(limits));

  const search::CostEstimate cost = search::estimate_cost(parse_arch(kArch));
  const double predicted = estimate_latency(parse_arch(kArch), McuTarget::CortexM4).instructions;
  CHECK(cost.mcu_instructions[static_cast<size_t>(McuTarget::CortexM4)] ==
        doctest::Approx(predicted));
  const double ms = latency_ms(predicted, 120);
  limits.max_latency_ms = ms * 1.01;
  CHECK(search::constraint_violations(cost, limits).empty());
  limits.max_latency_ms = ms * 0.99;
  const auto violations = search::constraint_violations(cost, limits);
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].find("latency_ms") == 0);
  // A faster clock admits it again.
  limits.mcu_mhz = 240;
  CHECK(constraint_violations(cost, limits).empty());
}
