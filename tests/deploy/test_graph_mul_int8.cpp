// int8 deployment of a graph network's multiplies beyond the squeeze-and-excitation scale: the
// elementwise product of two maps of one shape and a one-channel gate per pixel (spatial
// attention) lower to Mul layers (TFLite's MUL, ops/int8/mul_s8.h), whose output scale comes from
// calibration. The folded float graph equals the module, the host executor's int8 logits equal
// the emitted C compiled on the host byte for byte (out of place and with the products written
// over a dying input), and the int8 logits stay close to the float ones. (Cortex-M targets:
// test_mcu.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/deploy/verify.h"
#include "nas/search/cost_model.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

TEST_CASE("graph int8: elementwise and pixel-gate muls lower to Mul layers, run as the module") {
  const ArchSpec spec = parse_arch(kGatedGraphArch);
  CHECK(int8_problems(spec).empty());
  auto net = make_model(spec, 31);
  const Graph g = lower_network(spec, *net);
  // c1 (+bn, relu), g1 (+hsigmoid), m1, a1 (+hsigmoid), m2, ad, gap, fc
  REQUIRE(g.layers.size() == 8);
  const Layer& m1 = g.layers[2];
  const Layer& m2 = g.layers[4];
  CHECK(m1.kind == LayerKind::Mul);
  CHECK(m2.kind == LayerKind::Mul);
  CHECK(g.layers[1].activation == FusedActivation::HardSigmoid);
  CHECK(m1.input == g.layers[0].output);  // the features, then the gate
  CHECK(g.tensors[static_cast<size_t>(m1.input2)] == (Shape3{8, 6, 6}));
  CHECK(g.tensors[static_cast<size_t>(m2.input2)] == (Shape3{1, 6, 6}));
  CHECK(g.tensors[static_cast<size_t>(m2.output)] == (Shape3{8, 6, 6}));
  const auto norm = fashion_normalization();
  const Tensor x = synthetic_images(spec.input, 8, 3, norm);
  const Tensor want = (*net)(autograd::Variable(x)).value();
  const Tensor got = run_float(g, x);
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    worst = std::max(worst, std::abs(got.get(i) - want.get(i)));
  CHECK(worst < 1e-4);
}

TEST_CASE("graph int8: Mul output scale from calibration, host executor equals the emitted C") {
  const ArchSpec spec = parse_arch(kGatedGraphArch);
  auto net = make_model(spec, 31);
  const auto norm = fashion_normalization();
  const Graph g = lower_network(spec, *net);
  const Tensor calibration = synthetic_images(spec.input, 64, 5, norm);
  const auto ranges = calibrate(g, calibration);
  const QuantizedModel q = quantize(g, ranges, norm);
  int muls = 0;
  for (const QLayer& l : q.layers) {
    if (l.kind != LayerKind::Mul) continue;
    ++muls;
    const TensorQuant& a = q.tensors[static_cast<size_t>(l.input)];
    const TensorQuant& b = q.tensors[static_cast<size_t>(l.input2)];
    const TensorQuant& y = q.tensors[static_cast<size_t>(l.output)];
    const auto [lo, hi] = ranges[static_cast<size_t>(l.output)];
    CHECK(y.scale == doctest::Approx((std::max(hi, 0.0f) - std::min(lo, 0.0f)) / 255.0));
    CHECK(b.scale == doctest::Approx(1.0 / 255.0));  // a hard-sigmoid gate: [0, 1]
    CHECK(l.mul.input1_offset == -a.zero_point);
    CHECK(l.mul.input2_offset == -b.zero_point);
    CHECK(l.mul.output_offset == y.zero_point);
    const double m = std::ldexp(static_cast<double>(l.mul.multiplier), l.mul.shift - 31);
    CHECK(m == doctest::Approx(static_cast<double>(a.scale) * b.scale / y.scale).epsilon(1e-9));
  }
  CHECK(muls == 2);

  const int64_t n = 32;
  const Tensor images = synthetic_images(spec.input, n, 9, norm);
  const auto input = to_nhwc_int8(q.tensors[0], images);
  PlanOptions always;  // every elementwise layer over its dying input
  always.in_place_only_if_smaller = false;
  PlanOptions never;
  never.in_place_elementwise = false;
  const MemoryPlan apart = plan_memory(g, never), over = plan_memory(g, always);
  const auto offset = [&](int t) { return over.tensor_offset[static_cast<size_t>(t)]; };
  // m1 over its gate (the stem output lives on for the add), m2 over its features.
  const QLayer &m1 = q.layers[2], &m2 = q.layers[4];
  CHECK(apart.in_place[2] == 0);
  CHECK(apart.in_place[4] == 0);
  CHECK(over.in_place[2] == 1);
  CHECK(over.in_place[4] == 1);
  CHECK(offset(m1.output) == offset(m1.input2));
  CHECK(offset(m2.output) == offset(m2.input));
  const std::vector<int8_t> logits = run_int8(q, apart, input.data(), n);
  CHECK(run_int8(q, over, input.data(), n) == logits);

  const Tensor fl = run_float(g, images);
  const TensorQuant& out = q.tensors[static_cast<size_t>(q.output())];
  double worst = 0, range = 0;
  for (int64_t i = 0; i < fl.numel(); ++i) {
    worst = std::max(
        worst, std::abs(out.scale * (logits[static_cast<size_t>(i)] - out.zero_point) - fl.get(i)));
    range = std::max(range, std::abs(static_cast<double>(fl.get(i))));
  }
  MESSAGE("gated net: int8 vs float max logit error " << worst << " (logit range " << range
                                                      << ", step " << out.scale << ")");
  CHECK(worst < 0.05 * range);

  for (const MemoryPlan* plan : {&apart, &over}) {
    TempDir dir;
    EmitOptions o;
    o.arch_text = to_text(spec);
    emit_c(q, *plan, o, dir.str() + "/export");
    const std::string c = read_file(dir.str() + "/export/model.c");
    CHECK(c.find("piconas_mul_s8(") != std::string::npos);
    CHECK(c.find("piconas_pixel_mul_s8(") != std::string::npos);
    const TargetCheck host =
        check_host(dir.str() + "/export", dir.str() + "/work", input, logits, n, PICONAS_TEST_CC);
    REQUIRE_MESSAGE(host.ran, host.skipped);
    CHECK(host.matching == n);
    CHECK(host.identical);
  }
}

TEST_CASE("graph int8: the cost model calls a gated network deployable") {
  // (Sigmoid gates: test_graph_sigmoid_int8.cpp.)
  const search::CostEstimate cost = search::estimate_cost(parse_arch(kGatedGraphArch));
  CHECK(cost.int8_deployable);
  CHECK(cost.peak_sram > 0);
  for (double instructions : cost.mcu_instructions) CHECK(instructions > 0);
}
