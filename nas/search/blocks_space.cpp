#include "nas/search/blocks_space.h"

#include <algorithm>
#include <array>
#include <optional>

#include "core/error.h"
#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/builder.h"
#include "nas/metrics/skip.h"

namespace piconas::nas::search {

namespace {

constexpr int kMaxDraws = 1000;
constexpr int kDs = static_cast<int>(BlockKind::DepthwiseSeparable);
constexpr int kLastKind = static_cast<int>(BlockKind::Conv);
// Kinds whose expansion is always 1 (no expansion gene): ds, rb, cv.
bool fixed_expansion(int kind) { return !has_expansion(static_cast<BlockKind>(kind)); }

const std::vector<int> kKinds{static_cast<int>(BlockKind::InvertedResidual), kDs,
                              static_cast<int>(BlockKind::ConvNeXt)};
const std::vector<int> kInt8Kinds{static_cast<int>(BlockKind::InvertedResidual), kDs};
const std::vector<int> kKernels(kBlocksKernels.begin(), kBlocksKernels.end());
const std::vector<int> kExpansions(kBlocksExpansions.begin(), kBlocksExpansions.end());
const std::vector<int> kStrides{1, 2};
const std::vector<int> kChannels(kBlocksChannels.begin(), kBlocksChannels.end());
const std::vector<int> kSeGenes{0, 1};
constexpr int kIr = static_cast<int>(BlockKind::InvertedResidual);

// The activation gene: 0 the network's, then these.
constexpr std::array<Activation, 3> kGeneActivations{Activation::ReLU, Activation::ReLU6,
                                                     Activation::Hardswish};
int activation_gene(const std::optional<Activation>& a) {
  for (size_t i = 0; i < kGeneActivations.size(); ++i)
    if (a == kGeneActivations[i]) return static_cast<int>(i) + 1;
  PICONAS_CHECK(!a, "blocks space: block activation " << activation_name(*a) << " has no gene");
  return 0;
}

// Sorted union of the base values and, with the ir options, MobileNetV3's.
template <class Extra>
std::vector<int> with_mbv3(std::vector<int> values, const Extra& extra, bool ir_options) {
  if (ir_options) values.insert(values.end(), extra.begin(), extra.end());
  std::sort(values.begin(), values.end());
  return values;
}

std::string join(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace

BlocksSpace::BlocksSpace(const SpaceOptions& options)
    : options_(options),
      kinds_(options.int8_block_kinds_only ? kInt8Kinds : kKinds),
      expansions_(with_mbv3(kExpansions, kBlocksMbv3Expansions, options.ir_options)),
      channels_(with_mbv3(kChannels, kBlocksMbv3Channels, options.ir_options)) {
  // A block activation equal to the network's is written without it: that value is gene 0.
  activation_genes_.push_back(0);
  for (size_t i = 0; i < kGeneActivations.size(); ++i)
    if (kGeneActivations[i] != options.activation) activation_genes_.push_back(static_cast<int>(i) + 1);
  PICONAS_CHECK(options.min_blocks >= 1 && options.min_blocks <= options.max_blocks,
                "blocks space: need 1 <= min_blocks <= max_blocks, got "
                    << options.min_blocks << ".." << options.max_blocks);
}

ArchSpec BlocksSpace::spec_of(const std::vector<int>& genes) const {
  PICONAS_CHECK(genes.size() % kBlockGenes == 0,
                "blocks space: " << genes.size() << " genes is not a multiple of " << kBlockGenes);
  ArchSpec spec;
  spec.input = options_.input;
  spec.num_classes = options_.num_classes;
  spec.activation = options_.activation;
  spec.stem = options_.stem;
  spec.head_channels = options_.head_channels;
  for (size_t i = 0; i < genes.size(); i += kBlockGenes) {
    PICONAS_CHECK(genes[i] >= 0 && genes[i] <= kLastKind,
                  "blocks space: block " << i / kBlockGenes << " has kind gene " << genes[i]);
    PICONAS_CHECK((genes[i + 5] == 0 || genes[i + 5] == 1) && genes[i + 6] >= 0 &&
                      genes[i + 6] <= static_cast<int>(kGeneActivations.size()),
                  "blocks space: block " << i / kBlockGenes << " has se gene " << genes[i + 5]
                                         << " and activation gene " << genes[i + 6]);
    BlockSpec b{static_cast<BlockKind>(genes[i]), genes[i + 1], genes[i + 2], genes[i + 3],
                genes[i + 4], genes[i + 5] == 1, std::nullopt, 0};
    if (genes[i + 6] > 0) b.activation = kGeneActivations[static_cast<size_t>(genes[i + 6] - 1)];
    spec.blocks.push_back(b);
  }
  return spec;
}

std::vector<std::string> BlocksSpace::spec_problems(const ArchSpec& spec) const {
  std::vector<std::string> problems = blocks_space_problems(spec, options_.ir_options);
  const int n = static_cast<int>(spec.blocks.size());
  if (n < options_.min_blocks || n > options_.max_blocks)
    problems.push_back(std::to_string(n) + " blocks, outside " +
                       std::to_string(options_.min_blocks) + ".." +
                       std::to_string(options_.max_blocks));
  std::string differ;  // "classes 12 (the search's 10), ..."
  auto field = [&](bool same, const std::string& what, const std::string& here,
                   const std::string& base) {
    if (!same) differ += (differ.empty() ? "" : ", ") + what + " " + here + " (the search's " + base + ")";
  };
  const StemSpec &st = spec.stem, &bst = options_.stem;
  auto stem_text = [](const StemSpec& x) {
    return std::to_string(x.out_channels) + "k" + size2_str(x.kernel) + "s" + size2_str(x.stride);
  };
  field(spec.input == options_.input, "input", shape3_str(spec.input), shape3_str(options_.input));
  field(spec.num_classes == options_.num_classes, "classes", std::to_string(spec.num_classes),
        std::to_string(options_.num_classes));
  field(spec.activation == options_.activation, "activation", activation_name(spec.activation),
        activation_name(options_.activation));
  field(st == bst, "stem", stem_text(st), stem_text(bst));
  field(spec.head_channels == options_.head_channels, "head", std::to_string(spec.head_channels),
        std::to_string(options_.head_channels));
  if (!differ.empty())
    problems.push_back("input, classes, activation, stem or head differ from the search's base: " +
                       differ);
  return problems;
}

std::vector<std::string> BlocksSpace::problems(const Candidate& c) const {
  if (!c.arch) return {"blocks candidate without an ArchSpec"};
  return spec_problems(*c.arch);
}

Candidate BlocksSpace::from_genes(const std::vector<int>& genes) const {
  ArchSpec spec = spec_of(genes);
  const auto problems = spec_problems(spec);
  PICONAS_CHECK(problems.empty(), "blocks space: invalid genes: " << join(problems));
  return Candidate{to_text(spec), genes, spec};
}

std::vector<int> BlocksSpace::decision_sizes() const {
  std::vector<int> sizes{options_.max_blocks - options_.min_blocks + 1};
  for (int b = 0; b < options_.max_blocks; ++b) {
    for (const auto* values : {&kinds_, &kKernels, &expansions_, &kStrides, &channels_})
      sizes.push_back(static_cast<int>(values->size()));
    if (options_.ir_options)
      for (const auto* values : {&kSeGenes, &activation_genes_})
        sizes.push_back(static_cast<int>(values->size()));
  }
  return sizes;
}

Candidate BlocksSpace::decode(const std::vector<int>& decisions) const {
  const std::vector<int> sizes = decision_sizes();
  PICONAS_CHECK(decisions.size() == sizes.size(),
                "blocks space: " << decisions.size() << " decisions, expected " << sizes.size());
  for (size_t d = 0; d < sizes.size(); ++d)
    PICONAS_CHECK(decisions[d] >= 0 && decisions[d] < sizes[d],
                  "blocks space: decision " << d << " = " << decisions[d] << " outside [0, "
                                            << sizes[d] << ")");
  const int n = options_.min_blocks + decisions[0];
  const size_t per_block = options_.ir_options ? 7 : 5;
  std::vector<int> genes;
  for (int b = 0; b < n; ++b) {
    const int* d = &decisions[1 + static_cast<size_t>(b) * per_block];
    const int kind = kinds_[d[0]];
    const bool options = options_.ir_options && kind == kIr;
    genes.insert(genes.end(), {kind, kKernels[d[1]], fixed_expansion(kind) ? 1 : expansions_[d[2]],
                               kStrides[d[3]], channels_[d[4]], options ? kSeGenes[d[5]] : 0,
                               options ? activation_genes_[d[6]] : 0});
  }
  return from_genes(genes);
}

Candidate BlocksSpace::parse(std::string_view text) const {
  PICONAS_CHECK(!is_graph_text(text),
                "blocks space: the architecture is a graph network (an imported model), which has no "
                "genes in this space to search from; score it (its own space: `piconas score "
                "FILE`) or search its channel widths with `piconas dnas --method pit --init CKPT` "
                "(docs/onnx.md)");
  // A reference name ("resnet8") reads as its text.
  const bool name = text.find(':') == std::string_view::npos;
  ArchSpec spec = parse_blocks(name ? reference_text(text) : std::string(text));
  // The genes hold the blocks only: a header other than the search's base would be dropped.
  const auto problems = spec_problems(spec);
  PICONAS_CHECK(problems.empty(),
                "blocks space: '" << text << "': " << join(problems)
                                  << (options_.ir_options ? ""
                                                          : " (--ir-options adds MobileNetV3's "
                                                            "expansions {1,3} and widths {24,40,48})"));
  std::vector<int> genes;
  for (const BlockSpec& b : spec.blocks) {
    for (int g : {static_cast<int>(b.kind), b.kernel, b.expansion, b.stride, b.out_channels,
                  b.se ? 1 : 0, activation_gene(b.activation)})
      genes.push_back(g);
  }
  return from_genes(genes);
}

std::vector<int> BlocksSpace::random_block(Rng& rng) const {
  const int kind = draw_any(kinds_, rng);
  const int kernel = draw_any(kKernels, rng);
  const int expansion = fixed_expansion(kind) ? 1 : draw_any(expansions_, rng);
  const int stride = draw_any(kStrides, rng);
  const int channels = draw_any(channels_, rng);
  // Without the ir options no further draw: the sequence is that of the five-gene space.
  if (!options_.ir_options || kind != kIr) return {kind, kernel, expansion, stride, channels, 0, 0};
  const int se = draw_any(kSeGenes, rng);
  return {kind, kernel, expansion, stride, channels, se, draw_any(activation_genes_, rng)};
}

Candidate BlocksSpace::sample(Rng& rng) const {
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    const int n = static_cast<int>(rng.uniform_int(options_.min_blocks, options_.max_blocks));
    std::vector<int> genes;
    for (int i = 0; i < n; ++i) {
      const auto block = random_block(rng);
      genes.insert(genes.end(), block.begin(), block.end());
    }
    if (spec_problems(spec_of(genes)).empty()) return from_genes(genes);
  }
  throw Error("blocks space: no valid architecture in " + std::to_string(kMaxDraws) +
              " draws (input " + shape3_str(options_.input) + " too small for the block count?)");
}

Candidate BlocksSpace::mutate(const Candidate& parent, Rng& rng) const {
  const int n = static_cast<int>(parent.genes.size()) / kBlockGenes;
  // Mutable genes: (block, field) pairs, and field -1 of block n for the block count.
  std::vector<std::pair<int, int>> sites;
  for (int b = 0; b < n; ++b) {
    const int kind = parent.genes[static_cast<size_t>(b) * kBlockGenes];
    for (int f = 0; f < 5; ++f)
      if (f != 2 || !fixed_expansion(kind)) sites.emplace_back(b, f);
    if (options_.ir_options && kind == kIr) {
      sites.emplace_back(b, 5);
      sites.emplace_back(b, 6);
    }
  }
  if (options_.min_blocks < options_.max_blocks) sites.emplace_back(n, -1);
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    const auto [b, f] =
        sites[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(sites.size()) - 1))];
    std::vector<int> genes = parent.genes;
    if (f == -1) {
      const bool grow =
          n == options_.min_blocks || (n < options_.max_blocks && rng.uniform() < 0.5);
      if (grow) {
        const auto block = random_block(rng);
        genes.insert(genes.end(), block.begin(), block.end());
      } else {
        genes.resize(genes.size() - kBlockGenes);
      }
    } else {
      int* block = &genes[static_cast<size_t>(b) * kBlockGenes];
      switch (f) {
        case 0: {
          const int kind = draw_other(kinds_, block[0], rng);
          if (fixed_expansion(kind))
            block[2] = 1;
          else if (fixed_expansion(block[0]))
            block[2] = draw_any(expansions_, rng);
          if (kind != kIr) block[5] = block[6] = 0;  // only ir blocks take se and an activation
          block[0] = kind;
          break;
        }
        case 1:
          block[1] = draw_other(kKernels, block[1], rng);
          break;
        case 2:
          block[2] = draw_other(expansions_, block[2], rng);
          break;
        case 3:
          block[3] = draw_other(kStrides, block[3], rng);
          break;
        case 4:
          block[4] = draw_other(channels_, block[4], rng);
          break;
        case 5:
          block[5] = 1 - block[5];
          break;
        default:
          block[6] = draw_other(activation_genes_, block[6], rng);
          break;
      }
    }
    if (spec_problems(spec_of(genes)).empty()) return from_genes(genes);
  }
  throw Error("blocks space: no valid mutation of " + parent.text + " in " +
              std::to_string(kMaxDraws) + " draws");
}

Candidate BlocksSpace::crossover(const Candidate& a, const Candidate& b, Rng& rng) const {
  const size_t na = a.genes.size() / kBlockGenes, nb = b.genes.size() / kBlockGenes;
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    const size_t n = rng.uniform() < 0.5 ? na : nb;
    std::vector<int> genes;
    for (size_t i = 0; i < n; ++i) {
      const bool from_a = i >= nb || (i < na && rng.uniform() < 0.5);
      const std::vector<int>& source = from_a ? a.genes : b.genes;
      genes.insert(genes.end(), source.begin() + static_cast<std::ptrdiff_t>(i * kBlockGenes),
                   source.begin() + static_cast<std::ptrdiff_t>((i + 1) * kBlockGenes));
    }
    if (spec_problems(spec_of(genes)).empty()) return from_genes(genes);
  }
  return a;  // every mix left the space: the child is a copy of the first parent
}

std::shared_ptr<autograd::Module> BlocksSpace::build(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "blocks space: candidate " << c.text << " has no ArchSpec");
  return build_network(*c.arch);
}

double BlocksSpace::skip(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "blocks space: candidate " << c.text << " has no ArchSpec");
  return metrics::skip_fraction(*c.arch);
}

CostEstimate BlocksSpace::cost(const Candidate& c) const {
  PICONAS_CHECK(c.arch, "blocks space: candidate " << c.text << " has no ArchSpec");
  return estimate_cost(*c.arch, options_.deploy_memory, options_.deploy_max_sram);
}

}  // namespace piconas::nas::search
