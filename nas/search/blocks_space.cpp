#include "nas/search/blocks_space.h"

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

std::string join(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace

BlocksSpace::BlocksSpace(const SpaceOptions& options)
    : options_(options), kinds_(options.int8_block_kinds_only ? kInt8Kinds : kKinds) {
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
    spec.blocks.push_back(
        {static_cast<BlockKind>(genes[i]), genes[i + 1], genes[i + 2], genes[i + 3], genes[i + 4]});
  }
  return spec;
}

std::vector<std::string> BlocksSpace::spec_problems(const ArchSpec& spec) const {
  std::vector<std::string> problems = blocks_space_problems(spec);
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
  for (int b = 0; b < options_.max_blocks; ++b)
    for (const auto* values : {&kinds_, &kKernels, &kExpansions, &kStrides, &kChannels})
      sizes.push_back(static_cast<int>(values->size()));
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
  std::vector<int> genes;
  for (int b = 0; b < n; ++b) {
    const int* d = &decisions[1 + static_cast<size_t>(b) * kBlockGenes];
    const int kind = kinds_[d[0]];
    genes.insert(genes.end(), {kind, kKernels[d[1]], fixed_expansion(kind) ? 1 : kExpansions[d[2]],
                               kStrides[d[3]], kChannels[d[4]]});
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
  PICONAS_CHECK(problems.empty(), "blocks space: '" << text << "': " << join(problems));
  // The genes have no field for MobileNetV3's ir options: refuse rather than drop them.
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    PICONAS_CHECK(!spec.blocks[i].se && !spec.blocks[i].activation,
                  "blocks space: '" << text << "': block " << i
                                    << " has an :se or activation option, which the blocks "
                                       "space's genes cannot hold (score or train it instead)");
  std::vector<int> genes;
  for (const BlockSpec& b : spec.blocks) {
    for (int g : {static_cast<int>(b.kind), b.kernel, b.expansion, b.stride, b.out_channels})
      genes.push_back(g);
  }
  return from_genes(genes);
}

std::vector<int> BlocksSpace::random_block(Rng& rng) const {
  const int kind = draw_any(kinds_, rng);
  const int kernel = draw_any(kKernels, rng);
  const int expansion = fixed_expansion(kind) ? 1 : draw_any(kExpansions, rng);
  const int stride = draw_any(kStrides, rng);
  const int channels = draw_any(kChannels, rng);
  return {kind, kernel, expansion, stride, channels};
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
  for (int b = 0; b < n; ++b)
    for (int f = 0; f < kBlockGenes; ++f)
      if (f != 2 || !fixed_expansion(parent.genes[b * kBlockGenes])) sites.emplace_back(b, f);
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
            block[2] = draw_any(kExpansions, rng);
          block[0] = kind;
          break;
        }
        case 1:
          block[1] = draw_other(kKernels, block[1], rng);
          break;
        case 2:
          block[2] = draw_other(kExpansions, block[2], rng);
          break;
        case 3:
          block[3] = draw_other(kStrides, block[3], rng);
          break;
        default:
          block[4] = draw_other(kChannels, block[4], rng);
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
