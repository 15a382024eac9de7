#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "nas/checkpoint.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/export.h"
#include "nas/search/blocks_space.h"
#include "nas/search/search.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {
Checkpoint model_checkpoint(const ArchSpec& arch, autograd::Module& net, const data::Normalization& norm) {
  Checkpoint ck;
  ck.meta = {{"format", "piconas-model"}, {"version", 1}, {"arch", to_text(arch)},
             {"input", {arch.input.c, arch.input.h, arch.input.w}}, {"classes", arch.num_classes},
             {"normalization", {{"mean", norm.mean}, {"std", norm.std}}}, {"epoch", 3},
             {"data", "fashion-mnist"}};
  for (auto& [name, t] : net.state()) ck.tensors.emplace_back(name, t);
  ck.tensors.emplace_back("optimizer.momentum.0", Tensor({2}));
  return ck;
}
// A randomly initialized model of `arch` to export (seeded), with its input normalization.
DeployModel seeded_model(const ArchSpec& arch, uint64_t seed, const data::Normalization& norm) {
  DeployModel m;
  m.arch = arch;
  m.module = make_model(arch, seed);
  m.normalization = norm;
  return m;
}
}  // namespace

TEST_CASE("a piconas-model checkpoint loads into the same network") {
  TempDir dir;
  const ArchSpec arch = tiny_bench();
  auto net = make_model(arch, 17);
  const auto norm = fashion_normalization();
  save_checkpoint(dir.str() + "/m.ckpt", model_checkpoint(arch, *net, norm));
  const DeployModel m = load_deploy_model(dir.str() + "/m.ckpt");
  CHECK(m.arch == arch);
  CHECK(m.dataset == "fashion-mnist");
  CHECK(m.normalization.mean == norm.mean);
  CHECK(m.source_hash == fnv1a64_hex(read_file(dir.str() + "/m.ckpt")));
  const Tensor x = synthetic_images(arch.input, 3, 1, norm);
  const Tensor a = (*net)(autograd::Variable(x)).value();
  const Tensor b = (*m.module)(autograd::Variable(x)).value();
  for (int64_t i = 0; i < a.numel(); ++i) CHECK(a.get(i) == b.get(i));
}

TEST_CASE("a checkpoint that is not a piconas model is refused") {
  TempDir dir;
  Checkpoint ck;
  ck.meta = {{"format", "something-else"}};
  save_checkpoint(dir.str() + "/x.ckpt", ck);
  CHECK_THROWS_WITH_AS(load_deploy_model(dir.str() + "/x.ckpt"), doctest::Contains("piconas-model"), Error);
}

TEST_CASE("export_model writes the C files and reports float vs int8 accuracy") {
  TempDir dir;
  const ArchSpec arch = tiny_bench();
  DeployModel m = seeded_model(arch, 23, fashion_normalization());
  m.source_hash = "0123456789abcdef";
  const data::Dataset calib = synthetic_dataset(arch.input, 40, 1), eval = synthetic_dataset(arch.input, 60, 2);
  ExportOptions o;
  o.out_dir = dir.str() + "/out";
  o.prefix = "fm";
  o.calibration_images = 40;
  o.eval_images = 60;
  const ExportReport r = export_model(m, calib, &eval, o, "in-memory");
  CHECK(r.eval_images == 60);
  CHECK(r.agreement >= 0.8);
  CHECK(std::fabs(r.float_accuracy - r.int8_accuracy) <= 1.0 - r.agreement + 1e-12);
  // The search's estimate, plus at most 1 % for the packed conv kernel's scratch (planner.h).
  const int64_t peak = peak_sram(arch);
  CHECK(r.plan.arena_bytes >= peak);
  CHECK(r.plan.arena_bytes <= peak + peak / 100);
  CHECK(read_file(o.out_dir + "/fm.h").find("0123456789abcdef") != std::string::npos);
  CHECK(std::filesystem::exists(o.out_dir + "/fm.c"));
  CHECK(std::filesystem::exists(o.out_dir + "/piconas_runtime/conv2d_s8.c"));
  CHECK(std::filesystem::exists(o.out_dir + "/README.md"));

  // Budgets: one byte short of the smallest plan (in-place 1x1 convs too) or of the constants
  // is refused and writes nothing; a budget of exactly the search's estimate is met (without
  // the packed kernel's extra room).
  ExportOptions tight = o;
  tight.out_dir = dir.str() + "/tight";
  tight.max_sram = peak_sram(arch, PlanOptions{}, 1) - 1;
  CHECK_THROWS_WITH_AS(export_model(m, calib, &eval, tight, "in-memory"),
                       doctest::Contains("over --max-sram"), Error);
  tight.max_sram = peak;
  tight.out_dir = dir.str() + "/exact";
  CHECK(export_model(m, calib, &eval, tight, "in-memory").plan.arena_bytes == peak);
  tight.out_dir = dir.str() + "/tight";
  tight.max_flash = r.quantized.constant_bytes() - 1;
  CHECK_THROWS_WITH_AS(export_model(m, calib, &eval, tight, "in-memory"),
                       doctest::Contains("over --max-flash"), Error);
  CHECK_FALSE(std::filesystem::exists(tight.out_dir));
}

TEST_CASE("export_model exports basic residual blocks: int8 agrees with float") {
  TempDir dir;
  const ArchSpec arch =
      parse_arch("blocks:in=3x12x12,classes=10,act=relu,stem=8k3s1|rb:k3s1c8|rb:k3s2c16|head=0");
  DeployModel m = seeded_model(arch, 29, fashion_normalization(3));
  m.source_hash = "0123456789abcdef";
  const data::Dataset calib = synthetic_dataset(arch.input, 40, 3),
                      eval = synthetic_dataset(arch.input, 60, 4);
  ExportOptions o;
  o.out_dir = dir.str() + "/out";
  o.prefix = "rn";
  o.calibration_images = 40;
  o.eval_images = 60;
  const ExportReport r = export_model(m, calib, &eval, o, "in-memory");
  CHECK(r.eval_images == 60);
  CHECK(r.agreement >= 0.8);
  CHECK(std::filesystem::exists(o.out_dir + "/rn.c"));
}

TEST_CASE("export picks the faster out-of-place plan when it meets --max-sram, else in place") {
  TempDir dir;
  // Its depthwise layers hold the peak: in place lowers the arena (tests/regression/golden/info.txt).
  const ArchSpec arch = parse_arch(
      "blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ir:k3e2s1c8|ds:k5s2c16|ir:k5e4s1c16|"
      "ir:k3e2s2c24|head=32");
  DeployModel m = seeded_model(arch, 5, fashion_normalization());
  const data::Dataset calib = synthetic_dataset(arch.input, 16, 1);
  ExportOptions o;
  o.out_dir = dir.str() + "/free";
  o.calibration_images = 16;
  o.eval_images = 0;
  auto in_place_layers = [](const ExportReport& r) {
    return std::count(r.plan.in_place.begin(), r.plan.in_place.end(), 1);
  };
  const ExportReport free = export_model(m, calib, nullptr, o, "in-memory");
  REQUIRE(free.plan.arena_bytes < free.arena_without_in_place);
  CHECK(in_place_layers(free) > 0);

  o.out_dir = dir.str() + "/roomy";
  o.max_sram = free.arena_without_in_place;
  const ExportReport roomy = export_model(m, calib, nullptr, o, "in-memory");
  CHECK(in_place_layers(roomy) == 0);
  CHECK(roomy.plan.arena_bytes == free.arena_without_in_place);
  CHECK(read_file(o.out_dir + "/model.c").find("inplace") == std::string::npos);

  o.out_dir = dir.str() + "/tight";
  o.max_sram = free.arena_without_in_place - 1;
  const ExportReport tight = export_model(m, calib, nullptr, o, "in-memory");
  CHECK(in_place_layers(tight) > 0);
  CHECK(tight.plan.arena_bytes == free.plan.arena_bytes);
  CHECK(read_file(o.out_dir + "/model.c").find("piconas_depthwise_conv2d_inplace_s8") != std::string::npos);
}

TEST_CASE("an SRAM budget only patching meets: the search admits the network, the export patches it") {
  // --patch-layers if-needed (the default): the automatic patching when the budget needs it.
  TempDir dir;
  // The `piconas run` winner of README.md (in the blocks space the search draws from).
  const std::string text =
      "blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2|ir:k3e2s1c16|ir:k5e6s2c32|ir:k7e6s1c32|head=0";
  const ArchSpec arch = parse_arch(text);
  PlanOptions never;
  never.patch_if_needed = false;
  const int64_t unpatched = peak_sram(arch, never, 1);  // the smallest unpatched arena
  const int64_t patched = peak_sram(arch, PlanOptions{}, 1);
  REQUIRE(patched < unpatched);
  const int64_t budget = (patched + unpatched) / 2;
  // The search's cost model and constraints, as `piconas search --max-sram` builds them.
  search::Constraints limits;
  limits.max_peak_sram = budget;
  search::SpaceOptions space_options;
  space_options.int8_block_kinds_only = true;
  space_options.deploy_max_sram = budget;
  const search::CostEstimate admitted = search::BlocksSpace(space_options).cost(search::BlocksSpace(space_options).parse(text));
  CHECK(admitted.peak_sram <= budget);
  CHECK(search::constraint_violations(admitted, limits).empty());
  space_options.deploy_memory = never;
  CHECK(!search::constraint_violations(search::BlocksSpace(space_options).cost(search::BlocksSpace(space_options).parse(text)), limits).empty());

  DeployModel m = seeded_model(arch, 5, fashion_normalization());
  const data::Dataset calib = synthetic_dataset(arch.input, 16, 1);
  ExportOptions o;
  o.out_dir = dir.str() + "/patched";
  o.calibration_images = 16;
  o.eval_images = 0;
  o.max_sram = budget;
  const ExportReport r = export_model(m, calib, nullptr, o, "in-memory");
  const MemoryPlan searched = plan_for_budget(lower_arch(arch), PlanOptions{}, budget);
  CHECK(r.plan.patch.on());
  CHECK((r.plan.patch.layers == searched.patch.layers && r.plan.patch.grid_h == searched.patch.grid_h &&
         r.plan.patch.grid_w == searched.patch.grid_w));
  CHECK(r.plan.arena_bytes <= budget);
  CHECK(r.plan.arena_bytes >= admitted.peak_sram);  // the packed conv's room, within the budget
  CHECK(r.emitted.peak_sram == r.plan.arena_bytes);
  CHECK(read_file(o.out_dir + "/model.h").find("#define MODEL_PEAK_SRAM " + std::to_string(r.plan.arena_bytes) + "\n") !=
        std::string::npos);
  CHECK(r.arena_without_patching == unpatched);
  // A budget the unpatched plan meets: exactly the unpatched export.
  o.out_dir = dir.str() + "/roomy";
  o.max_sram = unpatched;
  const ExportReport roomy = export_model(m, calib, nullptr, o, "in-memory");
  CHECK(!roomy.plan.patch.on());
  CHECK(roomy.plan.tensor_offset ==
        with_packed_conv(lower_arch(arch), plan_for_budget(lower_arch(arch), never, unpatched), PlanStrategy::Best,
                         unpatched).tensor_offset);
  CHECK(read_file(o.out_dir + "/model.c").find("_patch[") == std::string::npos);
}

TEST_CASE("layer_errors: per-layer SQNR of the int8 model against float, the logits' from run_int8") {
  const ArchSpec arch = parse_arch(
      "blocks:in=1x12x12,classes=4,act=hswish,stem=8k3s2|ir:k3e2s1c8:se|ir:k3e2s2c16:relu|head=0");
  DeployModel m = seeded_model(arch, 31, fashion_normalization());
  const data::Dataset set = synthetic_dataset(arch.input, 24, 3);
  const Tensor images = normalized_images(set, m.normalization, 24);
  const Graph graph = lower_network(arch, *m.module);
  const QuantizedModel q = quantize_graph(graph, images, m.normalization);
  const MemoryPlan plan = plan_memory(graph, PlanOptions{});
  const std::vector<LayerError> rows = layer_errors(graph, q, plan, images);
  REQUIRE(rows.size() == q.layers.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].name);
    CHECK(rows[i].tensor == q.layers[i].output);
    CHECK(rows[i].sqnr_db > 15.0);  // calibrated on these images
    CHECK(std::fabs(rows[i].mean_error_lsb) < 2.0);  // this random network: up to 1.03 LSB
    CHECK(rows[i].clipped >= 0.0);
  }
  // The first conv (8 channels on a 6x6 map, NHWC in int8): its error is its rounding alone.
  CHECK(rows[0].sqnr_db > 30.0);
  // The last row equals the SQNR of run_int8's logits against run_float's, computed here.
  const Tensor f = run_float(graph, images);
  const std::vector<int8_t> logits = run_int8(q, plan, to_nhwc_int8(q.tensors[0], images).data(), 24);
  const TensorQuant& out = q.tensors[static_cast<size_t>(q.output())];
  double signal = 0, noise = 0;
  for (size_t k = 0; k < logits.size(); ++k) {
    const double x = f.data<float>()[k], dq = out.scale * (logits[k] - out.zero_point);
    signal += x * x;
    noise += (x - dq) * (x - dq);
  }
  CHECK(rows.back().sqnr_db == doctest::Approx(10.0 * std::log10(signal / noise)));
  // A layer quantized wrongly shows at that layer: halve the multipliers of the second conv.
  QuantizedModel broken = q;
  for (int32_t& mult : broken.layers[2].multiplier) mult /= 2;
  const std::vector<LayerError> worse = layer_errors(graph, broken, plan, images);
  CHECK(worse[1].sqnr_db == doctest::Approx(rows[1].sqnr_db));
  CHECK(worse[2].sqnr_db < 10.0);
}
