// Reference networks as search seeds: the blocks space expresses basic residual
// (rb) blocks (never drawn, but parsed, mutated and built), parse() takes a
// reference name, and a search starts from --initial-arch architectures.
#include <doctest/doctest.h>

#include "core/rng.h"
#include "nas/arch/arch_text.h"
#include "nas/search/blocks_space.h"
#include "search_test_util.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::test;

namespace {

// The base of a search whose space holds resnet8: its input, classes,
// activation and stem.
search::SpaceOptions resnet8_base() {
  const ArchSpec r = resnet8();
  search::SpaceOptions o;
  o.input = r.input;
  o.num_classes = r.num_classes;
  o.activation = r.activation;
  o.stem = r.stem;
  o.head_channels = 0;
  o.min_blocks = 2;
  o.max_blocks = 5;
  return o;
}

constexpr int kRb = static_cast<int>(BlockKind::Basic);

} // namespace

TEST_CASE("blocks space: resnet8 parses by name, its rb blocks are genes, "
          "mutation keeps the space") {
  search::BlocksSpace space(resnet8_base());
  const search::Candidate c = space.parse("resnet8");
  CHECK(c.text == reference_text("resnet8"));
  CHECK(c.genes ==
        std::vector<int>{kRb, 3, 1, 1, 16, 0, 0, kRb, 3, 1, 2, 32, 0, 0, kRb, 3, 1, 2, 64, 0, 0});
  CHECK(space.problems(c).empty());
  CHECK(space.cost(c).params == 77946);
  CHECK(space.cost(c).int8_deployable);
  CHECK(space.build(c) != nullptr);
  CHECK(space.from_genes(c.genes).text == c.text);
  Rng rng(9);
  int rb_kept = 0, rb_to_expanding = 0; // rb blocks kept, changed to ir or cn
  for (int i = 0; i < 300; ++i) {
    const search::Candidate m = space.mutate(c, rng);
    REQUIRE(space.problems(m).empty());
    for (size_t b = 0; b < m.genes.size(); b += search::kBlockGenes) {
      const int kind = m.genes[b];
      const bool fixed =
          kind == kRb ||
          kind == static_cast<int>(BlockKind::DepthwiseSeparable);
      if (fixed)
        CHECK(m.genes[b + 2] ==
              1); // no expansion gene: never mutated, set to 1
      else
        CHECK(m.genes[b + 2] != 1); // a kind change from rb drew an expansion
      if (b < c.genes.size()) {
        rb_kept += kind == kRb;
        rb_to_expanding += !fixed;
      }
    }
  }
  CHECK(rb_kept > 0);
  CHECK(rb_to_expanding > 0);
  // rb is expressed, never drawn.
  for (int i = 0; i < 50; ++i) {
    const search::Candidate drawn = space.sample(rng);
    for (size_t b = 0; b < drawn.genes.size(); b += search::kBlockGenes)
      CHECK(drawn.genes[b] != kRb);
  }
  CHECK_THROWS_WITH_AS(space.from_genes({5, 3, 1, 1, 16, 0, 0}),
                       doctest::Contains("kind gene 5"), Error);
  // A reference network that does not fit the base says which field differs.
  CHECK_THROWS_WITH_AS(
      space.parse("dscnn"),
      doctest::Contains("input 1x49x10 (the search's 3x32x32), classes 12 (the "
                        "search's 10), stem 64k10x4s2 (the search's 16k3s1)"),
      Error);
}

TEST_CASE(
    "search: --initial-arch places resnet8 first in the initial population") {
  search::BlocksSpace space(resnet8_base());
  search::SearchSettings s;
  s.strategy = search::StrategyKind::FreeRea;
  s.population = 6;
  s.sample_size = 3;
  s.steps = 2;
  s.seed = 5;
  s.checkpoint_every = 0;
  s.metrics = {{"naswot", 1.0}, {"logsynflow", 1.0}};
  s.initial_archs = {"resnet8"};
  const search::SearchResult r = run_search(space, s, synthetic_metrics);
  REQUIRE(!r.state.history.empty());
  CHECK(r.state.history[0].candidate.text == reference_text("resnet8"));
  CHECK(r.state.history[0].generation == 0);
  CHECK(r.state.history[0].metrics.count("naswot") ==
        1); // scored like any member
  // The rest of the population is drawn: the same draws as without the seed,
  // one fewer.
  search::SearchSettings plain = s;
  plain.initial_archs.clear();
  const search::SearchResult p = run_search(space, plain, synthetic_metrics);
  CHECK(r.state.history[1].candidate.text == p.state.history[0].candidate.text);

  search::SearchSettings twice = s;
  twice.initial_archs = {"resnet8", reference_text("resnet8")};
  CHECK_THROWS_WITH_AS(search::run_search(space, twice, synthetic_metrics),
                       doctest::Contains("is listed twice"), Error);
  search::SearchSettings random = s;
  random.strategy = search::StrategyKind::Random;
  CHECK_THROWS_WITH_AS(search::run_search(space, random, synthetic_metrics),
                       doctest::Contains("need a population"), Error);
  search::SearchSettings small = s;
  small.constraints.max_params = 50000;
  CHECK_THROWS_WITH_AS(search::run_search(space, small, synthetic_metrics),
                       doctest::Contains("violates the constraints"), Error);
}
