#include <doctest/doctest.h>

#include <algorithm>

#include <cmath>

#include "data/dataset.h"
#include "data/loader.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/quantize.h"
#include "ops/int8/quantize_multiplier.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {
const char* kResidualArch = "blocks:in=1x16x16,classes=6,act=relu6,stem=8k3s1|ir:k3e4s1c8|ir:k3e2s2c16|ir:k5e3s1c16|head=24";

struct Fixture {
  ArchSpec spec;
  Graph graph;
  data::Normalization norm = fashion_normalization();
  Tensor calib, test;
  QuantizedModel model;
  explicit Fixture(const std::string& text, CalibrationOptions options = {}) : spec(parse_arch(text)) {
    auto net = make_model(spec, 9);
    graph = lower_network(spec, *net);
    calib = synthetic_images(spec.input, 48, 100, norm);
    test = synthetic_images(spec.input, 32, 200, norm);
    model = quantize_graph(graph, calib, norm, options);
  }
};

// Dequantized int8 logits of the executor.
std::vector<double> dequantized(const QuantizedModel& m, const std::vector<int8_t>& q) {
  const TensorQuant& t = m.tensors[static_cast<size_t>(m.output())];
  std::vector<double> out;
  for (int8_t v : q) out.push_back(static_cast<double>(t.scale) * (v - t.zero_point));
  return out;
}
}  // namespace

TEST_CASE("weights: symmetric per channel, max |q| = 127, layouts converted from OIHW") {
  Fixture f(kResidualArch);
  for (size_t i = 0; i < f.model.layers.size(); ++i) {
    const QLayer& q = f.model.layers[i];
    const Layer& l = f.graph.layers[i];
    if (q.weight.empty()) continue;
    INFO(q.name);
    const int64_t out_c = static_cast<int64_t>(q.bias.size());
    const int64_t per = static_cast<int64_t>(q.weight.size()) / out_c;
    const int64_t kk = int64_t{l.kernel.h} * l.kernel.w;
    for (int64_t c = 0; c < out_c; ++c) {
      int max_q = 0;
      for (int64_t j = 0; j < per; ++j) {
        // index of weight (c, j) of the OIHW layout in the int8 layout
        int64_t dst = c * per + j;
        if (q.kind == LayerKind::Conv) dst = (c * kk + j % kk) * (per / kk) + j / kk;
        if (q.kind == LayerKind::Depthwise) dst = j * out_c + c;
        const int v = q.weight[static_cast<size_t>(dst)];
        max_q = std::max(max_q, std::abs(v));
        const double w = l.weight[static_cast<size_t>(c * per + j)];
        CHECK(std::fabs(w / q.weight_scale[static_cast<size_t>(c)] - v) <= 0.5 + 1e-4);
      }
      CHECK(max_q == 127);
    }
  }
}

TEST_CASE("activations: zero is exact, GAP keeps its input quantization, clamps follow ReLU6") {
  Fixture f(kResidualArch);
  for (const TensorQuant& t : f.model.tensors) {
    CHECK(t.zero_point >= -128);
    CHECK(t.zero_point <= 127);
    // the widened range [min(lo, 0), max(hi, 0)] is representable: 0 maps to an integer z
    CHECK(t.scale > 0.0f);
    CHECK(static_cast<double>(t.scale) * (-128 - t.zero_point) <= std::min(0.0f, t.range_min) + t.scale);
  }
  for (const QLayer& l : f.model.layers) {
    const TensorQuant& out = f.model.tensors[static_cast<size_t>(l.output)];
    if (l.kind == LayerKind::GlobalAvgPool) {
      const TensorQuant& in = f.model.tensors[static_cast<size_t>(l.input)];
      CHECK(out.scale == in.scale);
      CHECK(out.zero_point == in.zero_point);
    }
    if (f.graph.layers[static_cast<size_t>(&l - f.model.layers.data())].activation == FusedActivation::ReLU6) {
      CHECK(l.activation.min == std::max(-128, out.zero_point));
      CHECK(l.activation.max == std::min<int32_t>(127, out.zero_point + static_cast<int32_t>(std::round(6.0 / out.scale))));
    }
  }
}

TEST_CASE("multipliers are computed in double from s_in * s_w / s_out") {
  Fixture f(kResidualArch);
  const QLayer& l = f.model.layers[0];
  const double s_in = f.model.tensors[0].scale, s_out = f.model.tensors[static_cast<size_t>(l.output)].scale;
  for (size_t c = 0; c < l.multiplier.size(); ++c) {
    int32_t m = 0, s = 0;
    piconas_quantize_multiplier(s_in * static_cast<double>(l.weight_scale[c]) / s_out, &m, &s);
    CHECK(l.multiplier[c] == m);
    CHECK(l.shift[c] == s);
    CHECK(l.bias[c] == static_cast<int32_t>(std::round(f.graph.layers[0].bias[c] / (s_in * l.weight_scale[c]))));
  }
}

TEST_CASE("int8 executor tracks the float graph") {
  Fixture f(kResidualArch);
  const Tensor ref = run_float(f.graph, f.test);
  const MemoryPlan plan = plan_memory(f.graph);
  const auto q = run_int8(f.model, plan, to_nhwc_int8(f.model.tensors[0], f.test).data(), f.test.dim(0));
  const auto deq = dequantized(f.model, q);
  double range = 0, err = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    range = std::max(range, std::fabs(ref.get(i)));
    err = std::max(err, std::fabs(ref.get(i) - deq[static_cast<size_t>(i)]));
  }
  MESSAGE("max |float - int8| logit error " << err << " of max |logit| " << range);
  CHECK(err < 0.15 * range);
  const auto fp = argmax_rows(ref), ip = argmax_rows(q, f.spec.num_classes);
  int same = 0;
  for (size_t i = 0; i < fp.size(); ++i) same += fp[i] == ip[i];
  CHECK(same >= 26);  // of 32
}

TEST_CASE("the planned arena (in-place depthwise) gives the same bytes as a plan without reuse") {
  Fixture f(kResidualArch);
  const auto input = to_nhwc_int8(f.model.tensors[0], f.test);
  MemoryPlan planned = plan_memory(f.graph);
  REQUIRE(std::count(planned.in_place.begin(), planned.in_place.end(), 1) > 0);
  MemoryPlan naive = plan_memory(f.graph, PlanOptions{PlanStrategy::Best, false});
  int64_t offset = 0;
  for (auto& o : naive.tensor_offset) {
    o = offset;
    offset += (f.graph.tensor_bytes(static_cast<int>(&o - naive.tensor_offset.data())) + 3) / 4 * 4;
  }
  for (size_t i = 0; i < naive.scratch_offset.size(); ++i)
    if (naive.scratch_offset[i] >= 0) {
      naive.scratch_offset[i] = offset;
      offset += (naive.scratch_size[i] + 3) / 4 * 4;
    }
  naive.arena_bytes = offset;
  CHECK(offset == plan_memory(f.graph, PlanOptions{PlanStrategy::Best, false}).naive_bytes);
  CHECK(run_int8(f.model, planned, input.data(), 32) == run_int8(f.model, naive, input.data(), 32));
}

TEST_CASE("in-place 1x1 convs and depthwise give the bytes of the out-of-place plan; a wrong offset fails") {
  Fixture f(kResidualArch);
  const auto input = to_nhwc_int8(f.model.tensors[0], f.test);
  const MemoryPlan all = plan_smallest(f.graph, PlanOptions{});
  int convs = 0;
  size_t conv = 0;
  for (size_t i = 0; i < f.graph.layers.size(); ++i)
    if (all.in_place[i] && f.graph.layers[i].kind == LayerKind::Conv) ++convs, conv = i;
  REQUIRE(convs > 0);
  const MemoryPlan out_of_place = plan_memory(f.graph, PlanOptions{PlanStrategy::Best, false});
  CHECK(run_int8(f.model, all, input.data(), 32) == run_int8(f.model, out_of_place, input.data(), 32));
  // The output 4 bytes later than the latest start the kernel's rule allows would overwrite
  // input not yet read: the kernel refuses it.
  MemoryPlan wrong = all;
  const Layer& l = f.graph.layers[conv];
  const Shape3& in = f.graph.tensors[static_cast<size_t>(l.input)];
  const Shape3& out = f.graph.tensors[static_cast<size_t>(l.output)];
  const int64_t x = all.tensor_offset[static_cast<size_t>(l.input)], y = all.tensor_offset[static_cast<size_t>(l.output)];
  const int64_t n = in.h * in.w, first = std::min<int64_t>(kInPlaceConvStrip, n);
  const int64_t slack = std::min(x + first * in.c - (y + first * out.c), x + n * in.c - (y + n * out.c));
  REQUIRE(slack >= 0);
  wrong.tensor_offset[static_cast<size_t>(l.output)] += (slack / 4 + 1) * 4;
  wrong.arena_bytes += slack + 64;
  CHECK_THROWS_WITH(run_int8(f.model, wrong, input.data(), 32), doctest::Contains("returned status -1"));
}

TEST_CASE("in-place add, hard-swish and channel multiply give the bytes of the out-of-place plan; a wrong offset fails") {
  // Every elementwise layer whose input dies there writes over it (in_place_only_if_smaller
  // off); the residual net has adds, the MobileNetV3 blocks hard-swish, SE multiplies and adds.
  for (const char* arch : {kResidualArch, "blocks:in=1x16x16,classes=4,act=hswish,stem=8k3s2|ir:k3e1s1c8:se:relu|"
                                          "ir:k3e4s2c16:se|ir:k5e3s1c16:se|head=32"}) {
    INFO(std::string(arch));
    Fixture f(arch);
    const auto input = to_nhwc_int8(f.model.tensors[0], f.test);
    PlanOptions always;
    always.in_place_only_if_smaller = false;
    const MemoryPlan in_place = plan_memory(f.graph, always);
    std::vector<size_t> elementwise;
    for (size_t i = 0; i < f.graph.layers.size(); ++i)
      if (in_place.in_place[i] && f.graph.layers[i].kind != LayerKind::Depthwise) elementwise.push_back(i);
    REQUIRE(!elementwise.empty());
    const MemoryPlan out_of_place = plan_memory(f.graph, PlanOptions{PlanStrategy::Best, false});
    const std::vector<int8_t> expected = run_int8(f.model, out_of_place, input.data(), 32);
    CHECK(run_int8(f.model, in_place, input.data(), 32) == expected);
    // The output 4 bytes after the input it overwrites would overwrite input not yet read.
    for (size_t i : elementwise) {
      INFO(f.graph.layers[i].name);
      MemoryPlan wrong = in_place;
      wrong.tensor_offset[static_cast<size_t>(f.graph.layers[i].output)] += 4;
      wrong.arena_bytes += 4;
      CHECK(run_int8(f.model, wrong, input.data(), 32) != expected);
    }
  }
}

TEST_CASE("percentile calibration clips the tails, min/max does not") {
  const Fixture f(kResidualArch);
  CalibrationOptions p;
  p.method = CalibrationMethod::Percentile;
  p.percentile = 99.0;
  CalibrationOptions m;
  m.method = CalibrationMethod::MinMax;
  const auto minmax = calibrate(f.graph, f.calib, m);
  const auto pct = calibrate(f.graph, f.calib, p);
  int narrower = 0;
  for (size_t t = 1; t < minmax.size(); ++t) {
    CHECK(pct[t].first >= minmax[t].first - 1e-6f);
    CHECK(pct[t].second <= minmax[t].second + 1e-6f);
    narrower += pct[t].second < minmax[t].second;
  }
  CHECK(narrower > static_cast<int>(minmax.size()) / 2);
}

TEST_CASE("input table equals quantizing the Loader's normalised pixels") {
  const data::Normalization norm = fashion_normalization();
  Fixture f(kResidualArch);
  const auto lut = input_lut(f.model.tensors[0], norm);
  REQUIRE(lut.size() == 256);
  data::Dataset ds;
  ds.count = 1;
  ds.channels = 1;
  ds.height = 16;
  ds.width = 16;
  ds.num_classes = 1;
  ds.class_names = {"x"};
  ds.labels = {0};
  for (int v = 0; v < 256; ++v) ds.images.push_back(static_cast<uint8_t>(v));
  data::LoaderOptions lo;
  lo.shuffle = false;
  lo.prefetch = 0;
  data::Loader loader(ds, {0}, lo, norm);
  const auto q = to_nhwc_int8(f.model.tensors[0], loader.make_batch(0, 0).images);
  for (int v = 0; v < 256; ++v) CHECK(q[static_cast<size_t>(v)] == lut[static_cast<size_t>(v)]);
  CHECK(lut[0] == -128);  // pixel 0 is the bottom of the input range
  CHECK(lut[255] == 127);
}
