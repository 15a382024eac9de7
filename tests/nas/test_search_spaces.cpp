// Search spaces: mutation changes exactly one gene to a different value, crossover children
// take every gene from a parent, text round trips, validity, NB201 text and skip (G8).
#include <doctest/doctest.h>

#include <algorithm>

#include "nas/search/blocks_space.h"
#include "nas/search/mbv2_space.h"
#include "nas/search/nb201_space.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

search::SpaceOptions options_for(const std::string& space) {
  search::SpaceOptions o;
  if (space == "nb201") o.input = {3, 32, 32};
  if (space == "mbv2") o.input = {3, 96, 96};
  return o;
}

// Number of genes that differ between a blocks parent and child; a length change counts as
// one gene when the shorter genome is a prefix of the longer one. A kind change to or from ds
// carries the expansion with it (ds blocks have no expansion gene).
int blocks_gene_changes(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) {
    const auto& shorter = a.size() < b.size() ? a : b;
    const auto& longer = a.size() < b.size() ? b : a;
    if (longer.size() - shorter.size() != search::kBlockGenes) return 99;
    return std::equal(shorter.begin(), shorter.end(), longer.begin()) ? 1 : 99;
  }
  int changes = 0;
  const int ds = static_cast<int>(BlockKind::DepthwiseSeparable);
  for (size_t i = 0; i < a.size(); i += search::kBlockGenes) {
    const bool kind_changed = a[i] != b[i];
    const bool involves_ds = a[i] == ds || b[i] == ds;
    for (int f = 0; f < search::kBlockGenes; ++f) {
      if (f == 2 && kind_changed && involves_ds) continue;
      changes += a[i + f] != b[i + f] ? 1 : 0;
    }
  }
  return changes;
}

int plain_gene_changes(const std::vector<int>& a, const std::vector<int>& b) {
  REQUIRE(a.size() == b.size());
  int changes = 0;
  for (size_t i = 0; i < a.size(); ++i) changes += a[i] != b[i] ? 1 : 0;
  return changes;
}

}  // namespace

TEST_CASE("mutation changes exactly one gene to a different value, in every space") {
  for (const std::string name : {"blocks", "mbv2", "nb201"}) {
    CAPTURE(name);
    auto space = search::make_search_space(name, options_for(name));
    Rng rng(11);
    search::Candidate c = space->sample(rng);
    const int draws = name == "nb201" ? 5000 : 2000;
    for (int i = 0; i < draws; ++i) {
      search::Candidate child = space->mutate(c, rng);
      CHECK(space->problems(child).empty());
      const int changes = name == "blocks" ? blocks_gene_changes(c.genes, child.genes)
                                           : plain_gene_changes(c.genes, child.genes);
      if (changes != 1)
        FAIL_CHECK(c.text << " -> " << child.text << ": " << changes << " genes changed");
      CHECK(child.text != c.text);
      c = i % 7 == 6 ? space->sample(rng) : child;  // walk, with restarts
    }
  }
}

TEST_CASE("crossover children take every gene from one of the parents") {
  for (const std::string name : {"blocks", "mbv2", "nb201"}) {
    CAPTURE(name);
    auto space = search::make_search_space(name, options_for(name));
    Rng rng(5);
    for (int i = 0; i < 1000; ++i) {
      const search::Candidate a = space->sample(rng), b = space->sample(rng);
      const search::Candidate child = space->crossover(a, b, rng);
      CHECK(space->problems(child).empty());
      if (name == "blocks") {
        const size_t n = child.genes.size() / search::kBlockGenes;
        CHECK((child.genes.size() == a.genes.size() || child.genes.size() == b.genes.size()));
        for (size_t k = 0; k < n; ++k) {
          auto block = [&](const std::vector<int>& g) {
            return k * search::kBlockGenes < g.size()
                       ? std::vector<int>(g.begin() + k * search::kBlockGenes,
                                          g.begin() + (k + 1) * search::kBlockGenes)
                       : std::vector<int>{};
          };
          const auto mine = block(child.genes);
          CHECK((mine == block(a.genes) || mine == block(b.genes)));
        }
      } else {
        REQUIRE(child.genes.size() == a.genes.size());
        for (size_t g = 0; g < child.genes.size(); ++g)
          CHECK((child.genes[g] == a.genes[g] || child.genes[g] == b.genes[g]));
      }
    }
  }
}

TEST_CASE("crossover mixes: children differ from both parents sometimes") {
  auto space = search::make_search_space("nb201", options_for("nb201"));
  Rng rng(9);
  int mixed = 0;
  for (int i = 0; i < 200; ++i) {
    const search::Candidate a = space->sample(rng), b = space->sample(rng);
    const search::Candidate child = space->crossover(a, b, rng);
    mixed += child.text != a.text && child.text != b.text ? 1 : 0;
  }
  CHECK(mixed > 100);
}

TEST_CASE("text round trips and from_genes agree with parse") {
  for (const std::string name : {"blocks", "mbv2", "nb201"}) {
    CAPTURE(name);
    auto space = search::make_search_space(name, options_for(name));
    Rng rng(3);
    for (int i = 0; i < 300; ++i) {
      const search::Candidate c = space->sample(rng);
      const search::Candidate parsed = space->parse(c.text);
      CHECK(parsed.text == c.text);
      CHECK(parsed.genes == c.genes);
      CHECK(space->from_genes(c.genes).text == c.text);
      CHECK(parsed.arch == c.arch);
    }
  }
}

TEST_CASE("nb201 text form") {
  const std::string text =
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_"
      "connect~2|";
  const search::Nb201Genotype g = search::parse_nb201(text);
  CHECK(g[0] == search::Nb201Op::NorConv3x3);
  CHECK(g[2] == search::Nb201Op::AvgPool3x3);
  CHECK(g[3] == search::Nb201Op::SkipConnect);
  CHECK(g[5] == search::Nb201Op::SkipConnect);
  CHECK(search::nb201_text(g) == text);
  // Every one of the 15,625 cells round-trips and has a distinct text.
  std::vector<std::string> all;
  for (int code = 0; code < 15625; ++code) {
    search::Nb201Genotype cell{};
    int rest = code;
    for (auto& op : cell) {
      op = static_cast<search::Nb201Op>(rest % 5);
      rest /= 5;
    }
    all.push_back(search::nb201_text(cell));
    CHECK(search::parse_nb201(all.back()) == cell);
  }
  std::sort(all.begin(), all.end());
  CHECK(std::unique(all.begin(), all.end()) == all.end());
  CHECK_THROWS_AS(search::parse_nb201("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), Error);
  CHECK_THROWS_AS(search::parse_nb201("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|"), Error);
  CHECK_THROWS_AS(search::parse_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2"), Error);
  CHECK_THROWS_AS(search::parse_nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x"), Error);
  CHECK_THROWS_AS(search::parse_nb201("|none~0|+|none~0|+|none~0|none~1|none~2|"), Error);
}

TEST_CASE("G8 nb201 skip") {
  CHECK(search::nb201_skip(search::parse_nb201(
            "|skip_connect~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")) ==
        doctest::Approx(2.0 / 3.0));
  CHECK(search::nb201_skip(
            search::parse_nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                                "nor_conv_3x3~1|skip_connect~2|")) == 1.0);
  CHECK(search::nb201_skip(search::parse_nb201(
            "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|none~2|")) ==
        0.0);
  auto space = search::make_search_space("nb201", options_for("nb201"));
  const search::Candidate all_skip =
      space->parse("|skip_connect~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|none~2|");
  CHECK(search::architecture_metric(*space, all_skip, space->cost(all_skip), "skip") == 1.0);
}

TEST_CASE("blocks skip is the fraction of residual blocks") {
  auto space = search::make_search_space("blocks", options_for("blocks"));
  // stem 16 -> ir c16 s1 (residual), ds c16 s1 (never), cn c32 s1 (width changes), cn c32 s1
  // (residual)
  const search::Candidate c =
      space->from_genes({0, 3, 2, 1, 16, 0, 0, 1, 3, 1, 1, 16, 0, 0, 2, 3, 2, 1, 32, 0, 0, 2, 5, 4,
                         1, 32, 0, 0});
  CHECK(space->skip(c) == 0.5);
}

TEST_CASE("space validity: problems and errors") {
  auto blocks = search::make_search_space("blocks", options_for("blocks"));
  CHECK_THROWS_WITH_AS(blocks->from_genes({0, 3, 2, 1, 16, 0, 0}), doctest::Contains("1 blocks"),
                       Error);  // 1 block < 3
  CHECK_THROWS_WITH_AS(blocks->from_genes({0, 4, 2, 1, 16, 0, 0, 0, 3, 2, 1, 16, 0, 0, 0, 3, 2, 1,
                                           16, 0, 0}),
                       doctest::Contains("kernel 4"), Error);
  CHECK_THROWS_WITH_AS(blocks->from_genes({0, 3, 2, 1, 16}), doctest::Contains("multiple of 7"),
                       Error);
  // Five stride-2 blocks after a stride-2 stem on 28x28: 14, 7, 4, 2, 1, then a stride 2 on 1x1.
  std::vector<int> deep;
  for (int i = 0; i < 6; ++i) deep.insert(deep.end(), {1, 3, 1, 2, 16, 0, 0});
  CHECK_THROWS_WITH_AS(blocks->from_genes(deep), doctest::Contains("spatial size"), Error);
  search::SpaceOptions other = options_for("blocks");
  other.num_classes = 3;
  const search::Candidate foreign =
      make_search_space("blocks", other)->sample(*std::make_unique<Rng>(1));
  CHECK_FALSE(blocks->problems(foreign).empty());
  auto mbv2 = make_search_space("mbv2", options_for("mbv2"));
  CHECK_THROWS_AS(mbv2->parse("161262363466368x6b16e"), Error);
  std::vector<int> genes(search::kMbv2Genes, 1);
  genes[0] = 5;  // depth 5
  CHECK_THROWS_AS(mbv2->from_genes(genes), Error);
  CHECK_THROWS_AS(search::make_search_space("darts", search::SpaceOptions{}), Error);
  search::SpaceOptions odd = options_for("nb201");
  odd.input = {3, 30, 30};
  CHECK_THROWS_AS(search::make_search_space("nb201", odd), Error);
}

TEST_CASE("Rng state save and restore continues the same sequence") {
  Rng a(77);
  for (int i = 0; i < 5; ++i) a.next_u64();
  Rng b(a.state());
  CHECK(b.seed() == a.seed());
  for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK(a.derive(3).next_u64() == b.derive(3).next_u64());
}

TEST_CASE("blocks space with int8 block kinds only never draws a ConvNeXt block") {
  search::SpaceOptions o = options_for("blocks");
  o.int8_block_kinds_only = true;
  search::BlocksSpace space(o);
  search::SpaceOptions all_kinds = options_for("blocks");
  search::BlocksSpace full(all_kinds);
  Rng rng(17), full_rng(17);
  const int cn = static_cast<int>(BlockKind::ConvNeXt);
  auto has_cn = [cn](const search::Candidate& c) {
    for (size_t i = 0; i < c.genes.size(); i += search::kBlockGenes)
      if (c.genes[i] == cn) return true;
    return false;
  };
  int full_cn = 0;
  for (int i = 0; i < 200; ++i) {
    const search::Candidate a = space.sample(rng), b = space.sample(rng);
    CHECK_FALSE(has_cn(a));
    CHECK_FALSE(has_cn(space.mutate(a, rng)));
    CHECK_FALSE(has_cn(space.crossover(a, b, rng)));
    full_cn += has_cn(full.sample(full_rng)) ? 1 : 0;
  }
  CHECK(full_cn > 100);  // without the option most draws hold a cn block
}
