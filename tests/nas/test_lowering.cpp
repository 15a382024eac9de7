// The one lowering (nas/arch/lowering.h): its rows must be what every consumer builds.
#include <doctest/doctest.h>

#include <sstream>

#include "nas/arch/arch_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"

using namespace piconas;
using namespace piconas::nas;

namespace {
const char* kMixed =
    "blocks:in=3x20x14,classes=5,act=relu6,stem=8k3s2|ir:k3e2s1c8|ds:k5s2c16|ir:k5e1s1c16|"
    "cn:k7e4s1c16|ir:k3e4s2c24|head=32";

autograd::Module* find(autograd::Module& root, const std::string& path) {
  autograd::Module* m = &root;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    autograd::Module* next = nullptr;
    for (auto& [name, child] : m->children())
      if (name == part) next = child.get();
    if (!next) return nullptr;
    m = next;
  }
  return m;
}

std::string expected_module_kind(const LayerInfo& row) {
  switch (row.kind) {
    case LayerKind::Conv:
    case LayerKind::Depthwise:
      return "conv2d";
    case LayerKind::BatchNorm:
      return "batchnorm2d";
    case LayerKind::LayerNorm:
      return "layernorm2d";
    case LayerKind::Activation:
      return row.type;  // "relu6", "gelu"
    case LayerKind::GlobalAvgPool:
      return "global_avg_pool";
    case LayerKind::FullyConnected:
      return "linear";
    default:
      return "";
  }
}
}  // namespace

TEST_CASE("same_out: the output size of a same-padded layer") {
  CHECK(same_out(28, 1) == 28);
  CHECK(same_out(28, 2) == 14);
  CHECK(same_out(27, 2) == 14);
  CHECK(same_out(7, 2) == 4);
  CHECK(same_out(1, 2) == 1);
  CHECK(same_out(10, 3) == 4);
  CHECK(same_conv_out({3, 49, 10}, 64, {2, 1}) == Shape3{64, 25, 10});
}

TEST_CASE("rows chain their shapes and every module path names the module the builder made") {
  const ArchSpec spec = parse_arch(kMixed);
  const std::vector<LayerInfo> rows = arch_layers(spec);
  auto net = build_network(spec);
  REQUIRE(rows.front().kind == LayerKind::Input);
  CHECK(rows.front().output == spec.input);
  int adds = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const LayerInfo& row = rows[i];
    INFO(row.name);
    CHECK(row.input == rows[i - 1].output);
    if (row.kind == LayerKind::Add) {
      ++adds;
      REQUIRE(row.skip >= 0);
      CHECK(rows[static_cast<size_t>(row.skip)].output == row.output);
      CHECK(rows[static_cast<size_t>(row.skip) + 1].block == row.block);  // the block input
      CHECK(rows[static_cast<size_t>(row.skip)].block != row.block);
      continue;
    }
    autograd::Module* m = find(*net, row.path);
    REQUIRE(m != nullptr);
    CHECK(std::string(m->kind()) == expected_module_kind(row));
    if (row.kind == LayerKind::Conv || row.kind == LayerKind::Depthwise) {
      auto* conv = dynamic_cast<autograd::Conv2d*>(m);
      REQUIRE(conv != nullptr);
      CHECK(conv->options().kernel == row.kernel.h);
      CHECK(conv->options().stride == row.stride.h);
      CHECK(conv->options().groups == row.groups);
      CHECK(conv->options().bias == row.bias);
      CHECK(conv->options().out_channels == row.output.c);
      CHECK(row.output == same_conv_out(row.input, row.output.c, row.stride));
    }
  }
  CHECK(adds == 3);  // ir:k3e2s1c8, ir:k5e1s1c16, cn:k7e4s1c16
}

TEST_CASE("block_layers is the slice of arch_layers of that block, and its widths are typed") {
  const ArchSpec spec = parse_arch(kMixed);
  const std::vector<LayerInfo> rows = arch_layers(spec);
  for (size_t b = 0; b < spec.blocks.size(); ++b) {
    INFO("block " << b);
    size_t first = 0;
    while (rows[first].block != static_cast<int>(b)) ++first;
    const std::vector<LayerInfo> block =
        block_layers(spec.blocks[b], rows[first].input, spec.activation, static_cast<int>(b));
    REQUIRE(block.front().kind == LayerKind::Input);
    for (size_t i = 1; i < block.size(); ++i) {
      const LayerInfo& a = block[i];
      const LayerInfo& r = rows[first + i - 1];
      CHECK(a.name == r.name);
      CHECK(a.path == r.path);
      CHECK(a.output == r.output);
      CHECK(a.params == r.params);
      CHECK(a.macs == r.macs);
      // The widths the DNAS cost substitutes: in = block input, out = block output channels,
      // hidden = input x expansion.
      const int64_t in = rows[first].input.c;
      auto width = [&](BlockWidth w) {
        return w == BlockWidth::In    ? in
               : w == BlockWidth::Out ? spec.blocks[b].out_channels
                                      : in * spec.blocks[b].expansion;
      };
      REQUIRE(a.out_width != BlockWidth::None);
      CHECK(width(a.out_width) == a.output.c);
      CHECK(width(a.in_width) == a.input.c);
    }
  }
}

TEST_CASE("layer types name the kernel and stride of each axis") {
  const std::vector<LayerInfo> rows = arch_layers(parse_arch(kMixed));
  CHECK(rows[1].type == "conv3x3/s2");
  CHECK(std::string(layer_kind_name(LayerKind::Depthwise)) == "depthwise");
}
