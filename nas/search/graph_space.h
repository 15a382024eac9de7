// The "graph" space: graph networks (ArchSpec::graph: an imported ONNX model or the JSON layer
// list of nas/arch/graph_text.h) of the options' input and classes, one network per text.
// It exists so that `piconas score` computes the training-free metrics and costs of such a
// network on the same scoring batch as the search spaces'. A graph network has no genes: sample,
// mutate, crossover, from_genes and the rl decisions throw a named Error (its channel widths
// are searched by `piconas dnas --method pit`, nas/dnas/graph_pit.h), and so does skip (the
// residual fraction of a space's blocks or cells; a layer list has neither). It scores any other
// fixed network the same way: a blocks or mbv2 text or a reference name with options that no
// search space's genes express (mobilenetv3-large: hidden widths and an fc layer).
#pragma once
#include "nas/search/search_space.h"

namespace piconas::nas::search {

class GraphSpace : public SearchSpace {
 public:
  explicit GraphSpace(const SpaceOptions& options) : options_(options) {}
  const char* name() const override { return "graph"; }
  Candidate sample(Rng& rng) const override;
  Candidate mutate(const Candidate& parent, Rng& rng) const override;
  Candidate crossover(const Candidate& a, const Candidate& b, Rng& rng) const override;
  std::vector<std::string> problems(const Candidate& c) const override;
  // A graph network's JSON or any architecture text; its input and classes must be the options'.
  Candidate parse(std::string_view text) const override;
  Candidate from_genes(const std::vector<int>& genes) const override;
  std::vector<int> decision_sizes() const override;
  Candidate decode(const std::vector<int>& decisions) const override;
  std::shared_ptr<autograd::Module> build(const Candidate& c) const override;
  double skip(const Candidate& c) const override;
  CostEstimate cost(const Candidate& c) const override;

 private:
  SpaceOptions options_;
};

}  // namespace piconas::nas::search
