// Squeeze-and-excitation on import: HardSigmoid, Sigmoid and the channel-scale
// Mul (tests/onnx/mbv3_block.* and sigmoid_se.*, made by
// tests/onnx/make_models.py with PyTorch; see the "generated_by" line of each
// .expected.json), against PyTorch's logits, the graph form, and the named
// refusals.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "onnx_fixture.h"
#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/graph.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;

using namespace piconas::onnx_test;

namespace {

onnx::ModelProto proto(const std::string &name) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(model_path(name))));
  return m;
}

const GraphLayer &only_layer(const ArchSpec &spec, GraphOp op) {
  const GraphLayer *found = nullptr;
  for (const GraphLayer &l : spec.graph)
    if (l.op == op) {
      REQUIRE(found == nullptr);
      found = &l;
    }
  REQUIRE(found != nullptr);
  return *found;
}

void refused(const onnx::ModelProto &m, const char *expected_text) {
  try {
    onnx_io::import_onnx(m.SerializeAsString(), "se.onnx");
    FAIL("accepted");
  } catch (const Error &e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_MESSAGE(what.find(expected_text) != std::string::npos, what);
  }
}

onnx::NodeProto &node_of(onnx::ModelProto &m, const std::string &op) {
  for (onnx::NodeProto &n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == op)
      return n;
  FAIL("no node " << op);
  throw Error("unreachable");
}

} // namespace

TEST_CASE("squeeze-and-excitation models compute PyTorch's logits") {
  for (const std::string name : {"mbv3_block", "sigmoid_se"}) {
    INFO(name);
    const onnx_io::ImportedModel m =
        onnx_io::import_onnx_file(model_path(name + ".onnx"));
    const Expected e = expected(name);
    CHECK(max_rel_diff(logits_of(m.checkpoint, e.input), e.logits) < 2e-5);
    // The mul's first input is the features, its second the gate, whichever
    // order ONNX has (sigmoid_se writes gate * features).
    const GraphLayer &mul = only_layer(m.arch, GraphOp::Mul);
    const std::vector<LayerInfo> rows = arch_layers(m.arch);
    const LayerInfo &features = rows[static_cast<size_t>(mul.inputs[0]) + 1];
    const LayerInfo &gate = rows[static_cast<size_t>(mul.inputs[1]) + 1];
    CHECK(features.output.h > 1);
    CHECK(gate.output == Shape3{features.output.c, 1, 1});
    CHECK(gate.kind == LayerKind::Activation);
    const Activation want =
        name == "mbv3_block" ? Activation::Hardsigmoid : Activation::Sigmoid;
    CHECK(gate.activation == want);
    // The check can fail: the other gate moves the logits (by 5.8e-4 and more,
    // 29 times the tolerance).
    ArchSpec wrong = m.arch;
    wrong.graph[static_cast<size_t>(mul.inputs[1])].activation =
        want == Activation::Sigmoid ? Activation::Hardsigmoid
                                    : Activation::Sigmoid;
    Checkpoint c = m.checkpoint;
    c.meta["arch"] = to_text(wrong);
    CHECK(max_rel_diff(logits_of(c, e.input), e.logits) > 2e-4);
    // The graph text names the new ops and reads back as the same network.
    const std::string text = to_text(m.arch);
    CHECK(text.find(R"("op":"mul")") != std::string::npos);
    CHECK(text.find(want == Activation::Sigmoid
                        ? R"("op":"sigmoid")"
                        : R"("op":"hsigmoid")") != std::string::npos);
    CHECK(parse_arch(text) == m.arch);
  }
  // hswish everywhere but in the SE module: 4 hswish, one hsigmoid, one relu
  // (the SE's).
  const ArchSpec mbv3 =
      onnx_io::import_onnx_file(model_path("mbv3_block.onnx")).arch;
  int hswish = 0, relu = 0;
  for (const GraphLayer &l : mbv3.graph) {
    hswish +=
        l.op == GraphOp::Activation && l.activation == Activation::Hardswish;
    relu += l.op == GraphOp::Activation && l.activation == Activation::ReLU;
  }
  CHECK(hswish == 4);
  CHECK(relu == 1);
}

TEST_CASE("graph text: mul needs a features and a Cx1x1 gate input") {
  const std::string head =
      R"({"graph":1,"input":[3,8,8],"classes":2,"layers":[)";
  const std::string conv =
      R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"pad":[1,1]},)";
  const std::string gap =
      R"({"name":"g","op":"global_avgpool"},{"name":"s","op":"sigmoid"},)";
  const std::string fc = R"({"name":"fc","op":"linear","out":2}]})";
  const ArchSpec ok =
      parse_arch(head + conv + gap +
                 R"({"name":"m","op":"mul","inputs":["c","s"]},)" + fc);
  CHECK(arch_layers(ok)[4].kind == LayerKind::ChannelMul);
  CHECK(arch_layers(ok)[4].skip == 1);
  CHECK(arch_layers(ok)[4].output == Shape3{4, 8, 8});
  CHECK_THROWS_WITH_AS(
      parse_arch(head + conv + gap +
                 R"({"name":"m","op":"mul","inputs":["c","input"]},)" + fc),
      doctest::Contains("multiplies a 4x8x8 tensor by a 3x8x8 one"), Error);
  CHECK_THROWS_WITH_AS(
      parse_arch(head + conv + gap + R"({"name":"m","op":"mul"},)" + fc),
      doctest::Contains("mul needs field \"inputs\""), Error);
}

TEST_CASE("squeeze-and-excitation patterns that cannot be imported are one "
          "error naming the node") {
  const onnx::ModelProto good = proto("mbv3_block.onnx");
  { // a product of two feature maps of different shapes
    onnx::ModelProto m = good;
    node_of(m, "Mul").set_input(1, m.graph().input(0).name());
    refused(m, "(Mul): multiplies a 16x4x4 tensor by a 3x8x8 one; only a "
               "channel scale");
  }
  { // a product with a constant
    onnx::ModelProto m = good;
    node_of(m, "Mul").set_input(1, m.graph().initializer(0).name());
    refused(m, "(Mul): multiplies by the constant");
  }
  { // ONNX's default HardSigmoid (alpha 0.2) is not relu6(x + 3) / 6
    onnx::ModelProto m = good;
    onnx::NodeProto &hs = node_of(m, "HardSigmoid");
    for (onnx::AttributeProto &a : *hs.mutable_attribute())
      if (a.name() == "alpha")
        a.set_f(0.2f);
    refused(m, "(HardSigmoid): HardSigmoid(alpha 0.200000, beta 0.500000) is "
               "not supported");
  }
}

TEST_CASE("int8 export of the imported squeeze-and-excitation model: the C "
          "equals the host executor") {
  using namespace piconas::nas::deploy;
  using namespace piconas::nas::deploy::testing;
  const onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path("mbv3_block.onnx"));
  train::LoadedModel loaded = train::load_model(m.checkpoint, "mbv3_block");
  const Graph g = lower_network(loaded.arch, *loaded.module);
  int hswish = 0, channel_muls = 0;
  for (const Layer &l : g.layers) {
    hswish += l.kind == LayerKind::Hardswish;
    channel_muls += l.kind == LayerKind::ChannelMul;
  }
  CHECK(hswish == 4);
  CHECK(channel_muls == 1);
  // The folded float graph (BN into the convs, hard-sigmoid into the SE expand
  // conv) computes the module's logits.
  const Expected e = expected("mbv3_block");
  const Tensor want = (*loaded.module)(autograd::Variable(e.input)).value();
  CHECK(max_rel_diff(run_float(g, e.input), want) < 1e-5);

  const data::Normalization norm = loaded.normalization;
  const QuantizedModel q =
      quantize_graph(g, synthetic_images(m.arch.input, 32, 7, norm), norm);
  const MemoryPlan plan = plan_memory(g);
  const int64_t batch = 16;
  const std::vector<int8_t> input = to_nhwc_int8(
      q.tensors[0], synthetic_images(m.arch.input, batch, 8, norm));
  const std::vector<int8_t> host = run_int8(q, plan, input.data(), batch);
  TempDir dir;
  EmitOptions o;
  o.prefix = "mbv3";
  o.arch_text = to_text(m.arch);
  o.source = "mbv3_block.onnx";
  o.source_hash = fnv1a64_hex(o.arch_text);
  o.input_lut = input_lut(q.tensors[0], norm);
  emit_c(q, plan, o, dir.str());
  write_bytes(dir.str() + "/in.bin", input);
  std::ofstream(dir.str() + "/main.c")
      << "#include <stdio.h>\n#include \"mbv3.h\"\n"
         "int main(void) {\n"
         "  FILE *in = fopen(\"in.bin\", \"rb\"), *out = fopen(\"out.bin\", "
         "\"wb\");\n"
         "  int8_t x[MBV3_INPUT_SIZE], y[MBV3_NUM_CLASSES];\n"
         "  if (!in || !out) return 1;\n"
         "  while (fread(x, 1, sizeof x, in) == sizeof x) {\n"
         "    if (mbv3_invoke(x, y) != 0) return 2;\n"
         "    fwrite(y, 1, sizeof y, out);\n"
         "  }\n"
         "  return fclose(out) != 0;\n"
         "}\n";
  std::string log;
  REQUIRE_MESSAGE(
      run_command(
          "cd " + dir.str() + " && " + PICONAS_TEST_CC +
              " -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. main.c "
              "piconas_runtime/*.c mbv3.c -o prog",
          &log) == 0,
      log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0,
                  log);
  const std::vector<int8_t> c_logits = read_bytes(dir.str() + "/out.bin");
  CHECK(c_logits.size() == static_cast<size_t>(batch * m.arch.num_classes));
  CHECK(c_logits == host);
  // The comparison can fail: other images give other logits.
  CHECK(run_int8(q, plan, input.data() + input.size() / batch, batch - 1) !=
        std::vector<int8_t>(host.begin(), host.end() - m.arch.num_classes));
  // And the int8 network follows the float one: same class for most images.
  const Tensor images = synthetic_images(m.arch.input, batch, 8, norm);
  const std::vector<int32_t> float_class =
      argmax_rows((*loaded.module)(autograd::Variable(images)).value());
  const std::vector<int32_t> int8_class = argmax_rows(host, m.arch.num_classes);
  int same = 0;
  for (int64_t i = 0; i < batch; ++i)
    same += float_class[static_cast<size_t>(i)] ==
            int8_class[static_cast<size_t>(i)];
  CHECK(same >= batch * 3 / 4);
}

TEST_CASE("int8: a sigmoid SE gate is a Logistic layer before the channel multiply") {
  // (Its int8 C: test_onnx_int8.cpp.)
  const onnx_io::ImportedModel m =
      onnx_io::import_onnx_file(model_path("sigmoid_se.onnx"));
  train::LoadedModel loaded = train::load_model(m.checkpoint, "sigmoid_se");
  const deploy::Graph g = deploy::lower_network(loaded.arch, *loaded.module);
  int gates = 0;
  for (size_t i = 0; i + 1 < g.layers.size(); ++i)
    gates += g.layers[i].kind == LayerKind::Logistic &&
             g.layers[i + 1].kind == LayerKind::ChannelMul &&
             g.layers[i + 1].input2 == g.layers[i].output;
  CHECK(gates == 1);
}

TEST_CASE("int8 lowering of graph networks refuses the activations and "
          "BatchNorms it cannot fold") {
  const std::string head =
      R"({"graph":1,"input":[3,8,8],"classes":2,"layers":[)";
  const std::string conv =
      R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"pad":[1,1]},)"
      R"({"name":"bn","op":"batchnorm"},{"name":"r","op":"relu"},)";
  const std::string fc = R"({"name":"fc","op":"linear","out":2}]})";
  // Folded: conv, BatchNorm, relu; the pool and the classifier.
  CHECK(deploy::lower_arch(parse_arch(head + conv +
                                      R"({"name":"g","op":"global_avgpool"},)" +
                                      fc))
            .layers.size() == 3);
  // A relu after the pool, a BatchNorm after an add, a hard-sigmoid after an
  // add: refused (they used to vanish from the int8 graph).
  CHECK_THROWS_WITH_AS(
      deploy::lower_arch(parse_arch(
          head + conv +
          R"({"name":"g","op":"global_avgpool"},{"name":"r2","op":"relu"},)" +
          fc)),
      doctest::Contains("'r2' (relu) does not follow a conv"), Error);
  // An add reading the conv's own output, which int8 folds with its BatchNorm and relu: refused
  // (it used to get the activated values).
  CHECK_THROWS_WITH_AS(
      deploy::lower_arch(parse_arch(head + conv + R"({"name":"a","op":"add","inputs":["r","c"]},)" +
                                    R"({"name":"g","op":"global_avgpool"},)" + fc)),
      doctest::Contains("'a' reads 'c' (conv3x3), a value int8 does not keep"), Error);
  const std::string add = R"({"name":"a","op":"add","inputs":["r","r"]},)";
  CHECK_THROWS_WITH_AS(
      deploy::lower_arch(
          parse_arch(head + conv + add + R"({"name":"b2","op":"batchnorm"},)" +
                     R"({"name":"g","op":"global_avgpool"},)" + fc)),
      doctest::Contains("'b2' (bn) does not follow a conv"), Error);
  CHECK_THROWS_WITH_AS(
      deploy::lower_arch(
          parse_arch(head + conv + add + R"({"name":"h","op":"hsigmoid"},)" +
                     R"({"name":"g","op":"global_avgpool"},)" + fc)),
      doctest::Contains("'h' (hsigmoid) follows an add"), Error);
}
