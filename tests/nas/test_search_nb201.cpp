// The NAS-Bench-201 network: output shape, parameter counts against hand counts, cell
// semantics (sums over edges, none = zero, avg pool excluding padding), costs vs the module.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/functions.h"
#include "nas/search/nb201_space.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

int64_t count_params(autograd::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.value().numel();
  return total;
}

}  // namespace

TEST_CASE("nb201 network: output shape and hand-counted parameters") {
  // Parameters without any cell op (all cells none / skip / pool), 3 input channels, 10 classes:
  //   stem conv 3*16*9 = 432 + BN 32                                      =     464
  //   reduction 16->32: conv_a 9*16*32 + BN 64, conv_b 9*32*32 + BN 64, 1x1 16*32 = 14464
  //   reduction 32->64: 9*32*64 + 128 + 9*64*64 + 128 + 32*64              =  57600
  //   lastact BN 128, classifier 64*10 + 10                               =     778
  //   total                                                               =  73306
  // nor_conv_3x3 edge at C: 9C^2 + 2C (C=16: 2336, 32: 9280, 64: 36992); nor_conv_1x1: C^2 + 2C
  // (288, 1088, 4224). 5 cells per stage.
  search::Nb201MacroOptions o;  // 3x32x32, 10 classes, C 16, N 5
  struct Case {
    const char* text;
    int64_t params;
  };
  const Case cases[] = {
      {"|none~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|", 73306},
      // all nor_conv_3x3: 73306 + 5*6*(2336 + 9280 + 36992) = 1,531,546 (the NAS-Bench-201 maximum)
      {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_"
       "3x3~2|",
       1531546},
      // one 1x1 and one 3x3 edge: 73306 + 5*((288 + 2336) + (1088 + 9280) + (4224 + 36992)) =
      // 344,346
      {"|nor_conv_1x1~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|", 344346},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const search::Nb201Genotype g = search::parse_nb201(c.text);
    search::Nb201Network net(g, o);
    CHECK(count_params(net) == c.params);
    CHECK(search::nb201_cost(g, o).params == c.params);
  }
  // Forward on a small input: [2, 3, 8, 8] -> [2, 10]
  search::Nb201MacroOptions small = o;
  small.input = {3, 8, 8};
  search::Nb201Network net(search::parse_nb201(cases[2].text), small);
  Rng rng(1);
  net.initialize(rng);
  Tensor x({2, 3, 8, 8});
  fill_normal(x, rng, 0, 1);
  const autograd::Variable y = net(autograd::Variable(x));
  CHECK(y.shape() == Shape{2, 10});
  for (int64_t i = 0; i < y.value().numel(); ++i) CHECK(std::isfinite(y.value().get(i)));
}

TEST_CASE("nb201 cell: node j sums op(i->j)(node i); none is zero; avg pool excludes padding") {
  Rng rng(2);
  Tensor x({1, 2, 4, 4});
  fill_normal(x, rng, 0, 1);
  // node1 = x, node2 = x + node1 = 2x, node3 = x + node2 = 3x
  search::Nb201Cell sum_cell(
      search::parse_nb201("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|"
                          "none~1|skip_connect~2|"),
      2);
  const Tensor y = sum_cell(autograd::Variable(x)).value();
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.get(i) == doctest::Approx(3 * x.get(i)));
  // node3 only from node2, which has only none inputs: zero output.
  search::Nb201Cell zero_cell(
      search::parse_nb201("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"), 2);
  const Tensor z = zero_cell(autograd::Variable(x)).value();
  for (int64_t i = 0; i < z.numel(); ++i) CHECK(z.get(i) == 0.0);
  // avg pool of ones is one everywhere only when padding is excluded (corners would be 4/9).
  search::Nb201Cell pool_cell(
      search::parse_nb201(
          "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"),
      2);
  const Tensor p = pool_cell(autograd::Variable(Tensor::full({1, 2, 4, 4}, 1.0))).value();
  for (int64_t i = 0; i < p.numel(); ++i) CHECK(p.get(i) == doctest::Approx(1.0));
}

TEST_CASE("nb201 reduction block: shapes and parameters") {
  search::Nb201Reduction reduction(4, 8);
  // conv_a 9*4*8 + BN 16, conv_b 9*8*8 + BN 16, shortcut 4*8 = 288 + 16 + 576 + 16 + 32 = 928
  CHECK(count_params(reduction) == 928);
  Rng rng(3);
  reduction.initialize(rng);
  Tensor x({2, 4, 6, 6});
  fill_normal(x, rng, 0, 1);
  CHECK(reduction(autograd::Variable(x)).shape() == Shape{2, 8, 3, 3});
}

TEST_CASE("nb201 space: built module matches the cost model's parameter count") {
  search::SpaceOptions options;
  options.input = {1, 28, 28};
  options.num_classes = 10;
  auto space = search::make_search_space("nb201", options);
  Rng rng(4);
  for (int i = 0; i < 20; ++i) {
    const search::Candidate c = space->sample(rng);
    auto net = space->build(c);
    CHECK(count_params(*net) == space->cost(c).params);
  }
  // MACs by hand for the all-skip cell at 1x28x28 (no cell MACs):
  //   stem 1*16*9*784 = 112,896; reduction 1 at 14x14: (9*16*32 + 9*32*32 + 16*32) * 196 =
  //   2,809,856; reduction 2 at 7x7: (9*32*64 + 9*64*64 + 32*64) * 49 = 2,809,856; classifier 640.
  //   Total 5,733,248.
  const search::Candidate skip = space->parse(
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_"
      "connect~2|");
  CHECK(space->cost(skip).macs == 5733248);
}
