// The MLPerf Tiny reference networks (resnet8, mobilenetv1-025) and the basic
// residual block kind ("rb") they need: text form, lowering, builder and the
// published parameter/MAC counts.
#include <doctest/doctest.h>

#include <sstream>

#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "core/rng.h"
#include "nas/builder.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

struct Totals {
  int64_t params = 0, macs = 0;
};

Totals totals(const ArchSpec &spec) {
  Totals t;
  for (const LayerInfo &row : arch_layers(spec)) {
    t.params += row.params;
    t.macs += row.macs;
  }
  return t;
}

// The parameter count Keras' model.summary() prints for the same network
// ("Total params"): Keras' Conv2D and DepthwiseConv2D carry a bias even when a
// BatchNormalization follows (we leave that bias out: BN's beta absorbs it),
// and Keras counts BN's moving mean and variance as (non-trainable) parameters
// besides gamma and beta.
int64_t keras_total_params(const ArchSpec &spec) {
  const std::vector<LayerInfo> rows = arch_layers(spec);
  int64_t params = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const LayerInfo &row = rows[i];
    params += row.params;
    const bool conv = row.kind == LayerKind::Conv || row.kind == LayerKind::Depthwise;
    if (conv && !row.bias) params += row.output.c;                     // the Keras conv bias
    if (row.kind == LayerKind::BatchNorm) params += 2 * row.output.c;  // moving mean, var
  }
  return params;
}

int64_t count_kind(const ArchSpec &spec, LayerKind kind) {
  int64_t n = 0;
  for (const LayerInfo &row : arch_layers(spec)) n += row.kind == kind;
  return n;
}

}  // namespace

TEST_CASE("rb text: parses, prints canonically and round-trips; no expansion field") {
  const char *text =
      "blocks:in=3x32x32,classes=10,act=relu,stem=16k3s1|rb:"
      "k3s1c16|rb:k5s2c32|ds:k3s1c32|"
      "ir:k3e2s1c32|head=0";
  const ArchSpec s = parse_blocks(text);
  REQUIRE(s.blocks.size() == 4);
  CHECK(s.blocks[0] == plain_block(BlockKind::Basic, 3, 1, 1, 16));
  CHECK(s.blocks[1] == plain_block(BlockKind::Basic, 5, 1, 2, 32));
  CHECK(to_text(s) == text);
  CHECK(canonical_text(text) == text);
  CHECK_THROWS_WITH_AS(parse_blocks("blocks:in=3x32x32,classes=10,act=relu,"
                                    "stem=16k3s1|rb:k3e2s1c16|head=0"),
                       doctest::Contains("position"), Error);
  ArchSpec bad = s;
  bad.blocks[0].expansion = 2;
  CHECK_THROWS_WITH_AS(check_arch(bad), doctest::Contains("basic residual block has expansion 2"),
                       Error);
  // Not a kind of the blocks search space's draws, but a valid member of its
  // value ranges.
  CHECK(blocks_space_problems(s).empty());
}

TEST_CASE(
    "rb lowering: projection only where the shape changes, ReLU after "
    "the add") {
  const ArchSpec s = parse_arch(
      "blocks:in=3x12x12,classes=4,act=relu6,stem="
      "8k3s1|rb:k3s1c8|rb:k3s1c16|rb:k3s2c16|head=0");
  const std::vector<LayerInfo> rows = arch_layers(s);
  auto net = build_network(s);
  int adds = 0, shortcuts = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const LayerInfo &row = rows[i];
    INFO(row.name);
    const size_t source = row.source >= 0 ? static_cast<size_t>(row.source) : i - 1;
    CHECK(row.input == rows[source].output);
    if (row.kind == LayerKind::Add) {
      ++adds;
      const LayerInfo &skip = rows[static_cast<size_t>(row.skip)];
      CHECK(skip.output == row.output);
      CHECK(rows[i - 1].kind == LayerKind::BatchNorm);  // the body's second BN
      REQUIRE(i + 1 < rows.size());
      CHECK(rows[i + 1].kind == LayerKind::Activation);
      CHECK(rows[i + 1].activation == Activation::ReLU6);
      CHECK(rows[i + 1].path == "blocks." + std::to_string(row.block) + ".act");
      continue;
    }
    if (row.path.find(".shortcut") != std::string::npos) {
      ++shortcuts;
      CHECK(row.kernel == Size2{1, 1});
      CHECK(row.bias);
      CHECK(rows[i + 1].source == static_cast<int>(i) - 1);  // conv1 reads the block input too
    }
  }
  CHECK(adds == 3);
  CHECK(shortcuts == 2);  // 8 -> 16 channels, and stride 2; not the identity 8 -> 8
  // The builder's modules carry the same parameters as the rows (and so the
  // same names).
  int64_t module_params = 0;
  for (const autograd::Variable &p : net->parameters()) module_params += p.value().numel();
  CHECK(module_params == totals(s).params);
  // The network runs and keeps the shape.
  Tensor x({2, 3, 12, 12});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, 0.01 * static_cast<double>(i % 97) - 0.3);
  const Tensor y = (*net)(autograd::Variable(x)).value();
  CHECK(y.shape() == std::vector<int64_t>{2, 4});
}

// resnet8 = resnet_v1_eembc() of mlcommons/tiny,
// benchmark/training/image_classification/ keras_model.py (the 16-filter
// version of the MLPerf Tiny v0.5 reference, commit bceb91c5): conv3x3 16 + BN
// + ReLU, three stacks (16 s1, 32 s2, 64 s2) of conv3x3-BN-ReLU-conv3x3-BN, 1x1
// stride-2 projection conv (bias, no BN) on stacks 2 and 3, add, ReLU; average
// pool, dense 10. Counted by hand from that definition:
//   conv/dense weights 77,466 (stem 432, stack 1 2x2,304, stack 2 4,608 + 9,216
//   + 512,
//     stack 3 18,432 + 36,864 + 2,048, dense 640); biases: 10 dense + 32 + 64
//     projections = 106 here, plus 240 Keras conv biases before a BN
//     (16+16+16+32+32+64+64);
//   BN: 240 channels x (gamma, beta) = 480 trainable, + 480 moving
//   mean/variance. Ours (bias only where no BN follows, BN = gamma + beta):
//   77,466 + 106 + 480 = 77,946. Keras "Total params": 77,946 + 240 + 480 =
//   78,666 (trainable 78,186). MACs (conv: out_h*out_w*out_c*in_c*k*k, dense
//   in*out; the same in both): 12,501,632
//     (stem 442,368; stack 1 2x2,359,296; stack 2 1,179,648 + 2,359,296 +
//     131,072;
//      stack 3 1,179,648 + 2,359,296 + 131,072; dense 640), the "12.5 M MACs"
//      of MLPerf Tiny.
TEST_CASE(
    "resnet8: the MLPerf Tiny CIFAR-10 network, counted like its Keras "
    "definition") {
  const ArchSpec r = parse_arch("resnet8");
  CHECK(r == resnet8());
  CHECK(reference_text("resnet8") ==
        "blocks:in=3x32x32,classes=10,act=relu,stem=16k3s1|rb:k3s1c16|rb:"
        "k3s2c32|rb:k3s2c64|"
        "head=0");
  const Totals t = totals(r);
  CHECK(t.params == 77946);
  CHECK(t.macs == 12501632);
  CHECK(keras_total_params(r) == 78666);
  CHECK(count_kind(r, LayerKind::Add) == 3);
  CHECK(count_kind(r, LayerKind::Conv) == 9);  // stem, 3 x 2 body convs, 2 projections
  CHECK(count_kind(r, LayerKind::FullyConnected) == 1);
  const ArchCost c = arch_cost(r);
  CHECK(c.params == t.params);
  CHECK(c.macs == t.macs);
}

// mobilenetv1-025 = mobilenet_v1() of mlcommons/tiny,
// benchmark/training/visual_wake_words/ vww_model.py (read from its copy in
// ChoCho66/tiny, a fork of mlcommons/tiny): 96x96x3, conv3x3 s2 8 + BN + ReLU,
// 13 depthwise-separable blocks (dw3x3-BN-ReLU, pw1x1-BN-ReLU) with outputs 16,
// 32 s2, 32, 64 s2, 64, 128 s2, 128 x5, 256 s2, 256; average pool; dense 2.
// Counted by hand from that definition:
//   conv/dense weights 208,112 (stem 216, depthwise 9 x 1,240, pointwise
//   196,224, dense 512), dense bias 2, BN over 2,736 channels (8 stem + 1,240
//   depthwise + 1,488 pointwise) x (gamma, beta) = 5,472. Ours: 208,112 + 2 +
//   5,472 = 213,586. Keras "Total params" adds a bias per conv channel (2,736)
//   and the moving mean/variance (5,472): 221,794 (216,322 trainable). MACs
//   7,489,664 in both conventions (the "7.5 M MACs" quoted for MLPerf Tiny
//   VWW).
TEST_CASE("mobilenetv1-025: the MLPerf Tiny Visual Wake Words network") {
  const ArchSpec m = parse_arch("mobilenetv1-025");
  CHECK(m == mobilenetv1_025());
  REQUIRE(m.blocks.size() == 13);
  CHECK(m.stem == StemSpec{8, 3, 2});
  for (const BlockSpec &b : m.blocks) CHECK(b.kind == BlockKind::DepthwiseSeparable);
  CHECK(m.blocks[1] == plain_block(BlockKind::DepthwiseSeparable, 3, 1, 2, 32));
  CHECK(m.blocks[12] == plain_block(BlockKind::DepthwiseSeparable, 3, 1, 1, 256));
  const Totals t = totals(m);
  CHECK(t.params == 213586);
  CHECK(t.macs == 7489664);
  CHECK(keras_total_params(m) == 221794);
  int64_t bn_channels = 0;
  for (const LayerInfo &row : arch_layers(m))
    if (row.kind == LayerKind::BatchNorm) bn_channels += row.output.c;
  CHECK(bn_channels == 2736);
  const std::vector<LayerInfo> rows = arch_layers(m);
  CHECK(rows[rows.size() - 2].input == Shape3{256, 3, 3});  // 96 / 32
}

// dscnn = the ds_cnn branch of get_model() in mlcommons/tiny,
// benchmark/training/keyword_spotting/keras_model.py (read at commit 1afd2c98): input
// [49, 10, 1] (49 MFCC frames of 10 coefficients), Conv2D(64, (10,4), strides (2,2),
// padding 'same') + BN + ReLU + Dropout(0.2); 4 x [DepthwiseConv2D 3x3 'same' + BN + ReLU,
// Conv2D(64, 1x1) + BN + ReLU]; Dropout(0.4); AveragePooling2D((24, 5)); Dense(12).
// 'same' with stride 2: ceil(49/2) x ceil(10/2) = 25x5. Counted by hand from that definition:
//   conv/dense weights 22,016 + 12 dense biases (stem 2,560, per block 576 + 4,096, dense
//   768), BN over 576 channels (64 stem + 8 x 64) x (gamma, beta) = 1,152. Ours: 2,560 + 4 x
//   4,672 + 780 + 1,152 = 23,180. Keras "Total params" adds a bias per conv channel (576) and
//   the moving mean/variance (1,152): 24,908 (23,756 trainable).
//   MACs (25 x 5 = 125 output pixels): stem 125 x 64 x 40 = 320,000, per block 72,000 + 512,000,
//   dense 768: 2,656,768 (the same in both conventions).
// Dropout carries no parameters or MACs and piconas has no dropout layer: dscnn trains without
// it. The Keras model averages rows 0..23 of the 25 (pool 24x5, 'valid'); ours averages all 25.
TEST_CASE("dscnn: the MLPerf Tiny keyword spotting network, counted like its Keras definition") {
  const ArchSpec d = parse_arch("dscnn");
  CHECK(d == dscnn());
  CHECK(reference_text("dscnn") ==
        "blocks:in=1x49x10,classes=12,act=relu,stem=64k10x4s2|ds:k3s1c64|ds:k3s1c64|ds:k3s1c64|"
        "ds:k3s1c64|head=0");
  CHECK(d.stem == StemSpec{64, {10, 4}, 2});
  const std::vector<LayerInfo> rows = arch_layers(d);
  const LayerInfo &stem = rows[1];
  CHECK(stem.type == "conv10x4/s2");
  CHECK(stem.kernel == Size2{10, 4});
  CHECK(stem.stride == Size2{2, 2});
  CHECK(stem.output == Shape3{64, 25, 5});
  CHECK(stem.params == 2560);
  CHECK(stem.macs == 320000);
  CHECK(same_pad_before(10) == 4);  // TensorFlow 'same': 9 rows of padding, 4 above, 5 below
  CHECK(same_pad_before(4) == 1);   // 2 columns, 1 left, 1 right (k/2 = 2 after, one unread)
  const Totals t = totals(d);
  CHECK(t.params == 23180);
  CHECK(t.macs == 2656768);
  CHECK(keras_total_params(d) == 24908);
  const ArchCost c = arch_cost(d);
  CHECK(c.params == t.params);
  CHECK(c.macs == t.macs);
  // The builder's modules: the same parameters, a 10x4 weight, 12 logits per 49x10 input.
  auto net = build_network(d);
  int64_t module_params = 0;
  bool stem_weight = false;
  for (const auto &[name, p] : net->named_parameters()) {
    module_params += p.value().numel();
    if (name != "stem.0.weight") continue;
    stem_weight = true;
    CHECK(p.shape() == std::vector<int64_t>{64, 1, 10, 4});
  }
  CHECK(stem_weight);
  CHECK(module_params == t.params);
  Rng rng(1);
  net->initialize(rng);
  Tensor x({2, 1, 49, 10});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, 0.01 * static_cast<double>(i % 89) - 0.4);
  CHECK((*net)(autograd::Variable(x)).shape() == std::vector<int64_t>{2, 12});
  // A non-square stride halves one axis only.
  ArchSpec narrow = d;
  narrow.stem.stride = {2, 1};
  CHECK(arch_layers(narrow)[1].output == Shape3{64, 25, 10});
  CHECK(to_text(narrow).find("stem=64k10x4s2x1|") != std::string::npos);
  CHECK(parse_arch(to_text(narrow)) == narrow);
}

TEST_CASE("cv (plain conv block, the PLiNIO SuperNet's conv choice): text, lowering, no residual") {
  const char *text = "blocks:in=3x16x16,classes=4,act=relu6,stem=8k3s1|cv:k5s1c8|cv:k3s2c16|head=0";
  const ArchSpec s = parse_arch(text);
  CHECK(s.blocks[0] == plain_block(BlockKind::Conv, 5, 1, 1, 8));
  CHECK(to_text(s) == text);
  CHECK_FALSE(has_residual(s.blocks[0], 8));  // 8 -> 8 stride 1: still a plain layer
  const std::vector<LayerInfo> rows = arch_layers(s);
  // input, stem conv/bn/act, b0 conv/bn/act, b1 conv/bn/act, pool, classifier
  REQUIRE(rows.size() == 12);
  CHECK(rows[4].name == "b0.conv");
  CHECK(rows[4].params == 8 * 8 * 25);
  CHECK(rows[6].activation == Activation::ReLU6);
  CHECK(rows[7].output == Shape3{16, 8, 8});
  CHECK(count_kind(s, LayerKind::Add) == 0);
  ArchSpec bad = s;
  bad.blocks[0].expansion = 2;
  CHECK_THROWS_WITH_AS(check_arch(bad), doctest::Contains("conv block has expansion 2"), Error);
  int64_t module_params = 0;
  for (const autograd::Variable &p : build_network(s)->parameters()) module_params += p.value().numel();
  CHECK(module_params == totals(s).params);
}
