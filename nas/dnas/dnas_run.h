// The whole DNAS pipeline behind `piconas dnas`: for each lambda of a sweep, search
// (SuperNet, PIT, both at once, or PIT after a SuperNet search), export to a blocks-space
// architecture (a graph network for a graph seed), fine-tune the exported network from its inherited weights, test it and save
// it as a piconas-model checkpoint that `piconas export` turns into int8 C.
//
// Files under out_dir (lambda directories are named "lambda_<value>"):
//   lambda_*/search.csv     epoch, stage, temperature, loss, train accuracy, cost, arch trained
//   lambda_*/alphas.csv     epoch, block, branch, candidate, alpha, theta = softmax(alpha / T)
//   lambda_*/masks.csv      epoch, group, alive, channels
//   lambda_*/arch.txt       the exported architecture (blocks text, or a graph network's JSON)
//   lambda_*/model.ckpt     fine-tuned weights + metadata (nas/deploy/export.h contract)
//   results.csv             lambda, arch, params, macs, test accuracy before and after fine-tuning
//   pareto.svg              cost (params or MACs, log scale) vs test accuracy, front highlighted
// Under MPI (search.communicator = finetune.communicator with several ranks) every rank runs
// run_dnas with the same options; the search and fine-tuning steps are data-parallel
// (dnas_search.h), rank 0 logs and writes every file.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "nas/dnas/dnas_search.h"

namespace piconas::nas::dnas {

enum class DnasMethod { SuperNet, Pit, PitSuperNet, PitAfterSuperNet };
// "supernet", "pit", "pitsupernet", "pit-after-supernet"
DnasMethod parse_dnas_method(const std::string& name);
const char* dnas_method_name(DnasMethod method);

inline constexpr const char* kBlockCandidates = "ds:k3,ds:k5,ds:k7,ir:k3e2,skip";

struct RunOptions {
  std::string seed_arch = "tiny-bench";  // "" with init_checkpoint: the checkpoint's
  // A model checkpoint whose weights (and input normalisation) the search starts from; its
  // architecture is the seed (an imported network included). PIT only.
  std::string init_checkpoint;
  DnasMethod method = DnasMethod::SuperNet;
  // SuperNet candidates (parse_candidates); "": kBlockCandidates for a block seed, plinio for a
  // graph seed (nas/dnas/graph_supernet.h).
  std::string candidates;
  std::vector<double> lambdas{0.0};
  SearchOptions search;
  FinetuneOptions finetune;
  std::string dataset = "fashion-mnist";
  std::string data_path;     // "" = the dataset's default location
  int64_t train_images = 0;  // first N training images (0: all)
  int64_t test_images = 0;   // first N test images (0: all)
  std::string out_dir;
};

struct RunPoint {
  double lambda = 0.0;
  std::string arch;
  int64_t params = 0, macs = 0;
  double search_accuracy = 0.0;  // exported network with inherited weights, before fine-tuning
  double test_accuracy = 0.0;    // after fine-tuning
  std::string checkpoint;
};

// log receives progress lines (no trailing newline).
std::vector<RunPoint> run_dnas(const RunOptions& options,
                               const std::function<void(const std::string&)>& log);

// The architecture text, or for a graph network (one long JSON line) its searched widths:
// "graph conv1=16k3 dw=16g16k3 pw=12 ...", one entry per conv: its output channels, then its
// groups where not 1 and its kernel where not 1x1.
std::string arch_label(const ArchSpec& arch);

// Hand-written SVG 1.1 scatter of the points: x = params or MACs (log scale), y = accuracy.
std::string sweep_svg(const std::vector<RunPoint>& points, CostKind cost, const std::string& title);

}  // namespace piconas::nas::dnas
