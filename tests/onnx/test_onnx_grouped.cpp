// The imported PyTorch grouped convs (tests/onnx/grouped_net.*, made by
// tests/onnx/make_models.py: 8 -> 12 in 2 groups, 12 -> 12 stride 2 in 4 groups, a 1x1 12 -> 8 in
// 4 groups) export to int8 C that runs piconas_conv2d_grouped_s8: the float graph gives PyTorch's
// logits, the int8 logits equal those of the dense form with zero weights outside the groups
// (quantized with the same ranges: the int8 path of before the grouped kernel) byte for byte, the
// emitted C equals the host executor byte for byte, and the constants shrink to the grouped
// filters. (Cortex-M: tests/deploy/test_mcu.cpp runs a grouped conv under QEMU.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/temp_dir.h"
#include "deploy/deploy_helpers.h"
#include "deploy/grouped_oracle.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "nas/deploy/verify.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"
#include "onnx_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using piconas::data::testing::TempDir;
using namespace piconas::onnx_test;

TEST_CASE("imported PyTorch grouped convs: int8 C with grouped filters, dense oracle, host == C") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("grouped_net.onnx"));
  train::LoadedModel loaded = train::load_model(m.checkpoint, "grouped_net");
  REQUIRE(deploy::int8_problems(loaded.arch).empty());
  const deploy::Graph g = deploy::lower_network(loaded.arch, *loaded.module);
  std::vector<int> groups;
  for (const deploy::Layer& l : g.layers)
    if (l.kind == LayerKind::Conv) groups.push_back(l.groups);
  CHECK(groups == std::vector<int>{1, 2, 4, 4});

  // PyTorch's logits from the folded float graph.
  const nlohmann::json j =
      nlohmann::json::parse(read_file(model_path("grouped_net.expected.json")));
  Tensor x(j.at("input_shape").get<Shape>());
  const auto xs = j.at("input").get<std::vector<float>>();
  const auto want = j.at("logits").get<std::vector<float>>();
  REQUIRE(static_cast<int64_t>(xs.size()) == x.numel());
  std::copy(xs.begin(), xs.end(), x.data<float>());
  const Tensor got = deploy::run_float(g, x);
  REQUIRE(static_cast<size_t>(got.numel()) == want.size());
  for (int64_t i = 0; i < got.numel(); ++i)
    CHECK(std::abs(got.get(i) - want[static_cast<size_t>(i)]) <=
          1e-5 * std::max(1.0f, std::abs(want[static_cast<size_t>(i)])));

  const data::Normalization norm = loaded.normalization;
  const Shape3 in = loaded.arch.input;
  const deploy::QuantizedModel q =
      deploy::quantize_graph(g, deploy::testing::synthetic_images(in, 64, 3, norm), norm);
  const deploy::MemoryPlan plan = deploy::plan_memory(g, deploy::PlanOptions{});
  const int64_t n = 16;
  const auto input =
      deploy::to_nhwc_int8(q.tensors[0], deploy::testing::synthetic_images(in, n, 11, norm));
  const std::vector<int8_t> logits = deploy::run_int8(q, plan, input.data(), n);

  // The oracle: the dense form, the same ranges, the same bytes; and more constants.
  const deploy::Graph dense = deploy::testing::dense_of_grouped(g);
  std::vector<std::pair<float, float>> ranges;
  for (const deploy::TensorQuant& t : q.tensors) ranges.emplace_back(t.range_min, t.range_max);
  const deploy::QuantizedModel qd = deploy::quantize(dense, ranges, norm);
  const deploy::MemoryPlan dense_plan = deploy::plan_memory(dense, deploy::PlanOptions{});
  CHECK(deploy::run_int8(qd, dense_plan, input.data(), n) == logits);
  // Filter bytes: 12x4x9 + 12x3x9 + 8x3 grouped, 12x8x9 + 12x12x9 + 8x12 dense.
  CHECK(qd.constant_bytes() - q.constant_bytes() ==
        (12 * 8 * 9 + 12 * 12 * 9 + 8 * 12) - (12 * 4 * 9 + 12 * 3 * 9 + 8 * 3));
  CHECK(q.constant_bytes() == deploy::constant_bytes(g));
  MESSAGE("grouped_net: constants " << q.constant_bytes() << " B grouped, " << qd.constant_bytes()
                                    << " B as dense convs; arena " << plan.arena_bytes
                                    << " B grouped, " << dense_plan.arena_bytes << " B dense");

  TempDir dir;
  deploy::emit_c(q, plan, deploy::EmitOptions{}, dir.file("export"));
  const std::string c = read_file(dir.file("export") + "/model.c");
  CHECK(std::count_if(q.layers.begin(), q.layers.end(),
                      [](const deploy::QLayer& l) { return l.groups > 1; }) == 3);
  size_t calls = 0;
  for (size_t at = c.find("piconas_conv2d_grouped_s8("); at != std::string::npos;
       at = c.find("piconas_conv2d_grouped_s8(", at + 1))
    ++calls;
  CHECK(calls == 3);
  const deploy::TargetCheck host =
      deploy::check_host(dir.file("export"), dir.file("work"), input, logits, n);
  REQUIRE_MESSAGE(host.ran, host.skipped);
  CHECK(host.matching == n);
  CHECK(host.identical);
}
