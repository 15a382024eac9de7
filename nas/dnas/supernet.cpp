#include "nas/dnas/supernet.h"

#include <algorithm>

#include "autograd/functions.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"

namespace piconas::nas::dnas {

using autograd::BatchNorm2d;
using autograd::Conv2d;
using autograd::Module;
using autograd::Sequential;
using autograd::Variable;

CostKind parse_cost_kind(const std::string& name) {
  if (name == "params") return CostKind::Params;
  if (name == "macs") return CostKind::Macs;
  throw Error("unknown cost '" + name + "' (params, macs)");
}

std::string candidate_name(const Candidate& c) {
  if (c.identity) return "skip";
  std::string s = std::string(block_kind_name(c.kind)) + ":k" + std::to_string(c.kernel);
  if (has_expansion(c.kind)) s.append("e").append(std::to_string(c.expansion));
  return s;
}

std::vector<Candidate> parse_candidates(const std::string& text) {
  if (text == "plinio") return parse_candidates(kPlinioCandidates);
  std::vector<Candidate> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    Candidate c;
    if (item == "skip") {
      c.identity = true;
    } else {
      // Reuse the blocks-text grammar: "<kind>:k<K>[e<T>]" plus a dummy stride/width.
      const std::string probe =
          "blocks:in=1x8x8,classes=2,act=relu,stem=8k3s1|" + item + "s1c8|head=0";
      ArchSpec spec;
      try {
        spec = parse_blocks(probe);
      } catch (const Error&) {
        throw Error("candidate '" + item +
                    "' is not of the form ds:k3, cv:k3, rb:k3, ir:k5e2, cn:k7e4 or skip");
      }
      const BlockSpec& b = spec.blocks.at(0);
      c.kind = b.kind;
      c.kernel = b.kernel;
      c.expansion = b.expansion;
    }
    out.push_back(c);
    start = end + 1;
  }
  PICONAS_CHECK(!out.empty(), "empty candidate list");
  return out;
}

std::vector<int64_t> MaskGroup::alive() const {
  const std::vector<double> g = gamma.value().to_vector();
  std::vector<int64_t> keep;
  for (size_t c = 0; c < g.size(); ++c)
    if (g[c] >= 0.5) keep.push_back(static_cast<int64_t>(c));
  if (keep.empty()) keep.push_back(std::max_element(g.begin(), g.end()) - g.begin());
  return keep;
}

SuperNet::SuperNet(std::vector<Candidate> candidates, const BlockSpec& seed, int64_t in_channels,
                   Activation act, std::shared_ptr<const SelectionState> selection)
    : seed_(seed), in_channels_(in_channels), selection_(std::move(selection)) {
  for (const Candidate& c : candidates) {
    if (c.identity && (seed.stride != 1 || in_channels != seed.out_channels)) continue;
    candidates_.push_back(c);
  }
  PICONAS_CHECK(!candidates_.empty(), "SuperNet: no candidate fits a block with stride "
                                          << seed.stride << " and " << in_channels << " -> "
                                          << seed.out_channels << " channels");
  for (size_t j = 0; j < candidates_.size(); ++j) {
    std::shared_ptr<Module> branch;
    if (!candidates_[j].identity)
      branch = register_module(std::string("branches.").append(std::to_string(j)),
                               build_block(spec_of(static_cast<int64_t>(j)), in_channels, act));
    branches_.push_back(branch);
  }
  if (candidates_.size() > 1)
    alpha_ = Variable(Tensor::zeros({static_cast<int64_t>(candidates_.size())}), true);
}

SuperNet::SuperNet(std::vector<Candidate> candidates, std::vector<std::shared_ptr<Module>> branches,
                   int64_t in_channels, int out_channels,
                   std::shared_ptr<const SelectionState> selection)
    : candidates_(std::move(candidates)),
      in_channels_(in_channels),
      branches_(std::move(branches)),
      selection_(std::move(selection)),
      prebuilt_(true) {
  PICONAS_CHECK(!candidates_.empty() && candidates_.size() == branches_.size(),
                "SuperNet: " << candidates_.size() << " candidates for " << branches_.size()
                             << " branches");
  seed_.out_channels = out_channels;
  for (size_t j = 0; j < branches_.size(); ++j) {
    PICONAS_CHECK(candidates_[j].identity == (branches_[j] == nullptr),
                  "SuperNet: branch " << j << " (" << candidate_name(candidates_[j])
                                      << ") has no module, or the identity has one");
    if (branches_[j])
      register_module(std::string("branches.").append(std::to_string(j)), branches_[j]);
  }
  if (candidates_.size() > 1)
    alpha_ = Variable(Tensor::zeros({static_cast<int64_t>(candidates_.size())}), true);
}

BlockSpec SuperNet::spec_of(int64_t branch) const {
  PICONAS_CHECK(!prebuilt_, "SuperNet: the branches of a graph network's layer are not blocks");
  const Candidate& c = candidates_.at(static_cast<size_t>(branch));
  PICONAS_CHECK(!c.identity, "SuperNet: branch " << branch << " is the identity, not a block");
  BlockSpec b = seed_;
  b.kind = c.kind;
  b.kernel = c.kernel;
  b.expansion = has_expansion(c.kind) ? c.expansion : 1;
  return b;
}

int64_t SuperNet::argmax() const {
  if (!alpha_.defined()) return 0;
  const std::vector<double> a = alpha_.value().to_vector();
  return std::max_element(a.begin(), a.end()) - a.begin();
}

void SuperNet::set_masks(std::shared_ptr<MaskGroup> in, std::shared_ptr<MaskGroup> out) {
  in_group_ = std::move(in);
  out_group_ = std::move(out);
}

Variable SuperNet::forward(const Variable& x) {
  const Variable in_mask = in_group_ ? in_group_->mask : Variable();
  const Variable out_mask = out_group_ ? out_group_->mask : Variable();
  auto run = [&](int64_t j) {
    if (!branches_[j]) return x;
    return forward_masked(*branches_[j], x, in_mask, out_mask);
  };
  if (!alpha_.defined()) {
    theta_ = Variable(Tensor::full({1}, 1.0, x.dtype()));
    return run(0);
  }
  theta_ = mix_weights(alpha_, selection_->mode, selection_->temperature, selection_->rng);
  const bool one_hot =
      selection_->mode == SelectionMode::HardGumbel || selection_->mode == SelectionMode::Argmax;
  if (one_hot && !autograd::grad_enabled()) {
    const std::vector<double> t = theta_.value().to_vector();
    return run(std::max_element(t.begin(), t.end()) - t.begin());
  }
  std::vector<Variable> outputs;
  for (int64_t j = 0; j < size(); ++j) outputs.push_back(run(j));
  return weighted_sum(theta_, outputs);
}

namespace {
// A basic residual block (builder.cpp, BasicResidual: children [shortcut], body, act): every
// width inside it is the block's output width, so the out mask follows each BatchNorm of the
// body and the projection shortcut (which has no BatchNorm); act(shortcut(x) + body(x)).
Variable forward_basic_masked(Module& block, const Variable& x, const Variable& out_mask) {
  Module *shortcut = nullptr, *body = nullptr, *act = nullptr;
  for (const auto& [name, m] : block.children())
    (name == "shortcut" ? shortcut : name == "body" ? body : act) = m.get();
  PICONAS_CHECK(body && act, "forward_masked: a basic residual block without body or act");
  Variable y = x;
  for (const auto& [name, layer] : body->children()) {
    y = (*layer)(y);
    if (dynamic_cast<BatchNorm2d*>(layer.get()) && out_mask.defined())
      y = channel_mask(y, out_mask);
  }
  Variable skip = x;
  if (shortcut) {
    skip = (*shortcut)(x);
    if (out_mask.defined()) skip = channel_mask(skip, out_mask);
  }
  return (*act)(autograd::add(skip, y));
}
}  // namespace

Variable forward_masked(Module& stack, const Variable& x, const Variable& in_mask,
                        const Variable& out_mask) {
  if (!in_mask.defined() && !out_mask.defined()) return stack(x);
  if (std::string(stack.kind()) == "basic_residual") return forward_basic_masked(stack, x, out_mask);
  const bool residual = std::string(stack.kind()) == "residual";
  Module& body = residual ? *stack.children().at(0).second : stack;
  const auto& layers = body.children();
  size_t last_dense = layers.size();
  for (size_t i = 0; i < layers.size(); ++i)
    if (auto* conv = dynamic_cast<Conv2d*>(layers[i].second.get());
        conv && conv->options().groups == 1)
      last_dense = i;
  Variable current = in_mask, y = x;
  for (size_t i = 0; i < layers.size(); ++i) {
    Module& layer = *layers[i].second;
    if (auto* conv = dynamic_cast<Conv2d*>(&layer); conv && conv->options().groups == 1) {
      const auto& o = conv->options();
      if (i == last_dense)
        current = out_mask;
      else
        current =
            in_mask.defined() ? expand_mask(in_mask, o.out_channels / o.in_channels) : Variable();
    }
    PICONAS_CHECK(std::string(layer.kind()) != "layernorm2d" || !current.defined(),
                  "forward_masked: channel masks cannot precede a LayerNorm (ConvNeXt blocks)");
    y = layer(y);
    if (dynamic_cast<BatchNorm2d*>(&layer) && current.defined()) y = channel_mask(y, current);
  }
  return residual ? autograd::add(x, y) : y;
}

namespace {
std::shared_ptr<MaskGroup> make_group(const std::string& name, int64_t channels) {
  auto g = std::make_shared<MaskGroup>();
  g->name = name;
  g->gamma = Variable(Tensor::full({channels}, 1.0), true);
  return g;
}
}  // namespace

DnasNetwork::DnasNetwork(const ArchSpec& seed, const DnasConfig& config)
    : seed_(seed), config_(config), selection_(std::make_shared<SelectionState>()) {
  // The SuperNet's blocks and classifier have no MobileNetV3 options: refuse a seed that uses
  // them rather than silently dropping them.
  PICONAS_CHECK(seed.classifier_hidden == 0,
                "DNAS: the seed has a hidden classifier layer (fc=" << seed.classifier_hidden
                                                                   << "), which the SuperNet lacks");
  for (size_t i = 0; i < seed.blocks.size(); ++i) {
    const BlockSpec& b = seed.blocks[i];
    PICONAS_CHECK(!b.se && !b.activation && b.hidden == 0,
                  "DNAS: seed block " << i
                                      << " has :se, its own activation or a hidden width (h), "
                                         "which the SuperNet's candidates lack");
  }
  // Stem, head and the block input shapes come from the one lowering of the seed.
  const std::vector<LayerInfo> rows = arch_layers(seed);
  stem_ = std::make_shared<Sequential>();
  for (const LayerInfo& row : rows)
    if (row.path.rfind("stem.", 0) == 0) stem_->add(build_module(row));
  register_module("stem", stem_);
  if (config.pit) groups_.push_back(stem_group_ = make_group("stem", seed.stem.out_channels));
  int64_t channels = seed.stem.out_channels;
  auto blocks = register_module("blocks", std::make_shared<Sequential>());
  std::shared_ptr<MaskGroup> group = stem_group_;
  for (size_t i = 0; i < seed.blocks.size(); ++i) {
    const BlockSpec& b = seed.blocks[i];
    std::vector<Candidate> cands;
    if (config.supernet && !config.candidates.empty())
      cands = config.candidates;
    else
      cands.push_back({b.kind, b.kernel, b.expansion, false});
    if (config.pit)
      for (const Candidate& c : cands)
        PICONAS_CHECK(c.identity || c.kind != BlockKind::ConvNeXt,
                      "PIT does not support ConvNeXt blocks (block "
                          << i << "): masks before a LayerNorm change its statistics");
    auto sn = std::make_shared<SuperNet>(cands, b, channels, seed.activation, selection_);
    if (config.pit) {
      const bool shared = b.stride == 1 && channels == b.out_channels;
      auto out =
          shared ? group : make_group(std::string("b").append(std::to_string(i)), b.out_channels);
      if (!shared) groups_.push_back(out);
      sn->set_masks(group, out);
      group = out;
    }
    const auto first = std::find_if(rows.begin(), rows.end(), [&](const LayerInfo& row) {
      return row.block == static_cast<int>(i);
    });
    block_inputs_.push_back(first->input);
    channels = b.out_channels;
    blocks->add(sn);
    blocks_.push_back(sn);
  }
  if (seed.head_channels > 0) {
    head_ = std::make_shared<Sequential>();
    for (const LayerInfo& row : rows)
      if (row.path.rfind("head.", 0) == 0) head_->add(build_module(row));
    register_module("head", head_);
    if (config.pit) groups_.push_back(head_group_ = make_group("head", seed.head_channels));
    channels = seed.head_channels;
  }
  pool_ = register_module("pool", std::make_shared<autograd::GlobalAvgPool>());
  classifier_ =
      register_module("classifier", std::make_shared<autograd::Linear>(channels, seed.num_classes));
}

std::shared_ptr<Module> DnasNetwork::child(const std::string& name) const {
  for (const auto& [n, m] : children())
    if (n == name) return m;
  return nullptr;
}

Variable DnasNetwork::forward(const Variable& x) {
  for (const auto& g : groups_) g->mask = binarize_mask(g->gamma);
  Variable y = forward_masked(*stem_, x, Variable(), stem_group_ ? stem_group_->mask : Variable());
  for (const auto& b : blocks_) y = (*b)(y);
  if (head_) {
    const auto& last = blocks_.empty() ? stem_group_ : blocks_.back()->out_group();
    y = forward_masked(*head_, y, last ? last->mask : Variable(),
                       head_group_ ? head_group_->mask : Variable());
  }
  return (*classifier_)((*pool_)(y));
}

std::vector<Variable> DnasNetwork::arch_parameters() const {
  std::vector<Variable> out;
  for (const auto& b : blocks_)
    if (b->alpha().defined()) out.push_back(b->alpha());
  for (const auto& g : groups_) out.push_back(g->gamma);
  return out;
}

Variable DnasNetwork::icv_total() const {
  Variable total(Tensor::zeros({1}));
  for (const auto& b : blocks_)
    if (b->alpha().defined()) {
      PICONAS_CHECK(b->theta().defined(), "icv_total: call forward() first");
      total = autograd::add(total, icv(b->theta()));
    }
  return total;
}

void clamp_gammas(const std::vector<std::shared_ptr<MaskGroup>>& groups) {
  for (const auto& g : groups) {
    Tensor& t = g->gamma.value();
    for (int64_t c = 0; c < t.numel(); ++c) t.set(c, std::clamp(t.get(c), 0.0, 1.0));
  }
}

void DnasNetwork::clamp_masks() { clamp_gammas(groups_); }

void DnasNetwork::load_plain_state(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> mapped;
  for (const auto& [name, tensor] : this->state()) {
    std::string plain = name;
    if (name.rfind("blocks.", 0) == 0) {
      const size_t dot = name.find('.', 7);
      const std::string prefix = name.substr(0, dot + 1) + "branches.0.";
      PICONAS_CHECK(name.rfind(prefix, 0) == 0,
                    "load_plain_state: '" << name << "' is not the single branch of its block");
      plain = name.substr(0, dot + 1);
      plain.append(name, prefix.size(), std::string::npos);
    }
    auto it = state.find(plain);
    PICONAS_CHECK(it != state.end(),
                  "load_plain_state: no tensor '" << plain << "' for '" << name << "'");
    mapped[name] = it->second;
  }
  load_state(mapped);
}

}  // namespace piconas::nas::dnas
