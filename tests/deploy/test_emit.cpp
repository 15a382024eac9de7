#include <doctest/doctest.h>

#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/runtime_files.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

// resnet8's structure at toy size: an identity block, a projection for a width change and one
// for a stride.
const char* kTinyResNet =
    "blocks:in=3x12x12,classes=4,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s1c16|rb:k3s2c24|head=0";

struct Exported {
  QuantizedModel model;
  MemoryPlan plan;
  std::vector<int8_t> input;     // NHWC int8 batch
  std::vector<int8_t> expected;  // host executor logits
  EmitResult emitted;
};

Exported export_model(const std::string& arch, const std::string& prefix, const std::string& dir,
                      int64_t batch, uint64_t seed) {
  const ArchSpec spec = parse_arch(arch);
  auto net = make_model(spec, seed);
  const auto norm = fashion_normalization(static_cast<int>(spec.input.c));
  const Graph g = lower_network(spec, *net);
  Exported e;
  e.model = quantize_graph(g, synthetic_images(spec.input, 32, seed + 1, norm), norm);
  e.plan = plan_memory(g);
  e.input = to_nhwc_int8(e.model.tensors[0], synthetic_images(spec.input, batch, seed + 2, norm));
  e.expected = run_int8(e.model, e.plan, e.input.data(), batch);
  EmitOptions o;
  o.prefix = prefix;
  o.arch_text = to_text(spec);
  o.source = "test_emit";
  o.source_hash = fnv1a64_hex(arch);
  o.input_lut = input_lut(e.model.tensors[0], norm);
  e.emitted = emit_c(e.model, e.plan, o, dir);
  return e;
}

// A host program running each model over its input file and writing its output file.
std::string host_main(const std::vector<std::string>& prefixes) {
  std::string s = "#include <stdio.h>\n#include <stdlib.h>\n";
  for (const auto& p : prefixes) s += "#include \"" + p + ".h\"\n";
  s += "static int run(const char *in_path, const char *out_path, int in_size, int classes,\n"
       "               int (*invoke)(const int8_t *, int8_t *)) {\n"
       "  FILE *in = fopen(in_path, \"rb\"), *out = fopen(out_path, \"wb\");\n"
       "  int8_t x[4096], y[64];\n"
       "  if (!in || !out || in_size > 4096 || classes > 64) return 1;\n"
       "  while (fread(x, 1, (size_t)in_size, in) == (size_t)in_size) {\n"
       "    if (invoke(x, y) != 0) return 2;\n"
       "    fwrite(y, 1, (size_t)classes, out);\n"
       "  }\n  fclose(in);\n  fclose(out);\n  return 0;\n}\n"
       "int main(void) {\n  int status = 0;\n";
  for (const auto& p : prefixes) {
    std::string P = p;
    for (char& c : P) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    s += "  status |= run(\"" + p + "_in.bin\", \"" + p + "_out.bin\", " + P + "_INPUT_SIZE, " + P +
         "_NUM_CLASSES, " + p + "_invoke);\n";
  }
  return s + "  return status;\n}\n";
}

std::string compile_host(const std::string& dir, const std::vector<std::string>& prefixes) {
  std::string cmd = std::string("cd ") + dir + " && " + PICONAS_TEST_CC +
                    " -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. main.c piconas_runtime/*.c";
  for (const auto& p : prefixes) cmd += " " + p + ".c";
  return cmd + " -o prog";
}

}  // namespace

TEST_CASE("emitted C compiles warning-free and reproduces the host executor byte for byte") {
  TempDir dir;
  const int64_t batch = 24;
  Exported e = export_model("blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ir:k3e4s1c8|ds:k5s2c16|"
                            "ir:k3e2s1c16|head=32",
                            "model", dir.str(), batch, 21);
  write_bytes(dir.str() + "/model_in.bin", e.input);
  std::ofstream(dir.str() + "/main.c") << host_main({"model"});
  std::string log;
  REQUIRE_MESSAGE(run_command(compile_host(dir.str(), {"model"}), &log) == 0, log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0, log);
  const auto got = read_bytes(dir.str() + "/model_out.bin");
  CHECK(got.size() == e.expected.size());
  CHECK(got == e.expected);
  // The comparison can fail: a different model gives different logits.
  CHECK(run_int8(e.model, e.plan, e.input.data() + 784, batch - 1) !=
        std::vector<int8_t>(e.expected.begin(), e.expected.end() - 10));
}

TEST_CASE("basic residual blocks (projections, ReLU after the add) run the same in C") {
  TempDir dir;
  const int64_t batch = 12;
  Exported e = export_model(kTinyResNet, "resnet", dir.str(), batch, 61);
  int adds = 0;
  for (const QLayer& l : e.model.layers) adds += l.kind == LayerKind::Add;
  CHECK(adds == 3);
  write_bytes(dir.str() + "/resnet_in.bin", e.input);
  std::ofstream(dir.str() + "/main.c") << host_main({"resnet"});
  std::string log;
  REQUIRE_MESSAGE(run_command(compile_host(dir.str(), {"resnet"}), &log) == 0, log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0, log);
  CHECK(read_bytes(dir.str() + "/resnet_out.bin") == e.expected);
}

TEST_CASE("dscnn (10x4 stride-2 stem, 'same' padding of an even kernel) runs the same in C") {
  TempDir dir;
  const int64_t batch = 6;
  Exported e = export_model("dscnn", "kws", dir.str(), batch, 71);
  REQUIRE(e.model.layers[0].kernel == Size2(10, 4));
  write_bytes(dir.str() + "/kws_in.bin", e.input);
  std::ofstream(dir.str() + "/main.c") << host_main({"kws"});
  std::string log;
  REQUIRE_MESSAGE(run_command(compile_host(dir.str(), {"kws"}), &log) == 0, log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0, log);
  CHECK(read_bytes(dir.str() + "/kws_out.bin") == e.expected);
  CHECK(e.expected.size() == static_cast<size_t>(batch * 12));
}

TEST_CASE("two models with different prefixes link into one program") {
  TempDir dir;
  Exported a = export_model(to_text(tiny_bench()), "alpha", dir.str(), 6, 31);
  Exported b = export_model("blocks:in=3x12x12,classes=4,act=relu,stem=8k3s1|ir:k3e2s1c8|head=0", "beta",
                            dir.str(), 5, 41);
  write_bytes(dir.str() + "/alpha_in.bin", a.input);
  write_bytes(dir.str() + "/beta_in.bin", b.input);
  std::ofstream(dir.str() + "/main.c") << host_main({"alpha", "beta"});
  std::string log;
  REQUIRE_MESSAGE(run_command(compile_host(dir.str(), {"alpha", "beta"}), &log) == 0, log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0, log);
  CHECK(read_bytes(dir.str() + "/alpha_out.bin") == a.expected);
  CHECK(read_bytes(dir.str() + "/beta_out.bin") == b.expected);
}

TEST_CASE("header carries provenance, shapes, budgets and quantization parameters") {
  TempDir dir;
  Exported e = export_model(to_text(tiny_bench()), "fmnist", dir.str(), 1, 5);
  const std::string h = read_file(dir.str() + "/fmnist.h");
  CHECK(h.find(std::string("piconas ") + piconas_version()) != std::string::npos);
  CHECK(h.find(to_text(tiny_bench())) != std::string::npos);
  CHECK(h.find("fnv1a64 " + fnv1a64_hex(to_text(tiny_bench()))) != std::string::npos);
  CHECK(h.find("#define FMNIST_INPUT_SIZE 784\n") != std::string::npos);
  CHECK(h.find("#define FMNIST_NUM_CLASSES 10\n") != std::string::npos);
  CHECK(h.find("#define FMNIST_PEAK_SRAM " + std::to_string(e.plan.arena_bytes) + "\n") != std::string::npos);
  CHECK(h.find("#define FMNIST_FLASH_BYTES " + std::to_string(e.emitted.flash_bytes) + "\n") != std::string::npos);
  CHECK(h.find("#define FMNIST_INPUT_ZERO_POINT (" + std::to_string(e.model.tensors[0].zero_point) + ")") !=
        std::string::npos);
  CHECK(h.find("int fmnist_invoke(const int8_t *input, int8_t *output);") != std::string::npos);
  CHECK(e.emitted.flash_bytes == flash_bytes(tiny_bench()) + 256);
  const std::string readme = read_file(dir.str() + "/README.md");
  CHECK(readme.find("fmnist_invoke(in, out)") != std::string::npos);
}

TEST_CASE("the runtime copy is ops/int8 without the host-only multiplier code") {
  TempDir dir;
  export_model(to_text(tiny_bench()), "m", dir.str(), 1, 5);
  int files = 0;
  for (const RuntimeFile& f : runtime_files()) {
    ++files;
    CHECK(std::string(f.name).find("quantize_multiplier") == std::string::npos);
    CHECK(read_file(dir.str() + "/piconas_runtime/" + f.name) ==
          read_file(std::string(PICONAS_SOURCE_DIR) + "/ops/int8/" + f.name));
  }
  CHECK(files >= 10);
}

TEST_CASE("a prefix that is not a C identifier is refused") {
  TempDir dir;
  CHECK_THROWS_AS(export_model(to_text(tiny_bench()), "2model", dir.str(), 1, 5), Error);
  CHECK_THROWS_AS(export_model(to_text(tiny_bench()), "my-model", dir.str(), 1, 5), Error);
}

TEST_CASE("MobileNetV3 blocks (SE, hard-swish) run the same in C as on the host executor") {
  TempDir dir;
  const int64_t batch = 8;
  Exported e = export_model("blocks:in=3x16x16,classes=4,act=hswish,stem=8k3s2|ir:k3e1s1c8:se:relu|"
                            "ir:k3e4s2c16:se|ir:k5e3s1c16:se|head=32",
                            "mbv3", dir.str(), batch, 81);
  int hswish = 0, mul = 0;
  for (const QLayer& l : e.model.layers) {
    hswish += l.kind == LayerKind::Hardswish;
    mul += l.kind == LayerKind::ChannelMul;
  }
  CHECK(hswish == 6);  // stem, expand + dw of two blocks, head
  CHECK(mul == 3);
  write_bytes(dir.str() + "/mbv3_in.bin", e.input);
  std::ofstream(dir.str() + "/main.c") << host_main({"mbv3"});
  std::string log;
  REQUIRE_MESSAGE(run_command(compile_host(dir.str(), {"mbv3"}), &log) == 0, log);
  REQUIRE_MESSAGE(run_command("cd " + dir.str() + " && ./prog", &log) == 0, log);
  CHECK(read_bytes(dir.str() + "/mbv3_out.bin") == e.expected);
  // The int8 logits follow the float ones (a wrong gate fold or multiplier would not).
  const ArchSpec spec = parse_arch(to_text(parse_arch(
      "blocks:in=3x16x16,classes=4,act=hswish,stem=8k3s2|ir:k3e1s1c8:se:relu|ir:k3e4s2c16:se|"
      "ir:k5e3s1c16:se|head=32")));
  auto net = make_model(spec, 81);
  const auto norm = fashion_normalization(3);
  const Tensor logits = run_float(lower_network(spec, *net), synthetic_images(spec.input, batch, 83, norm));
  const TensorQuant& out = e.model.tensors[static_cast<size_t>(e.model.output())];
  double worst = 0, range = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) {
    const double deq = out.scale * (e.expected[static_cast<size_t>(i)] - out.zero_point);
    worst = std::max(worst, std::abs(deq - logits.get(i)));
    range = std::max(range, std::abs(logits.get(i)));
  }
  CHECK(range > 0);
  CHECK(worst <= 0.1 * range + 2 * out.scale);
}
