// DnasNetwork: a blocks-space network whose blocks are SuperNets (a choice among candidate
// blocks, weighted by theta = selection(alpha)) and/or carry PIT channel masks.
//
// Structure (children named like build_network's, so weights map one to one):
//   stem (conv-BN-act) | blocks.i = SuperNet | head (optional) | pool | classifier.
// SuperNet i holds the candidate branches "branches.j" (each built by build_block from a
// BlockSpec with the seed block's stride and out_channels, so all outputs have one shape; every
// branch has its own BatchNorms) or an identity branch ("skip", when stride 1 and in == out).
// Its output is sum_j theta_j * branch_j(x). A seed block with one candidate has no alpha.
//
// PIT: one mask group per distinct channel width: the stem output, each block output, the head
// output. A block whose input and output must match channel for channel (a residual or an
// identity candidate) shares its input's group. A group holds gamma [C] (init 1, trained) and
// its binarised mask b = binarize_mask(gamma) (>= 0.5, straight-through, one channel always
// kept). Masks are applied right after every BatchNorm: the layer producing the group's
// channels uses the output group, depthwise layers follow their input group, and the hidden
// channels of an expanded block follow the input channel they come from (expand_mask), so the
// alive hidden width is always in_alive * t, which the blocks space can express.
//
// Architectural parameters (alphas, gammas) are NOT module parameters: parameters() lists the
// weights only (for SGD) and arch_parameters() the rest (for Adam).
// cost() and icv_total() use the selection and masks of the latest forward() (so call them
// after forward): cost = stem + sum_i sum_j theta_ij * cost(branch_ij | alive in, alive out)
// + head + classifier, a differentiable scalar [1] in parameters or MACs per image, equal to
// arch_cost() of the exported network when the selection is one-hot.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/layers.h"
#include "nas/arch/arch_spec.h"
#include "nas/dnas/mixing.h"

namespace piconas::nas::dnas {

enum class CostKind { Params, Macs };
CostKind parse_cost_kind(const std::string& name);  // "params" | "macs"

// A candidate block: kind, kernel and expansion; stride and out_channels come from the seed
// block. identity: the skip candidate. Text "ds:k3", "cv:k3", "rb:k3", "ir:k5e2", "cn:k7e4",
// "skip".
struct Candidate {
  BlockKind kind = BlockKind::DepthwiseSeparable;
  int kernel = 3;
  int expansion = 1;
  bool identity = false;
  bool operator==(const Candidate&) const = default;
};
std::string candidate_name(const Candidate& c);
// Comma-separated candidate list, or "plinio" (kPlinioCandidates); unknown or malformed
// entries throw Error.
std::vector<Candidate> parse_candidates(const std::string& text);
// The SuperNet of the PLiNIO study on the MLPerf Tiny networks: per replaced block a conv 3x3,
// a conv 5x5, a depthwise-separable 3x3 or the identity (where stride 1 and widths agree).
inline constexpr const char* kPlinioCandidates = "cv:k3,cv:k5,ds:k3,skip";

struct DnasConfig {
  bool supernet = true;               // each seed block becomes a choice among `candidates`
  bool pit = false;                   // channel masks on every width
  std::vector<Candidate> candidates;  // empty: the seed block alone
};

struct SelectionState {
  SelectionMode mode = SelectionMode::Softmax;
  double temperature = 1.0;
  Rng* rng = nullptr;  // Gumbel modes
};

struct MaskGroup {
  std::string name;                    // "stem", "b3", "head"
  autograd::Variable gamma;            // [C], requires grad
  autograd::Variable mask;             // binarised in the latest forward
  std::vector<int64_t> alive() const;  // indices with gamma >= 0.5 (or the largest one)
};

class SuperNet : public autograd::Module {
 public:
  SuperNet(std::vector<Candidate> candidates, const BlockSpec& seed, int64_t in_channels,
           Activation act, std::shared_ptr<const SelectionState> selection);
  // A choice among prebuilt branches of one output shape (nullptr exactly for the identity
  // candidates): the layers of a graph network (nas/dnas/graph_supernet.h). Its spec_of throws.
  SuperNet(std::vector<Candidate> candidates,
           std::vector<std::shared_ptr<autograd::Module>> branches, int64_t in_channels,
           int out_channels, std::shared_ptr<const SelectionState> selection);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "supernet"; }

  int64_t size() const { return static_cast<int64_t>(candidates_.size()); }
  const std::vector<Candidate>& candidates() const { return candidates_; }
  BlockSpec spec_of(int64_t branch) const;  // identity: not a block (throws)
  // The branch module (nullptr for identity).
  std::shared_ptr<autograd::Module> branch(int64_t index) const { return branches_[index]; }
  autograd::Variable alpha() const { return alpha_; }  // a handle; undefined when size() == 1
  const autograd::Variable& theta() const { return theta_; }  // of the latest forward
  int64_t argmax() const;
  int64_t in_channels() const { return in_channels_; }
  int out_channels() const { return seed_.out_channels; }
  // PIT wiring (set by DnasNetwork); null: all channels alive.
  void set_masks(std::shared_ptr<MaskGroup> in, std::shared_ptr<MaskGroup> out);
  const std::shared_ptr<MaskGroup>& in_group() const { return in_group_; }
  const std::shared_ptr<MaskGroup>& out_group() const { return out_group_; }

 private:
  std::vector<Candidate> candidates_;
  BlockSpec seed_;
  int64_t in_channels_;
  std::vector<std::shared_ptr<autograd::Module>> branches_;
  std::shared_ptr<const SelectionState> selection_;
  autograd::Variable alpha_, theta_;
  std::shared_ptr<MaskGroup> in_group_, out_group_;
  bool prebuilt_ = false;  // the branches of a graph network's layer, not blocks
};

// Runs a conv/BN/act stack (a Sequential, or a Residual around one) applying masks after every
// BatchNorm as described above. in/out: undefined Variables mean "no mask".
autograd::Variable forward_masked(autograd::Module& stack, const autograd::Variable& x,
                                  const autograd::Variable& in_mask,
                                  const autograd::Variable& out_mask);

// What the search loop (dnas_search.h) trains: a DnasNetwork (block seeds), a GraphPitNetwork
// or a GraphSuperNetwork (graph seeds, nas/dnas/graph_pit.h, graph_supernet.h). parameters()
// are the weights; the architectural
// parameters (alphas, gammas) are listed by arch_parameters().
class SearchNetwork : public autograd::Module {
 public:
  virtual SelectionState& selection() = 0;
  virtual const std::vector<std::shared_ptr<SuperNet>>& blocks() const = 0;  // may be empty
  // Distinct mask groups (empty without PIT).
  virtual const std::vector<std::shared_ptr<MaskGroup>>& groups() const = 0;
  virtual std::vector<autograd::Variable> arch_parameters() const = 0;  // alphas, then gammas
  virtual autograd::Variable cost(CostKind kind) const = 0;
  // Sum of ICV over SuperNets with alpha; [1] zero when none.
  virtual autograd::Variable icv_total() const = 0;
  // Clamps gammas to [0, 1] (called after each architecture step).
  virtual void clamp_masks() = 0;
};

// Clamps every gamma of the groups to [0, 1].
void clamp_gammas(const std::vector<std::shared_ptr<MaskGroup>>& groups);

class DnasNetwork : public SearchNetwork {
 public:
  DnasNetwork(const ArchSpec& seed, const DnasConfig& config);
  autograd::Variable forward(const autograd::Variable& x) override;
  const char* kind() const override { return "dnas_network"; }

  const ArchSpec& seed() const { return seed_; }
  const DnasConfig& config() const { return config_; }
  SelectionState& selection() override { return *selection_; }
  const std::vector<std::shared_ptr<SuperNet>>& blocks() const override { return blocks_; }
  // Distinct mask groups (empty without PIT), stem first.
  const std::vector<std::shared_ptr<MaskGroup>>& groups() const override { return groups_; }
  std::shared_ptr<MaskGroup> stem_group() const { return stem_group_; }
  std::shared_ptr<MaskGroup> head_group() const { return head_group_; }
  std::shared_ptr<autograd::Module> child(const std::string& name) const;

  std::vector<autograd::Variable> arch_parameters() const override;  // alphas, then gammas
  autograd::Variable cost(CostKind kind) const override;
  autograd::Variable icv_total() const override;
  void clamp_masks() override;
  // Loads weights saved from build_network(arch) where arch has the seed's structure
  // (one candidate per block equal to the seed block): "PIT after SuperNet".
  void load_plain_state(const std::map<std::string, Tensor>& state);

 private:
  ArchSpec seed_;
  DnasConfig config_;
  std::shared_ptr<SelectionState> selection_;
  std::vector<std::shared_ptr<SuperNet>> blocks_;
  std::vector<Shape3> block_inputs_;  // per image, full widths
  std::vector<std::shared_ptr<MaskGroup>> groups_;
  std::shared_ptr<MaskGroup> stem_group_, head_group_;
  std::shared_ptr<autograd::Sequential> stem_, head_;  // head_ null without a head conv
  std::shared_ptr<autograd::Module> pool_, classifier_;
};

// A one-element constant of the differentiable cost expressions (supernet_cost.cpp, graph PIT,
// graph SuperNet).
autograd::Variable cost_constant(double value);

}  // namespace piconas::nas::dnas
