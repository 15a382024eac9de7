// Elementwise Mul of two feature maps of one shape (x * sigmoid(conv(x))
// gating): the graph form, the training module, the import of
// tests/onnx/gated_conv.onnx (made by tests/onnx/make_models.py with PyTorch;
// see the "generated_by" line of its .expected.json) and the int8 refusal. Its
// logits against PyTorch's, export then import and PIT run in test_onnx.cpp
// (kModels).
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

TEST_CASE("int8 export refuses an elementwise mul, naming the layer and why") {
  onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path("gated_conv.onnx"));
  // Its sigmoid gates have no int8 kernel either (refused first): relu6 gates
  // leave the mul.
  std::string mul_name;
  for (GraphLayer &l : m.arch.graph) {
    if (l.op == GraphOp::Mul && mul_name.empty())
      mul_name = l.name;
    if (l.op == GraphOp::Activation && l.activation == Activation::Sigmoid)
      l.activation = Activation::ReLU6;
  }
  m.checkpoint.meta["arch"] = to_text(m.arch);
  REQUIRE(!mul_name.empty());
  const std::string why =
      "multiplies two 8x4x4 tensors elementwise; the int8 kernels have only "
      "the squeeze-and-excitation channel scale";
  const std::vector<std::string> problems = deploy::int8_problems(m.arch);
  REQUIRE(problems.size() == 1);
  CHECK_MESSAGE(problems[0].find("layer '" + mul_name + "' " + why) !=
                    std::string::npos,
                problems[0]);
  train::LoadedModel loaded = train::load_model(m.checkpoint, "gated_conv");
  CHECK_THROWS_WITH_AS(deploy::lower_network(loaded.arch, *loaded.module),
                       doctest::Contains(why.c_str()), Error);
}
