#include "nas/search/mbv2_space.h"

#include "core/error.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/builder.h"
#include "nas/metrics/skip.h"

namespace piconas::nas::search {

namespace {

constexpr int kMaxDraws = 1000;

std::vector<int> range(int low, int high) {
  std::vector<int> values;
  for (int v = low; v <= high; ++v) values.push_back(v);
  return values;
}

// The domain of gene g: depth, expansion or channel index.
const std::vector<int>& domain(size_t g) {
  static const std::vector<int> depths = range(1, kMbv2MaxDepth);
  static const std::vector<int> expansions = range(1, kMbv2MaxExpansion);
  static const std::vector<int> channels = range(0, static_cast<int>(kMbv2Channels.size()) - 1);
  return g % 3 == 0 ? depths : g % 3 == 1 ? expansions : channels;
}

std::string join(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace

Mbv2Space::Mbv2Space(const SpaceOptions& options)
    : deploy_memory_(options.deploy_memory), deploy_max_sram_(options.deploy_max_sram) {
  base_.input = options.input;
  base_.num_classes = options.num_classes;
  base_.activation = options.activation;
  base_.stem = options.stem;
  base_.head_channels = options.head_channels;
}

Mbv2Spec Mbv2Space::spec_of(const std::vector<int>& genes) const {
  PICONAS_CHECK(genes.size() == kMbv2Genes,
                "mbv2 space: expected " << kMbv2Genes << " genes, got " << genes.size());
  Mbv2Spec spec = base_;
  for (int s = 0; s < kMbv2Stages; ++s) {
    const int index = genes[3 * s + 2];
    PICONAS_CHECK(index >= 0 && index < static_cast<int>(kMbv2Channels.size()),
                  "mbv2 space: stage " << s << " has channel index " << index);
    spec.stages[s] = {genes[3 * s], genes[3 * s + 1], kMbv2Channels[index]};
  }
  return spec;
}

std::vector<std::string> Mbv2Space::gene_problems(const std::vector<int>& genes) const {
  if (genes.size() != kMbv2Genes) return {"mbv2 needs " + std::to_string(kMbv2Genes) + " genes"};
  for (size_t g = 0; g < genes.size(); ++g) {
    const auto& values = domain(g);
    if (genes[g] < values.front() || genes[g] > values.back())
      return {"gene " + std::to_string(g) + " = " + std::to_string(genes[g]) + " out of range"};
  }
  return mbv2_problems(spec_of(genes));
}

std::vector<std::string> Mbv2Space::problems(const Candidate& c) const {
  auto problems = gene_problems(c.genes);
  if (problems.empty() && c.text != mbv2_key(spec_of(c.genes)))
    problems.push_back("text " + c.text + " does not match the genes");
  return problems;
}

std::vector<int> Mbv2Space::decision_sizes() const {
  std::vector<int> sizes;
  for (size_t g = 0; g < static_cast<size_t>(kMbv2Genes); ++g) sizes.push_back(static_cast<int>(domain(g).size()));
  return sizes;
}

Candidate Mbv2Space::decode(const std::vector<int>& decisions) const {
  PICONAS_CHECK(decisions.size() == static_cast<size_t>(kMbv2Genes),
                "mbv2 space: " << decisions.size() << " decisions, expected " << kMbv2Genes);
  std::vector<int> genes;
  for (size_t g = 0; g < static_cast<size_t>(kMbv2Genes); ++g) {
    const auto& values = domain(g);
    PICONAS_CHECK(decisions[g] >= 0 && decisions[g] < static_cast<int>(values.size()),
                  "mbv2 space: decision " << g << " = " << decisions[g] << " out of range");
    genes.push_back(values[static_cast<size_t>(decisions[g])]);
  }
  return from_genes(genes);
}

Candidate Mbv2Space::from_genes(const std::vector<int>& genes) const {
  const auto problems = gene_problems(genes);
  PICONAS_CHECK(problems.empty(), "mbv2 space: invalid genes: " << join(problems));
  const Mbv2Spec spec = spec_of(genes);
  return Candidate{mbv2_key(spec), genes, expand_mbv2(spec)};
}

Candidate Mbv2Space::parse(std::string_view text) const {
  PICONAS_CHECK(!is_graph_text(text),
                "mbv2 space: the architecture is a graph network (an imported model), which has no "
                "genes in this space to search from; score it (its own space: `piconas score "
                "FILE`) or search its channel widths with `piconas dnas --method pit --init CKPT` "
                "(docs/onnx.md)");
  const auto key_problems = mbv2_key_problems(text);
  PICONAS_CHECK(key_problems.empty(),
                "mbv2 space: bad key '" << text << "': " << join(key_problems));
  const Mbv2Spec spec = mbv2_from_key(text, base_);
  std::vector<int> genes;
  for (const Mbv2Stage& stage : spec.stages) {
    int index = 0;
    while (kMbv2Channels[index] != stage.channels) ++index;
    for (int g : {stage.depth, stage.expansion, index}) genes.push_back(g);
  }
  return from_genes(genes);
}

Candidate Mbv2Space::sample(Rng& rng) const {
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    std::vector<int> genes(kMbv2Genes);
    for (size_t g = 0; g < genes.size(); ++g) genes[g] = draw_any(domain(g), rng);
    if (gene_problems(genes).empty()) return from_genes(genes);
  }
  throw Error("mbv2 space: no valid architecture in " + std::to_string(kMaxDraws) + " draws");
}

Candidate Mbv2Space::mutate(const Candidate& parent, Rng& rng) const {
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    std::vector<int> genes = parent.genes;
    const size_t g = static_cast<size_t>(rng.uniform_int(0, kMbv2Genes - 1));
    genes[g] = draw_other(domain(g), genes[g], rng);
    if (gene_problems(genes).empty()) return from_genes(genes);
  }
  throw Error("mbv2 space: no valid mutation of " + parent.text);
}

Candidate Mbv2Space::crossover(const Candidate& a, const Candidate& b, Rng& rng) const {
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    std::vector<int> genes(kMbv2Genes);
    for (size_t g = 0; g < genes.size(); ++g)
      genes[g] = rng.uniform() < 0.5 ? a.genes[g] : b.genes[g];
    if (gene_problems(genes).empty()) return from_genes(genes);
  }
  return a;
}

std::shared_ptr<autograd::Module> Mbv2Space::build(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "mbv2 space: candidate " << c.text << " has no ArchSpec");
  return build_network(*c.arch);
}

double Mbv2Space::skip(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "mbv2 space: candidate " << c.text << " has no ArchSpec");
  return metrics::skip_fraction(*c.arch);
}

CostEstimate Mbv2Space::cost(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "mbv2 space: candidate " << c.text << " has no ArchSpec");
  return estimate_cost(*c.arch, deploy_memory_, deploy_max_sram_);
}

}  // namespace piconas::nas::search
