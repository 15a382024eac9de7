// int8 C export of the imported PyTorch models (tests/onnx/make_models.py): ds_net's max and
// average pools and its classifier on a 10x2x2 map, padded_net's flattened classifier, the
// residual and inverted residual blocks, the gated ones (hard-sigmoid and sigmoid gates, the
// sigmoid ones as int8 Logistic layers: gated_conv, spatial_attention, sigmoid_se). For each: the
// folded float graph gives PyTorch's logits, the host executor's int8 logits equal the emitted C
// compiled on the host byte for byte, and the int8 logits stay close to the float graph's.
// (Cortex-M: tests/deploy/test_mcu.cpp runs graph networks with the same layer kinds under QEMU.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "onnx_fixture.h"
#include "core/atomic_file.h"
#include "data/temp_dir.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/deploy/verify.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;
using piconas::data::testing::TempDir;

using namespace piconas::onnx_test;

namespace {

// PyTorch's input and logits committed with the model.
std::pair<Tensor, Tensor> pytorch_io(const std::string& name) {
  const nlohmann::json j = nlohmann::json::parse(read_file(model_path(name + ".expected.json")));
  Tensor in(j.at("input_shape").get<Shape>()), out(j.at("logits_shape").get<Shape>());
  const auto x = j.at("input").get<std::vector<float>>(),
             y = j.at("logits").get<std::vector<float>>();
  REQUIRE(static_cast<int64_t>(x.size()) == in.numel());
  REQUIRE(static_cast<int64_t>(y.size()) == out.numel());
  std::copy(x.begin(), x.end(), in.data<float>());
  std::copy(y.begin(), y.end(), out.data<float>());
  return {in, out};
}

// n images of normalised "pixels" in [0, 1] (the range the input quantization covers).
Tensor pixel_images(const Shape3& s, int64_t n, uint64_t seed, const data::Normalization& norm) {
  Tensor t({n, s.c, s.h, s.w});
  Rng rng(seed);
  float* p = t.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t k = 0; k < s.h * s.w; ++k)
        *p++ = (static_cast<float>(rng.uniform_int(0, 255)) / 255.0f -
                norm.mean[static_cast<size_t>(c)]) /
               norm.std[static_cast<size_t>(c)];
  return t;
}

}  // namespace

TEST_CASE(
    "imported PyTorch models export to int8 C: PyTorch's float logits, host == C, int8 close") {
  for (const std::string name :
       {"ds_net", "padded_net", "resnet_block", "mbv2_block", "avgpool_pad", "gated_hsig",
        "gated_conv", "spatial_attention", "sigmoid_se"}) {
    CAPTURE(name);
    const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path(name + ".onnx"));
    train::LoadedModel loaded = train::load_model(m.checkpoint, name);
    CHECK(deploy::int8_problems(loaded.arch).empty());
    const deploy::Graph g = deploy::lower_network(loaded.arch, *loaded.module);
    if (name == "ds_net") {
      int pools = 0;
      for (const deploy::Layer& l : g.layers)
        pools += l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool;
      CHECK(pools == 2);
    }
    int muls = 0, pixel_gates = 0, logistics = 0;
    for (const deploy::Layer& l : g.layers) {
      muls += l.kind == LayerKind::Mul;
      pixel_gates += l.kind == LayerKind::Mul && g.tensors[static_cast<size_t>(l.input2)].c == 1;
      logistics += l.kind == LayerKind::Logistic;
    }
    // x * hardsigmoid(conv(x)) and x * sigmoid(conv(x)), both orders: two elementwise muls;
    // spatial attention: two 1x4x4 gates, the first a sigmoid; an SE module's sigmoid gate.
    if (name == "gated_hsig") CHECK((muls == 2 && logistics == 0));
    if (name == "gated_conv") CHECK((muls == 2 && pixel_gates == 0 && logistics == 2));
    if (name == "spatial_attention") CHECK((muls == 2 && pixel_gates == 2 && logistics == 1));
    if (name == "sigmoid_se") CHECK((muls == 0 && logistics == 1));
    if (name == "avgpool_pad") {  // PyTorch's default AvgPool2d(padding 1) counts the padding
      std::vector<bool> include_pad;
      for (const deploy::Layer& l : g.layers)
        if (l.kind == LayerKind::AvgPool) include_pad.push_back(l.count_include_pad);
      CHECK(include_pad == std::vector<bool>{true, false});
    }
    const auto [x, want] = pytorch_io(name);
    const Tensor got = deploy::run_float(g, x);
    double worst = 0;
    for (int64_t i = 0; i < got.numel(); ++i)
      worst = std::max(worst,
                       std::abs(got.get(i) - want.get(i)) / std::max(1.0, std::abs(want.get(i))));
    CHECK(worst < 1e-5);

    const Shape3 in = loaded.arch.input;
    const deploy::QuantizedModel q = deploy::quantize_graph(
        g, pixel_images(in, 64, 3, loaded.normalization), loaded.normalization);
    const deploy::MemoryPlan plan = deploy::plan_memory(g, deploy::PlanOptions{});
    const int64_t n = 16;
    const Tensor images = pixel_images(in, n, 11, loaded.normalization);
    const auto input = deploy::to_nhwc_int8(q.tensors[0], images);
    const std::vector<int8_t> logits = deploy::run_int8(q, plan, input.data(), n);
    const Tensor fl = deploy::run_float(g, images);
    const deploy::TensorQuant& out = q.tensors[static_cast<size_t>(q.output())];
    double error = 0, range = 0;
    for (int64_t i = 0; i < fl.numel(); ++i) {
      error = std::max(
          error,
          std::abs(out.scale * (logits[static_cast<size_t>(i)] - out.zero_point) - fl.get(i)));
      range = std::max(range, std::abs(static_cast<double>(fl.get(i))));
    }
    MESSAGE(name << ": int8 vs float max logit error " << error << " (logit range " << range
                 << ", step " << out.scale << ")");
    CHECK(error < 0.1 * range);

    TempDir dir;
    deploy::emit_c(q, plan, deploy::EmitOptions{}, dir.file("export"));
    const std::string c = read_file(dir.file("export") + "/model.c");
    CHECK((c.find("piconas_logistic_s8(") != std::string::npos) == (logistics > 0));
    CHECK((c.find("piconas_pixel_mul_s8(") != std::string::npos) == (pixel_gates > 0));
    const deploy::TargetCheck host =
        deploy::check_host(dir.file("export"), dir.file("work"), input, logits, n);
    REQUIRE_MESSAGE(host.ran, host.skipped);
    CHECK(host.matching == n);
    CHECK(host.identical);
  }
}
