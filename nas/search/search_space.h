// Search spaces behind one interface: a Candidate is a genotype in its canonical text form
// plus its integer genes (and, for block-based spaces, the ArchSpec it expands to).
//
// Genes (each space documents its own encoding):
//   blocks  7 per block, [kind, kernel, expansion, stride, out_channels, se, activation] (kind =
//           BlockKind as int; expansion is 1 for depthwise-separable blocks; se 0/1 and
//           activation 0 (the network's), 1 relu, 2 relu6, 3 hswish, both 0 for all but ir
//           blocks); length 7 * number of blocks.
//   mbv2    21 = 7 stages x [depth 1..4, expansion 1..6, index into kMbv2Channels].
//   nb201   6 op indices (see nb201_space.h), edge order 0->1, 0->2, 1->2, 0->3, 1->3, 2->3.
// The text is the candidate's identity: two candidates are the same genotype iff their texts
// are equal, and parse(text(c)) == c.
//
// sample/mutate/crossover return candidates that are valid members of the space (problems()
// empty); cost constraints are checked by the search, not here. mutate changes exactly one
// gene to a different value (blocks: also adds or drops the last block). crossover is uniform:
// every gene (blocks: every block) comes from one of the two parents.
// Architecture-only metrics: skip (docs/metrics.md section 2.5) and the cost model (cost_model.h).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/module.h"
#include "core/rng.h"
#include "nas/arch/arch_spec.h"
#include "nas/search/cost_model.h"

namespace piconas::nas::search {

struct Candidate {
  std::string text;
  std::vector<int> genes;
  std::optional<ArchSpec> arch;  // blocks and mbv2 spaces only
  bool operator==(const Candidate& other) const { return text == other.text; }
};

// Everything that is fixed for a whole search: the input, the classifier and, for the
// block-based spaces, the stem, head and activation around the searched blocks.
struct SpaceOptions {
  Shape3 input{1, 28, 28};
  int num_classes = 10;
  Activation activation = Activation::ReLU6;
  StemSpec stem{16, 3, 2};
  int head_channels = 0;
  int min_blocks = 3;  // blocks space only
  int max_blocks = 8;
  // blocks space: sample, mutate and grow with int8-deployable kinds only (ir, ds; never the
  // ConvNeXt kind cn). Set under a deployment budget (has_deployment_budget in search.h),
  // where every cn draw would be refused. Parsing still accepts cn blocks.
  bool int8_block_kinds_only = false;
  // blocks space: MobileNetV3's ir options. Sample, mutate and grow also draw an ir block's se
  // gene and its own activation (relu, relu6, hswish; int8-deployable all), and add
  // MobileNetV3's expansions {1,3} and widths {24,40,48} to the drawn values (so
  // mobilenetv3-small seeds a search). Off (the default), the draws are those of a space
  // without these genes, value for value; parsing accepts :se and block activations either way.
  bool ir_options = false;
  // The int8 memory model of cost() (estimate_cost): planner options (in-place depthwise,
  // patching) and the SRAM budget (0: none) the deployment will be planned for.
  deploy::PlanOptions deploy_memory;
  int64_t deploy_max_sram = 0;
};

class SearchSpace {
 public:
  virtual ~SearchSpace() = default;
  virtual const char* name() const = 0;
  virtual Candidate sample(Rng& rng) const = 0;
  virtual Candidate mutate(const Candidate& parent, Rng& rng) const = 0;
  virtual Candidate crossover(const Candidate& a, const Candidate& b, Rng& rng) const = 0;
  // Reasons the candidate is not a member of the space (empty = valid).
  virtual std::vector<std::string> problems(const Candidate& c) const = 0;
  // Parses a genotype text; throws Error on syntax errors or problems.
  virtual Candidate parse(std::string_view text) const = 0;
  // The candidate from its genes (text and arch filled in); throws Error on invalid genes.
  virtual Candidate from_genes(const std::vector<int>& genes) const = 0;
  // A fixed-length encoding for policies (the rl strategy, gene_policy.h): decision d takes a
  // value in [0, decision_sizes()[d]). decode maps such a vector to a candidate, or throws
  // Error when it leaves the space (e.g. more stride-2 blocks than the input allows).
  // blocks: [block count - min_blocks], then per block slot up to max_blocks [kind, kernel,
  // expansion, stride, channels] (with ir_options also [se, activation]) as indices into the
  // drawn values (slots past the count, the expansion of ds blocks and the ir options of other
  // kinds are ignored); mbv2 and nb201: one decision per gene.
  virtual std::vector<int> decision_sizes() const = 0;
  virtual Candidate decode(const std::vector<int>& decisions) const = 0;
  // The trainable network ([N, C, H, W] -> [N, classes]), parameters not yet initialised.
  virtual std::shared_ptr<autograd::Module> build(const Candidate& c) const = 0;
  virtual double skip(const Candidate& c) const = 0;
  virtual CostEstimate cost(const Candidate& c) const = 0;

  const std::string& text(const Candidate& c) const { return c.text; }
};

// "blocks", "mbv2", "nb201" or "graph" (graph networks, scored only: graph_space.h); throws
// Error listing the known names.
std::unique_ptr<SearchSpace> make_search_space(std::string_view name, const SpaceOptions& options);
std::vector<std::string> search_space_names();

// Metrics computed from the architecture alone: "skip", "params", "macs", "peak_sram", "flash".
// `cost` is space.cost(c), which the caller has already computed (the search for its
// constraints): a candidate's cost is computed once.
bool is_architecture_metric(std::string_view metric);
double architecture_metric(const SearchSpace& space, const Candidate& c, const CostEstimate& cost,
                           std::string_view metric);

// Shared helpers of the space implementations.
// A value drawn uniformly from `values` other than `current` (values must hold another one).
int draw_other(const std::vector<int>& values, int current, Rng& rng);
int draw_any(const std::vector<int>& values, Rng& rng);

}  // namespace piconas::nas::search
