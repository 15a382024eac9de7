// int8 deployment of sigmoid activations: each becomes a Logistic layer (TFLite-Micro's LOGISTIC,
// ops/int8/logistic_s8.h: a 256-byte table made at export, one lookup per element) whose output
// is quantized with s = 1/256, z = -128. On a graph network with three sigmoid gates (same
// shape, one channel per pixel, squeeze-and-excitation): the folded float graph equals the
// module, the tables are TFLite's and close to the real function, the host executor equals the
// emitted C byte for byte (out of place and with the lookups over their dying inputs), the flash
// counts include the tables, the cost model prices the network. (Cortex-M targets: test_mcu.cpp.)
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
#include "nas/pipeline/footprint.h"
#include "nas/search/cost_model.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

TEST_CASE("graph int8: sigmoid activations lower to Logistic layers, run as the module") {
  const ArchSpec spec = parse_arch(kSigmoidGraphArch);
  CHECK(int8_problems(spec).empty());
  auto net = make_model(spec, 41);
  const Graph g = lower_network(spec, *net);
  // c1, g1, s1, m1, a1, s2, m2, sp, e1, e2, s3, m3, ad, gap, fc
  REQUIRE(g.layers.size() == 15);
  std::vector<Shape3> logistic_shapes;
  for (const Layer& l : g.layers)
    if (l.kind == LayerKind::Logistic) {
      logistic_shapes.push_back(g.tensors[static_cast<size_t>(l.output)]);
      CHECK(g.tensors[static_cast<size_t>(l.input)] == g.tensors[static_cast<size_t>(l.output)]);
      CHECK(l.activation == FusedActivation::None);
    }
  CHECK(logistic_shapes == std::vector<Shape3>{{8, 6, 6}, {1, 6, 6}, {8, 1, 1}});
  CHECK(g.layers[1].activation == FusedActivation::None);  // the conv before keeps no clamp
  CHECK(g.layers[3].kind == LayerKind::Mul);
  CHECK(g.layers[6].kind == LayerKind::Mul);
  CHECK(g.layers[11].kind == LayerKind::ChannelMul);
  const auto norm = fashion_normalization();
  const Tensor x = synthetic_images(spec.input, 8, 3, norm);
  const Tensor want = (*net)(autograd::Variable(x)).value();
  const Tensor got = run_float(g, x);
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    worst = std::max(worst, std::abs(got.get(i) - want.get(i)));
  CHECK(worst < 1e-4);
}

TEST_CASE("graph int8: Logistic tables and output scale, host executor equals the emitted C") {
  const ArchSpec spec = parse_arch(kSigmoidGraphArch);
  auto net = make_model(spec, 41);
  const auto norm = fashion_normalization();
  const Graph g = lower_network(spec, *net);
  const QuantizedModel q =
      quantize(g, calibrate(g, synthetic_images(spec.input, 64, 5, norm)), norm);
  int logistics = 0;
  for (const QLayer& l : q.layers) {
    if (l.kind != LayerKind::Logistic) continue;
    ++logistics;
    const TensorQuant& in = q.tensors[static_cast<size_t>(l.input)];
    const TensorQuant& out = q.tensors[static_cast<size_t>(l.output)];
    CHECK(out.scale == 1.0f / 256.0f);
    CHECK(out.zero_point == -128);
    CHECK(l.logistic.input_zero_point == in.zero_point);
    // TFLite-Micro's multiplier and shift: s_in 2^27 = m 2^(shift - 31), exactly.
    CHECK(std::ldexp(static_cast<double>(l.logistic.input_multiplier),
                     l.logistic.input_left_shift - 31) ==
          static_cast<double>(in.scale) * 134217728.0);
    REQUIRE(l.table.size() == 256);
    for (int v = -128; v <= 127; ++v) {  // within a step of the real sigmoid of the input value
      const double real =
          1.0 / (1.0 + std::exp(-static_cast<double>(in.scale) * (v - in.zero_point)));
      CHECK(std::abs(l.table[static_cast<size_t>(v + 128)] - (std::round(real * 256.0) - 128.0)) <=
            1.0);
    }
  }
  CHECK(logistics == 3);
  // The gates' consumers read the fixed gate quantization: the pixel gate's mul multiplier.
  const QLayer& m2 = q.layers[6];
  CHECK(std::ldexp(static_cast<double>(m2.mul.multiplier), m2.mul.shift - 31) ==
        doctest::Approx(static_cast<double>(q.tensors[static_cast<size_t>(m2.input)].scale) /
                        256.0 / q.tensors[static_cast<size_t>(m2.output)].scale)
            .epsilon(1e-9));
  // Flash: three 256-byte tables, the same from the shapes (the search's estimate).
  int64_t weights = 0;
  for (const QLayer& l : q.layers)
    weights += static_cast<int64_t>(l.weight.size()) +
               4 * static_cast<int64_t>(l.bias.size() + l.multiplier.size() + l.shift.size());
  CHECK(q.constant_bytes() == weights + 3 * 256);
  CHECK(constant_bytes(g) == q.constant_bytes());
  CHECK(pipeline::deployment_footprint(spec, PlanOptions{}).constant_bytes == q.constant_bytes());

  const int64_t n = 32;
  const Tensor images = synthetic_images(spec.input, n, 9, norm);
  const auto input = to_nhwc_int8(q.tensors[0], images);
  PlanOptions always;  // every elementwise layer over its dying input
  always.in_place_only_if_smaller = false;
  PlanOptions never;
  never.in_place_elementwise = false;
  const MemoryPlan apart = plan_memory(g, never), over = plan_memory(g, always);
  const auto offset = [&](int t) { return over.tensor_offset[static_cast<size_t>(t)]; };
  for (size_t i : {size_t{2}, size_t{5}, size_t{10}}) {  // s1, s2, s3 over their conv outputs
    CAPTURE(i);
    CHECK(q.layers[i].kind == LayerKind::Logistic);
    CHECK(apart.in_place[i] == 0);
    CHECK(over.in_place[i] == 1);
    CHECK(offset(q.layers[i].output) == offset(q.layers[i].input));
  }
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
  MESSAGE("sigmoid-gated net: int8 vs float max logit error " << worst << " (logit range " << range
                                                              << ", step " << out.scale << ")");
  CHECK(worst < 0.05 * range);

  for (const MemoryPlan* plan : {&apart, &over}) {
    TempDir dir;
    EmitOptions o;
    o.arch_text = to_text(spec);
    emit_c(q, *plan, o, dir.str() + "/export");
    const std::string c = read_file(dir.str() + "/export/model.c");
    CHECK(c.find("#include \"piconas_runtime/logistic_s8.h\"") != std::string::npos);
    CHECK(c.find("static const int8_t l2_table[256]") != std::string::npos);
    CHECK(c.find("piconas_logistic_s8(l10_table, ") != std::string::npos);
    const TargetCheck host =
        check_host(dir.str() + "/export", dir.str() + "/work", input, logits, n, PICONAS_TEST_CC);
    REQUIRE_MESSAGE(host.ran, host.skipped);
    CHECK(host.matching == n);
    CHECK(host.identical);
  }
}

TEST_CASE("graph int8: the cost model prices a sigmoid-gated network; GELU stays refused") {
  const search::CostEstimate cost = search::estimate_cost(parse_arch(kSigmoidGraphArch));
  CHECK(cost.int8_deployable);
  CHECK(cost.peak_sram > 0);
  for (double instructions : cost.mcu_instructions) CHECK(instructions > 0);
  std::string gelu = kSigmoidGraphArch;
  const std::string gate = R"("name": "s1", "op": "sigmoid")";
  gelu.replace(gelu.find(gate), gate.size(), R"("name": "s1", "op": "gelu")");
  const ArchSpec spec = parse_arch(gelu);
  CHECK_FALSE(search::estimate_cost(spec).int8_deployable);
  const std::vector<std::string> problems = int8_problems(spec);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("layer 'g1' uses activation gelu") != std::string::npos);
}
