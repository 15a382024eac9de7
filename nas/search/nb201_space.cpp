#include "nas/search/nb201_space.h"

#include "core/error.h"

namespace piconas::nas::search {

namespace {

const std::vector<int> kOps{0, 1, 2, 3, 4};

std::vector<int> genes_of(const Nb201Genotype& genotype) {
  std::vector<int> genes;
  for (Nb201Op op : genotype) genes.push_back(static_cast<int>(op));
  return genes;
}

}  // namespace

const char* nb201_op_name(Nb201Op op) {
  switch (op) {
    case Nb201Op::None:
      return "none";
    case Nb201Op::SkipConnect:
      return "skip_connect";
    case Nb201Op::NorConv1x1:
      return "nor_conv_1x1";
    case Nb201Op::NorConv3x3:
      return "nor_conv_3x3";
    case Nb201Op::AvgPool3x3:
      return "avg_pool_3x3";
  }
  throw Error("nb201_op_name: invalid op " + std::to_string(static_cast<int>(op)));
}

Nb201Op parse_nb201_op(std::string_view name) {
  for (int i = 0; i < kNb201Ops; ++i)
    if (name == nb201_op_name(static_cast<Nb201Op>(i))) return static_cast<Nb201Op>(i);
  throw Error("unknown nb201 op '" + std::string(name) +
              "' (known: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)");
}

std::string nb201_text(const Nb201Genotype& genotype) {
  std::string text;
  for (int e = 0; e < kNb201Edges; ++e) {
    const auto& nodes = kNb201EdgeNodes[e];
    if (nodes[0] == 0) text += nodes[1] == 1 ? "|" : "+|";
    text += std::string(nb201_op_name(genotype[e])) + "~" + std::to_string(nodes[0]) + "|";
  }
  return text;
}

Nb201Genotype parse_nb201(std::string_view text) {
  Nb201Genotype genotype{};
  size_t pos = 0;
  auto expect = [&](char ch) {
    PICONAS_CHECK(pos < text.size() && text[pos] == ch,
                  "nb201 genotype '" << text << "': expected '" << ch << "' at position " << pos);
    ++pos;
  };
  for (int e = 0; e < kNb201Edges; ++e) {
    const auto& nodes = kNb201EdgeNodes[e];
    if (nodes[0] == 0) {
      if (nodes[1] > 1) expect('+');
      expect('|');
    }
    const size_t start = pos;
    while (pos < text.size() && text[pos] != '~' && text[pos] != '|') ++pos;
    const std::string_view name = text.substr(start, pos - start);
    try {
      genotype[e] = parse_nb201_op(name);
    } catch (const Error& error) {
      throw Error("nb201 genotype '" + std::string(text) + "' at position " +
                  std::to_string(start) + ": " + error.what());
    }
    expect('~');
    expect(static_cast<char>('0' + nodes[0]));
    expect('|');
  }
  PICONAS_CHECK(pos == text.size(),
                "nb201 genotype '" << text << "': trailing text at position " << pos);
  return genotype;
}

double nb201_skip(const Nb201Genotype& genotype) {
  int edges = 0, jumped = 0;
  for (int e = 0; e < kNb201Edges; ++e) {
    if (genotype[e] != Nb201Op::SkipConnect) continue;
    ++edges;
    jumped += kNb201EdgeNodes[e][1] - kNb201EdgeNodes[e][0] - 1;
  }
  return edges == 0 ? 0.0 : static_cast<double>(jumped) / edges;
}

Nb201Space::Nb201Space(const SpaceOptions& options) {
  macro_.input = options.input;
  macro_.num_classes = options.num_classes;
  const auto problems = nb201_macro_problems(macro_);
  PICONAS_CHECK(problems.empty(), "nb201 space: " << problems.front());
}

Nb201Genotype Nb201Space::genotype_of(const Candidate& c) const {
  PICONAS_CHECK(c.genes.size() == kNb201Edges,
                "nb201 space: expected " << kNb201Edges << " genes, got " << c.genes.size());
  Nb201Genotype genotype{};
  for (int e = 0; e < kNb201Edges; ++e) {
    PICONAS_CHECK(c.genes[e] >= 0 && c.genes[e] < kNb201Ops,
                  "nb201 space: edge " << e << " has op index " << c.genes[e]);
    genotype[e] = static_cast<Nb201Op>(c.genes[e]);
  }
  return genotype;
}

Candidate Nb201Space::from_genes(const std::vector<int>& genes) const {
  Candidate c{"", genes, std::nullopt};
  c.text = nb201_text(genotype_of(c));
  return c;
}

std::vector<int> Nb201Space::decision_sizes() const {
  return std::vector<int>(kNb201Edges, kNb201Ops);
}

Candidate Nb201Space::decode(const std::vector<int>& decisions) const {
  PICONAS_CHECK(decisions.size() == kNb201Edges,
                "nb201 space: " << decisions.size() << " decisions, expected " << kNb201Edges);
  for (int d : decisions)
    PICONAS_CHECK(d >= 0 && d < kNb201Ops, "nb201 space: op index " << d << " out of range");
  return from_genes(decisions);
}

Candidate Nb201Space::parse(std::string_view text) const {
  return from_genes(genes_of(parse_nb201(text)));
}

std::vector<std::string> Nb201Space::problems(const Candidate& c) const {
  try {
    if (nb201_text(genotype_of(c)) != c.text)
      return {"text " + c.text + " does not match the genes"};
  } catch (const Error& error) {
    return {error.what()};
  }
  return {};
}

Candidate Nb201Space::sample(Rng& rng) const {
  std::vector<int> genes(kNb201Edges);
  for (int& g : genes) g = draw_any(kOps, rng);
  return from_genes(genes);
}

Candidate Nb201Space::mutate(const Candidate& parent, Rng& rng) const {
  std::vector<int> genes = parent.genes;
  const size_t e = static_cast<size_t>(rng.uniform_int(0, kNb201Edges - 1));
  genes[e] = draw_other(kOps, genes[e], rng);
  return from_genes(genes);
}

Candidate Nb201Space::crossover(const Candidate& a, const Candidate& b, Rng& rng) const {
  std::vector<int> genes(kNb201Edges);
  for (size_t e = 0; e < genes.size(); ++e)
    genes[e] = rng.uniform() < 0.5 ? a.genes[e] : b.genes[e];
  return from_genes(genes);
}

std::shared_ptr<autograd::Module> Nb201Space::build(const Candidate& c) const {
  return std::make_shared<Nb201Network>(genotype_of(c), macro_);
}

double Nb201Space::skip(const Candidate& c) const { return nb201_skip(genotype_of(c)); }

CostEstimate Nb201Space::cost(const Candidate& c) const {
  return nb201_cost(genotype_of(c), macro_);
}

}  // namespace piconas::nas::search
