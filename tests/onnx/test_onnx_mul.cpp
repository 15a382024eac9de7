// Mul of two feature maps of one shape (x * sigmoid(conv(x)) gating) and of
// features by a one-channel gate per pixel (spatial attention): the graph form,
// the training module, the import of tests/onnx/gated_conv.onnx and
// spatial_attention.onnx (made by tests/onnx/make_models.py with PyTorch; see
// the "generated_by" line of their .expected.json) and their int8 lowering.
// Their logits against PyTorch's, export then import and PIT run in
// test_onnx.cpp (kModels); int8 C in test_onnx_int8.cpp.
#include <doctest/doctest.h>

#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/graph.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"
#include "onnx_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::onnx_test;

TEST_CASE("graph text: mul of two tensors of one shape is their elementwise "
          "product") {
  // x -> conv (4x3x3) -> m = conv * conv -> linear: the logits are
  // fc(conv(x)^2).
  const ArchSpec spec =
      parse_arch(R"({"graph":1,"input":[1,3,3],"classes":1,"layers":[)"
                 R"({"name":"c","op":"conv","out":2,"kernel":[1,1]},)"
                 R"({"name":"m","op":"mul","inputs":["c","c"]},)"
                 R"({"name":"fc","op":"linear","out":1}]})");
  const std::vector<LayerInfo> rows = arch_layers(spec);
  REQUIRE(rows.size() == 4);
  CHECK(rows[2].kind == LayerKind::ChannelMul);
  CHECK(rows[2].type == "mul");
  CHECK(rows[2].input == (Shape3{2, 3, 3}));
  CHECK(rows[2].output == (Shape3{2, 3, 3}));
  auto net = build_network(spec);
  net->set_training(false);
  auto state = net->state();
  for (auto &[name, t] : state) {
    if (name == "c.weight") { // channel 0 doubles, channel 1 negates
      t.set(0, 2.0);
      t.set(1, -1.0);
    } else if (name == "fc.weight") {
      for (int64_t k = 0; k < t.numel(); ++k)
        t.set(k, k < 9 ? 1.0 : 0.5);
    } else {
      for (int64_t k = 0; k < t.numel(); ++k)
        t.set(k, 0.0);
    }
  }
  net->load_state(state);
  Tensor x({1, 1, 3, 3});
  double want = 0;
  for (int64_t k = 0; k < 9; ++k) {
    const double v = 0.25 * static_cast<double>(k) - 1.0;
    x.set(k, v);
    want += 4 * v * v + 0.5 * v * v; // (2x)^2 + 0.5 (-x)^2
  }
  const Tensor y = (*net)(autograd::Variable(x)).value();
  CHECK(y.get(0) == doctest::Approx(want).epsilon(1e-6));
}

TEST_CASE(
    "gated_conv.onnx imports its two feature-map products as same-shape muls") {
  const onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path("gated_conv.onnx"));
  int muls = 0;
  for (const LayerInfo &row : arch_layers(m.arch))
    if (row.kind == LayerKind::ChannelMul) {
      ++muls;
      CHECK(row.type == "mul");
      CHECK(row.input == (Shape3{8, 4, 4}));
      CHECK(row.output == (Shape3{8, 4, 4}));
    }
  CHECK(muls == 2);
}

TEST_CASE("int8: gated_conv's products lower to Mul layers, its sigmoid gates to Logistic ones") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("gated_conv.onnx"));
  CHECK(deploy::int8_problems(m.arch).empty());
  train::LoadedModel loaded = train::load_model(m.checkpoint, "gated_conv");
  const deploy::Graph g = deploy::lower_network(loaded.arch, *loaded.module);
  int muls = 0, logistics = 0;
  for (const deploy::Layer &l : g.layers) {
    const Shape3 in = g.tensors[static_cast<size_t>(l.input)];
    if (l.kind == LayerKind::Mul) {
      ++muls;
      CHECK(in == (Shape3{8, 4, 4}));
      CHECK(g.tensors[static_cast<size_t>(l.input2)] == (Shape3{8, 4, 4}));
    }
    if (l.kind == LayerKind::Logistic) {
      ++logistics;
      CHECK(in == (Shape3{8, 4, 4}));
    }
  }
  CHECK(muls == 2);
  CHECK(logistics == 2);
}

TEST_CASE("spatial_attention.onnx imports its two pixel gates (either order) as muls") {
  const onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path("spatial_attention.onnx"));
  int muls = 0;
  for (const LayerInfo &row : arch_layers(m.arch))
    if (row.kind == LayerKind::ChannelMul) {
      ++muls;
      CHECK(row.type == "mul");
      CHECK(mul_gate(row) == MulGate::Pixel);
      CHECK(row.input == (Shape3{1, 4, 4}));
      CHECK(row.output == (Shape3{8, 4, 4}));
    }
  CHECK(muls == 2);
}

TEST_CASE("graph text: mul by a 1xHxW gate scales each pixel's channels") {
  // x -> conv c (2 channels) and conv a (1 channel) -> m = c * a -> linear: the logits are
  // fc(c(x) * a(x)) with the gate broadcast over c's channels.
  const ArchSpec spec =
      parse_arch(R"({"graph":1,"input":[1,2,2],"classes":1,"layers":[)"
                 R"({"name":"c","op":"conv","out":2,"kernel":[1,1]},)"
                 R"({"name":"a","op":"conv","out":1,"kernel":[1,1],"inputs":["input"]},)"
                 R"({"name":"m","op":"mul","inputs":["c","a"]},)"
                 R"({"name":"fc","op":"linear","out":1}]})");
  auto net = build_network(spec);
  net->set_training(false);
  auto state = net->state();
  for (auto &[name, t] : state) {
    if (name == "c.weight") {  // channel 0 doubles, channel 1 negates
      t.set(0, 2.0);
      t.set(1, -1.0);
    } else if (name == "a.weight") {
      t.set(0, 3.0);
    } else if (name == "fc.weight") {
      for (int64_t k = 0; k < t.numel(); ++k) t.set(k, k < 4 ? 1.0 : 0.5);
    } else {
      for (int64_t k = 0; k < t.numel(); ++k) t.set(k, 0.0);
    }
  }
  net->load_state(state);
  Tensor x({1, 1, 2, 2});
  double want = 0;
  for (int64_t k = 0; k < 4; ++k) {
    const double v = 0.5 * static_cast<double>(k) - 0.7;
    x.set(k, v);
    want += 2 * v * 3 * v + 0.5 * (-v) * 3 * v;  // (2x)(3x) + 0.5 (-x)(3x)
  }
  const Tensor y = (*net)(autograd::Variable(x)).value();
  CHECK(y.get(0) == doctest::Approx(want).epsilon(1e-6));
  // A gate of 2 channels that are not the features' (3) is refused at parse time.
  CHECK_THROWS_WITH_AS(
      parse_arch(R"({"graph":1,"input":[1,2,2],"classes":1,"layers":[)"
                 R"({"name":"c","op":"conv","out":3,"kernel":[1,1]},)"
                 R"({"name":"a","op":"conv","out":2,"kernel":[1,1],"inputs":["input"]},)"
                 R"({"name":"m","op":"mul","inputs":["c","a"]},)"
                 R"({"name":"fc","op":"linear","out":1}]})"),
      doctest::Contains("multiplies a 3x2x2 tensor by a 2x2x2 one"), Error);
}
