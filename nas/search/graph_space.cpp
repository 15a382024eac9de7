#include "nas/search/graph_space.h"

#include "nas/arch/arch_text.h"
#include "nas/arch/graph_text.h"
#include "nas/builder.h"

namespace piconas::nas::search {

namespace {
[[noreturn]] void no_genes(const char* what) {
  throw Error(std::string("graph space: cannot ") + what +
              ": a graph network (an imported model) is one fixed layer list without genes; "
              "search its channel widths with `piconas dnas --method pit --init CKPT` "
              "(docs/onnx.md)");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

const ArchSpec& graph_of(const Candidate& c) {
  PICONAS_CHECK(c.arch, "graph space: candidate '" << c.text << "' has no architecture");
  return *c.arch;
}
}  // namespace

Candidate GraphSpace::sample(Rng&) const { no_genes("sample"); }
Candidate GraphSpace::mutate(const Candidate&, Rng&) const { no_genes("mutate"); }
Candidate GraphSpace::crossover(const Candidate&, const Candidate&, Rng&) const {
  no_genes("cross over");
}
Candidate GraphSpace::from_genes(const std::vector<int>&) const { no_genes("read genes"); }
std::vector<int> GraphSpace::decision_sizes() const { no_genes("give rl decisions"); }
Candidate GraphSpace::decode(const std::vector<int>&) const { no_genes("decode rl decisions"); }

std::vector<std::string> GraphSpace::problems(const Candidate& c) const {
  if (!c.arch) return {"no architecture"};
  std::vector<std::string> out = arch_problems(*c.arch);
  if (c.arch->input != options_.input)
    out.push_back("input " + shape3_str(c.arch->input) + ", the data has " +
                  shape3_str(options_.input));
  if (c.arch->num_classes != options_.num_classes)
    out.push_back(std::to_string(c.arch->num_classes) + " classes, the data has " +
                  std::to_string(options_.num_classes));
  return out;
}

Candidate GraphSpace::parse(std::string_view text) const {
  Candidate c;
  c.arch = parse_arch(std::string(text));
  c.text = to_text(*c.arch);
  const std::vector<std::string> p = problems(c);
  PICONAS_CHECK(p.empty(), "graph space: " << join(p));
  return c;
}

std::shared_ptr<autograd::Module> GraphSpace::build(const Candidate& c) const {
  return build_network(graph_of(c));
}

double GraphSpace::skip(const Candidate&) const {
  throw Error(
      "graph space: the skip metric is the residual fraction of a search space's blocks or "
      "cells, which a graph network does not have; leave it out of --metrics");
}

CostEstimate GraphSpace::cost(const Candidate& c) const {
  return estimate_cost(graph_of(c), options_.deploy_memory, options_.deploy_max_sram);
}

}  // namespace piconas::nas::search
