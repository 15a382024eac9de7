// MCU tests: the exported model, linked with nas/deploy/mcu (startup, semihosting harness,
// linker scripts), runs under qemu-system-arm and must write exactly the host executor's bytes.
// Registered as the ctest `deploy_mcu` only when arm-none-eabi-gcc and qemu-system-arm exist
// (the cases are skipped in the plain host run).
#include <doctest/doctest.h>

#include <filesystem>
#include <cstring>
#include <sstream>

#include "data/dataset.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/export.h"

#if defined(PICONAS_ARM_GCC) && defined(PICONAS_QEMU_ARM) && defined(PICONAS_ARM_SIZE)

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {

struct Machine {
  const char* name;
  const char* gcc_flags;
  const char* linker_script;
  const char* qemu_machine;
};

const Machine kCortexM4{"cortex-m4", "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16",
                        "mps2_an386.ld", "-M mps2-an386 -cpu cortex-m4"};
const Machine kCortexM7{"cortex-m7", "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16",
                        "mps2_an386.ld", "-M mps2-an500 -cpu cortex-m7"};
const Machine kCortexM0{"cortex-m0", "-mcpu=cortex-m0 -mthumb", "microbit.ld", "-M microbit"};

// A small residual network that fits the micro:bit's 16 KB of RAM.
const char* kSmallArch = "blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ds:k3s1c16|ir:k3e2s2c16|"
                         "ir:k3e2s1c16|head=0";

// The first n Fashion-MNIST test images when the dataset is installed, else synthetic ones.
Tensor test_images(const ArchSpec& spec, const data::Normalization& norm, int64_t n) {
  if (spec.input.c == 1 && spec.input.h == 28 &&
      std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    data::DatasetSpec ds;
    ds.split = data::Split::Test;
    return normalized_images(data::load_dataset(ds), norm, n);
  }
  return synthetic_images(spec.input, n, 77, norm);
}

struct McuRun {
  std::vector<int8_t> expected, got;
  std::vector<uint32_t> ticks;
  int64_t flash = 0, ram = 0, arena = 0, constants = 0;
};

McuRun run_on(const Machine& m, const std::string& arch, int64_t batch) {
  TempDir dir;
  const ArchSpec spec = parse_arch(arch);
  auto net = make_model(spec, 13);
  const auto norm = fashion_normalization();
  const Graph g = lower_network(spec, *net);
  const QuantizedModel q = quantize_graph(g, synthetic_images(spec.input, 32, 5, norm), norm);
  const MemoryPlan plan = plan_memory(g);
  const auto input = to_nhwc_int8(q.tensors[0], test_images(spec, norm, batch));
  McuRun r;
  r.expected = run_int8(q, plan, input.data(), batch);
  EmitOptions o;
  o.arch_text = arch;
  o.input_lut = input_lut(q.tensors[0], norm);
  const EmitResult e = emit_c(q, plan, o, dir.str());
  r.arena = e.peak_sram;
  r.constants = e.flash_bytes;
  write_bytes(dir.str() + "/input.bin", input);
  const std::string mcu = PICONAS_MCU_DIR;
  std::string log;
  const std::string compile = "cd " + dir.str() + " && " + PICONAS_ARM_GCC + " " + m.gcc_flags +
                              " -std=c99 -Wall -Wextra -Werror -O2 -ffunction-sections -fdata-sections"
                              " -nostdlib -I. -I" + mcu + " -L" + mcu + " -T " + m.linker_script + " " +
                              mcu + "/startup.c " + mcu + "/harness.c model.c piconas_runtime/*.c -lgcc"
                              " -Wl,--gc-sections -o prog.elf";
  REQUIRE_MESSAGE(run_command(compile, &log) == 0, compile << "\n" << log);
  REQUIRE(run_command(std::string(PICONAS_ARM_SIZE) + " " + dir.str() + "/prog.elf", &log) == 0);
  std::istringstream size_out(log.substr(log.find('\n') + 1));
  int64_t text = 0, data = 0, bss = 0;
  size_out >> text >> data >> bss;
  r.flash = text + data;
  r.ram = data + bss;
  const std::string qemu = "cd " + dir.str() + " && timeout 120 " + PICONAS_QEMU_ARM + " " + m.qemu_machine +
                           " -nographic -monitor none -semihosting-config enable=on,target=native"
                           " -icount shift=0 -kernel prog.elf";
  REQUIRE_MESSAGE(run_command(qemu, &log) == 0, qemu << "\n" << log);
  r.got = read_bytes(dir.str() + "/output.bin");
  const auto ticks = read_bytes(dir.str() + "/ticks.bin");
  r.ticks.resize(ticks.size() / 4);
  std::memcpy(r.ticks.data(), ticks.data(), r.ticks.size() * 4);
  return r;
}

void report(const Machine& m, const std::string& what, const McuRun& r) {
  uint64_t total = 0;
  for (uint32_t t : r.ticks) total += t;
  const uint64_t mean = r.ticks.empty() ? 0 : total * 40 / r.ticks.size();
  MESSAGE(std::string(m.name) << " " << what << ": arm-none-eabi-size flash " << r.flash << " B, RAM " << r.ram
                 << " B; planner arena " << r.arena << " B, constants " << r.constants << " B"
                 << (r.ticks.empty() ? std::string()
                                     : "; " + std::to_string(mean) +
                                           " instructions per inference (mean of " +
                                           std::to_string(r.ticks.size()) + " images; -icount shift=0, SysTick x 40)"));
}

}  // namespace

TEST_SUITE("mcu" * doctest::skip()) {
  TEST_CASE("Cortex-M4 (mps2-an386): tiny-bench on Fashion-MNIST images, byte-identical to the host") {
    const McuRun r = run_on(kCortexM4, to_text(tiny_bench()), 16);
    CHECK(r.got.size() == r.expected.size());
    CHECK(r.got == r.expected);
    REQUIRE(r.ticks.size() == 16);
    CHECK(r.ticks[0] > 0);
    for (uint32_t t : r.ticks) CHECK(t > 0);
    CHECK(r.ram >= r.arena);
    report(kCortexM4, "tiny-bench", r);
  }

  TEST_CASE("Cortex-M4 (mps2-an386): residual network, byte-identical to the host") {
    const McuRun r = run_on(kCortexM4, kSmallArch, 16);
    CHECK(r.got == r.expected);
    report(kCortexM4, "small residual net", r);
  }

  TEST_CASE("Cortex-M7 (mps2-an500): residual network, byte-identical to the host") {
    const McuRun r = run_on(kCortexM7, kSmallArch, 8);
    CHECK(r.got == r.expected);
  }

  TEST_CASE("Cortex-M0 (micro:bit, 16 KB RAM): residual network, byte-identical to the host") {
    const McuRun r = run_on(kCortexM0, kSmallArch, 16);
    CHECK(r.got.size() == r.expected.size());
    CHECK(r.got == r.expected);
    CHECK(r.ram <= 16 * 1024 - 2048);
    report(kCortexM0, "small residual net", r);
  }

  TEST_CASE("emitted model compiles for Cortex-M33 with -Werror") {
    TempDir dir;
    const ArchSpec spec = parse_arch(kSmallArch);
    auto net = make_model(spec, 1);
    const auto norm = fashion_normalization();
    const Graph g = lower_network(spec, *net);
    const QuantizedModel q = quantize_graph(g, synthetic_images(spec.input, 8, 5, norm), norm);
    emit_c(q, plan_memory(g), EmitOptions{}, dir.str());
    std::string log;
    const std::string cmd = "cd " + dir.str() + " && " + PICONAS_ARM_GCC +
                            " -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -std=c99 -Wall"
                            " -Wextra -Werror -pedantic -O2 -I. -c model.c piconas_runtime/*.c";
    CHECK_MESSAGE(run_command(cmd, &log) == 0, log);
  }
}

#endif
