// int8 deployment of graph-network layers beyond the block spaces: max and average pools
// (TFLite's windows), a grouped conv (piconas_conv2d_grouped_s8: byte for byte the int8 output
// of its dense form with zero weights outside the groups, for half the filter bytes), a ReLU after a
// pool (its clamp) and a classifier on a CxHxW map (the NCHW flattening). The folded float
// graph equals the module, the host executor's int8 logits equal the emitted C compiled on the
// host byte for byte, the int8 logits stay close to the float ones, and what TFLite cannot
// express is refused by name. (Cortex-M targets: test_mcu.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "deploy/grouped_oracle.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/deploy/verify.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

// conv-bn-relu, max pool 3x3/s2 with padding, grouped conv (2 groups)-bn-relu6, average pool
// 3x3/s2 with padding (padding taps not counted), 1x1 conv with bias, max pool 2x2 + relu,
// classifier on the 6x2x2 map.
const char* kPoolNet = R"({"graph": 1, "input": [1, 16, 16], "classes": 4, "layers": [
  {"name": "c1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1]},
  {"name": "b1", "op": "batchnorm"},
  {"name": "r1", "op": "relu"},
  {"name": "mp", "op": "maxpool", "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "g1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1], "groups": 2},
  {"name": "b2", "op": "batchnorm"},
  {"name": "r2", "op": "relu6"},
  {"name": "ap", "op": "avgpool", "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "c2", "op": "conv", "out": 6, "kernel": [1, 1], "bias": true},
  {"name": "mp2", "op": "maxpool", "kernel": [2, 2], "stride": [2, 2]},
  {"name": "r3", "op": "relu"},
  {"name": "fc", "op": "linear", "out": 4}]})";

// kPoolNet with its average pool counting the padding taps (PyTorch's AvgPool2d default).
std::string pool_net(bool count_include_pad) {
  std::string text = kPoolNet;
  if (count_include_pad) {
    const std::string ap = R"("pad": [1, 1]},
  {"name": "c2")";
    const size_t at = text.find(ap);
    REQUIRE(at != std::string::npos);
    text.replace(at, ap.size(), R"("pad": [1, 1], "count_include_pad": true},
  {"name": "c2")");
  }
  return text;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a.get(i) - b.get(i)));
  return worst;
}

std::string lowering_error(const std::string& arch) {
  const ArchSpec spec = parse_arch(arch);
  try {
    lower_arch(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE(
    "graph int8: pools, grouped conv and flattened classifier lower, fold and run as the module") {
  for (bool include_pad : {false, true}) {
    INFO("count_include_pad " << include_pad);
    const ArchSpec spec = parse_arch(pool_net(include_pad));
    CHECK(int8_problems(spec).empty());
    auto net = make_model(spec, 21);
    const Graph g = lower_network(spec, *net);
    // c1, mp (+relu? no: r1 is c1's), g1, ap, c2, mp2 (+r3), fc
    REQUIRE(g.layers.size() == 7);
    CHECK(g.layers[1].kind == LayerKind::MaxPool);
    CHECK(g.layers[2].kind == LayerKind::Conv);
    CHECK(g.layers[2].groups == 2);
    CHECK(g.layers[2].weight.size() == 8 * 4 * 9);  // [O, I / groups, KH, KW]
    CHECK(g.layers[3].kind == LayerKind::AvgPool);
    CHECK(g.layers[5].kind == LayerKind::MaxPool);
    CHECK(g.layers[5].activation == FusedActivation::ReLU);
    CHECK(g.tensors[static_cast<size_t>(g.layers[5].output)] == Shape3{6, 2, 2});
    // Its dense form has zero weights outside the groups: output channel 0 (group 0) reads
    // input channels 0..3 only, output channel 7 (group 1) channels 4..7 only.
    const Graph dense = dense_of_grouped(g);
    CHECK(dense.layers[2].groups == 1);
    for (int64_t k = 0; k < 9; ++k) {
      CHECK(dense.layers[2].weight[static_cast<size_t>((0 * 8 + 5) * 9 + k)] == 0.0f);
      CHECK(dense.layers[2].weight[static_cast<size_t>((7 * 8 + 2) * 9 + k)] == 0.0f);
    }
    const auto norm = fashion_normalization();
    const Tensor x = synthetic_images(spec.input, 8, 3, norm);
    const Tensor want = (*net)(autograd::Variable(x)).value();
    CHECK(max_abs_diff(run_float(g, x), want) < 1e-4);
    CHECK(max_abs_diff(run_float(dense, x), want) < 1e-4);
  }
}

TEST_CASE("graph int8: host executor equals the emitted C on the host, int8 close to float") {
  for (bool include_pad : {false, true}) {
    INFO("count_include_pad " << include_pad);
    const ArchSpec spec = parse_arch(pool_net(include_pad));
    auto net = make_model(spec, 21);
    const auto norm = fashion_normalization();
    const Graph g = lower_network(spec, *net);
    const QuantizedModel q = quantize_graph(g, synthetic_images(spec.input, 64, 5, norm), norm);
    // Pools keep their input's scale and zero point.
    for (const QLayer& l : q.layers) {
      if (l.kind != LayerKind::MaxPool && l.kind != LayerKind::AvgPool) continue;
      CHECK(q.tensors[static_cast<size_t>(l.output)].scale ==
            q.tensors[static_cast<size_t>(l.input)].scale);
      CHECK(q.tensors[static_cast<size_t>(l.output)].zero_point ==
            q.tensors[static_cast<size_t>(l.input)].zero_point);
    }
    const MemoryPlan plan = plan_memory(g, PlanOptions{});
    const int64_t n = 32;
    const Tensor images = synthetic_images(spec.input, n, 9, norm);
    const auto input = to_nhwc_int8(q.tensors[0], images);
    const std::vector<int8_t> logits = run_int8(q, plan, input.data(), n);
    // The oracle: the dense form of the grouped conv, quantized with the same ranges, gives the
    // same bytes, with twice the grouped conv's filter bytes.
    const Graph dense = dense_of_grouped(g);
    std::vector<std::pair<float, float>> ranges;
    for (const TensorQuant& t : q.tensors) ranges.emplace_back(t.range_min, t.range_max);
    const QuantizedModel qd = quantize(dense, ranges, norm);
    CHECK(run_int8(qd, plan_memory(dense, PlanOptions{}), input.data(), n) == logits);
    CHECK(qd.layers[2].weight.size() == 2 * q.layers[2].weight.size());
    CHECK(q.constant_bytes() == constant_bytes(g));
    CHECK(qd.constant_bytes() - q.constant_bytes() == 8 * 4 * 9);

    // int8 against float: dequantized logits within a few output steps, the same class mostly.
    const Tensor fl = run_float(g, images);
    const TensorQuant& out = q.tensors[static_cast<size_t>(q.output())];
    double worst = 0, range = 0;
    for (int64_t i = 0; i < fl.numel(); ++i) {
      const double real = out.scale * (logits[static_cast<size_t>(i)] - out.zero_point);
      worst = std::max(worst, std::abs(real - fl.get(i)));
      range = std::max(range, std::abs(static_cast<double>(fl.get(i))));
    }
    const auto int8_class = argmax_rows(logits, spec.num_classes), float_class = argmax_rows(fl);
    int64_t agree = 0;
    for (size_t i = 0; i < int8_class.size(); ++i) agree += int8_class[i] == float_class[i];
    MESSAGE("pool net: int8 vs float max logit error "
            << worst << " (logit range " << range << ", step " << out.scale
            << "), argmax agreement " << agree << "/" << n);
    CHECK(worst < 0.05 * range);
    CHECK(agree >= n * 9 / 10);

    TempDir dir;
    EmitOptions o;
    o.arch_text = to_text(spec);
    emit_c(q, plan, o, dir.str() + "/export");
    const std::string c = read_file(dir.str() + "/export/model.c");
    CHECK(c.find("piconas_max_pool2d_s8(") != std::string::npos);
    CHECK(c.find("piconas_conv2d_grouped_s8(") != std::string::npos);
    CHECK((c.find("piconas_avg_pool2d_s8(") != std::string::npos) == !include_pad);
    CHECK((c.find("piconas_avg_pool2d_include_pad_s8(") != std::string::npos) == include_pad);
    const TargetCheck host =
        check_host(dir.str() + "/export", dir.str() + "/work", input, logits, n, PICONAS_TEST_CC);
    REQUIRE_MESSAGE(host.ran, host.skipped);
    CHECK(host.matching == n);
    CHECK(host.identical);
  }
}

TEST_CASE("graph int8: what TFLite's pools cannot express is refused by name") {
  const std::string head = R"({"graph": 1, "input": [2, 8, 8], "classes": 2, "layers": [)";
  const std::string tail =
      R"(, {"name": "gap", "op": "global_avgpool"}, {"name": "fc", "op": "linear", "out": 2}]})";
  // count_include_pad with padding has its own kernel; without padding it changes nothing.
  CHECK(
      lowering_error(
          head +
          R"({"name": "ap", "op": "avgpool", "kernel": [3, 3], "pad": [1, 1], "count_include_pad": true})" +
          tail) == "");
  CHECK(lowering_error(
            head +
            R"({"name": "ap", "op": "avgpool", "kernel": [3, 3], "count_include_pad": true})" +
            tail) == "");
  CHECK(lowering_error(head +
                       R"({"name": "mp", "op": "maxpool", "kernel": [2, 2], "pad": [0, 2]})" + tail)
            .find("layer 'mp': pool padding 0x2") != std::string::npos);
  // A BatchNorm or ReLU that int8 cannot fold (after a global pool, a pool) is refused, not
  // dropped.
  CHECK(lowering_error(head +
                       R"({"name": "g", "op": "global_avgpool"}, {"name": "r", "op": "relu"},)" +
                       R"({"name": "fc", "op": "linear", "out": 2}]})")
            .find("layer 'r' (relu) does not follow a conv, add or pool") != std::string::npos);
  CHECK(lowering_error(head + R"({"name": "mp", "op": "maxpool", "kernel": [2, 2]},)" +
                       R"({"name": "bn", "op": "batchnorm"})" + tail)
            .find("layer 'bn' (bn) does not follow a conv") != std::string::npos);
  // A branch reading a value that int8 fuses away (a BatchNorm output whose relu is fused into
  // the conv) is refused, not given the activated values; without the relu it lowers.
  const std::string branch =
      R"({"name": "c1", "op": "conv", "out": 2, "kernel": [3, 3], "pad": [1, 1]},
         {"name": "b1", "op": "batchnorm"}, RELU
         {"name": "c2", "op": "conv", "out": 2, "kernel": [3, 3], "pad": [1, 1]},
         {"name": "b2", "op": "batchnorm"}, {"name": "add", "op": "add", "inputs": ["b2", "b1"]})";
  const auto with = [&](const std::string& relu) {
    std::string layers = branch;
    layers.replace(layers.find("RELU"), 4, relu);
    return head + layers + tail;
  };
  CHECK(lowering_error(with(R"({"name": "r1", "op": "relu"},)"))
            .find("layer 'add' reads 'b1' (bn), a value int8 does not keep") != std::string::npos);
  CHECK(lowering_error(with("")) == "");
}
