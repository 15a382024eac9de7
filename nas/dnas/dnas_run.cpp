#include "nas/dnas/dnas_run.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/distributed.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/checkpoint.h"
#include "nas/dnas/dnas_export.h"
#include "nas/dnas/graph_pit.h"
#include "nas/dnas/graph_supernet.h"
#include "nas/train/model_io.h"

namespace piconas::nas::dnas {

DnasMethod parse_dnas_method(const std::string& name) {
  if (name == "supernet") return DnasMethod::SuperNet;
  if (name == "pit") return DnasMethod::Pit;
  if (name == "pitsupernet") return DnasMethod::PitSuperNet;
  if (name == "pit-after-supernet") return DnasMethod::PitAfterSuperNet;
  throw Error("unknown DNAS method '" + name +
              "' (supernet, pit, pitsupernet, pit-after-supernet)");
}

const char* dnas_method_name(DnasMethod method) {
  switch (method) {
    case DnasMethod::SuperNet:
      return "supernet";
    case DnasMethod::Pit:
      return "pit";
    case DnasMethod::PitSuperNet:
      return "pitsupernet";
    case DnasMethod::PitAfterSuperNet:
      return "pit-after-supernet";
  }
  throw Error("invalid DnasMethod");
}

namespace {
std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// CSV tables of one lambda, appended epoch by epoch (written by rank 0 only).
struct Tables {
  std::ofstream search, alphas, masks;
  Tables(const std::string& dir, bool write) {
    if (!write) return;
    search.open(dir + "/search.csv");
    alphas.open(dir + "/alphas.csv");
    masks.open(dir + "/masks.csv");
    PICONAS_CHECK(search && alphas && masks, "cannot write the tables in '" << dir << "'");
    search << "epoch,stage,temperature,loss,train_accuracy,cost,arch_trained\n";
    alphas << "epoch,stage,block,branch,candidate,alpha,theta\n";
    masks << "epoch,stage,group,alive,channels\n";
  }
  void record(const SearchNetwork& net, const EpochReport& r, const std::string& stage) {
    if (!search.is_open()) return;
    search << r.epoch << ',' << stage << ',' << fmt(r.temperature) << ',' << fmt(r.loss) << ','
           << fmt(r.accuracy) << ',' << fmt(r.cost) << ',' << (r.arch_trained ? 1 : 0) << '\n';
    for (size_t i = 0; i < net.blocks().size(); ++i) {
      const SuperNet& sn = *net.blocks()[i];
      if (!sn.alpha().defined()) continue;
      const std::vector<double> theta = softmax_values(sn.alpha().value(), r.temperature);
      for (int64_t j = 0; j < sn.size(); ++j)
        alphas << r.epoch << ',' << stage << ',' << i << ',' << j << ','
               << candidate_name(sn.candidates()[j]) << ',' << fmt(sn.alpha().value().get(j)) << ','
               << fmt(theta[j]) << '\n';
    }
    for (const auto& g : net.groups())
      masks << r.epoch << ',' << stage << ',' << g->name << ',' << g->alive().size() << ','
            << g->gamma.value().numel() << '\n';
    search.flush();
    alphas.flush();
    masks.flush();
  }
};

TrainData subset(const data::Dataset& d, int64_t limit, const data::Normalization& norm) {
  TrainData t;
  t.dataset = &d;
  const int64_t n = limit > 0 ? std::min(limit, d.count) : d.count;
  for (int64_t i = 0; i < n; ++i) t.indices.push_back(i);
  t.normalization = norm;
  return t;
}

DnasExport search_stage(SearchNetwork& net, const TrainData& train, const SearchOptions& o,
                        Tables& tables, const std::string& stage,
                        const std::function<void(const std::string&)>& log) {
  search_supernet(net, train, o, [&](const EpochReport& r) {
    tables.record(net, r, stage);
    std::ostringstream line;
    line << "  " << stage << " epoch " << r.epoch << "  T " << fmt(r.temperature) << "  loss "
         << fmt(r.loss) << "  acc " << fmt(r.accuracy) << "  cost " << fmt(r.cost);
    bool first = true;
    for (const auto& sn : net.blocks())
      if (sn->size() > 1) {
        line << (first ? "  choice [" : " ") << candidate_name(sn->candidates()[sn->argmax()]);
        first = false;
      }
    if (!first) line << "]";
    first = true;
    for (const auto& g : net.groups()) {
      line << (first ? "  alive [" : " ") << g->alive().size();
      first = false;
    }
    if (!first) line << "]";
    log(line.str());
  });
  if (auto* graph = dynamic_cast<GraphPitNetwork*>(&net)) return export_graph_network(*graph);
  if (auto* graph = dynamic_cast<GraphSuperNetwork*>(&net)) return export_graph_supernet(*graph);
  return export_network(dynamic_cast<DnasNetwork&>(net));
}

// The candidate list: --candidates, or by default ds:k3,ds:k5,ds:k7,ir:k3e2,skip for a block seed
// and plinio for a graph seed.
std::string candidates_of(const RunOptions& o, const ArchSpec& seed) {
  if (!o.candidates.empty()) return o.candidates;
  return seed.graph.empty() ? kBlockCandidates : "plinio";
}

// The seed architecture and, with --init, its trained weights and input normalisation.
struct Seed {
  ArchSpec arch;
  std::map<std::string, Tensor> state;  // empty: fresh weights
  std::optional<data::Normalization> normalization;
};

Seed load_seed(const RunOptions& o) {
  Seed seed;
  if (o.init_checkpoint.empty()) {
    PICONAS_CHECK(!o.seed_arch.empty(), "dnas: no seed architecture (--seed-arch or --init)");
    seed.arch = parse_arch(o.seed_arch);
  } else {
    const train::LoadedModel model = train::load_model(o.init_checkpoint);
    seed.arch = model.arch;
    PICONAS_CHECK(
        o.seed_arch.empty() || parse_arch(o.seed_arch) == seed.arch,
        "dnas: --seed-arch differs from the architecture of '" << o.init_checkpoint << "'");
    PICONAS_CHECK(o.method == DnasMethod::Pit,
                  "dnas: --init '" << o.init_checkpoint << "' starts from trained weights, which "
                                   << "only --method pit keeps (the SuperNet's branches are new)");
    seed.state = model.module->state();
    seed.normalization = model.normalization;
  }
  PICONAS_CHECK(seed.arch.graph.empty() || o.method != DnasMethod::PitSuperNet,
                "dnas: method 'pitsupernet' needs a block architecture, and the seed is a graph "
                "network (an imported model); use --method pit-after-supernet (docs/dnas.md)");
  if (!seed.arch.graph.empty() && o.method != DnasMethod::Pit) {  // fail before loading data
    check_graph_candidates(parse_candidates(candidates_of(o, seed.arch)));
    graph_units(seed.arch);
  }
  return seed;
}

void save_model(const std::string& path, const ArchSpec& arch, autograd::Module& net,
                const data::Normalization& norm, const RunOptions& o, double lambda) {
  Checkpoint ck;
  ck.meta = {
      {"format", "piconas-model"},
      {"version", 1},
      {"arch", to_text(arch)},
      {"input", {arch.input.c, arch.input.h, arch.input.w}},
      {"classes", arch.num_classes},
      {"normalization", {{"mean", norm.mean}, {"std", norm.std}}},
      {"data", o.dataset},
      {"dnas",
       {{"method", dnas_method_name(o.method)}, {"lambda", lambda}, {"seed_arch", o.seed_arch}}}};
  if (!o.init_checkpoint.empty()) ck.meta["dnas"]["init"] = o.init_checkpoint;
  for (const auto& [name, t] : net.state()) ck.tensors.emplace_back(name, t);
  save_checkpoint(path, ck);
}
}  // namespace

std::string arch_label(const ArchSpec& arch) {
  if (arch.graph.empty()) return to_text(arch);
  std::string label = "graph";
  for (const GraphLayer& l : arch.graph) {
    if (l.op != GraphOp::Conv) continue;
    label += " " + l.name + "=" + std::to_string(l.out_channels);
    if (l.groups > 1) label += "g" + std::to_string(l.groups);
    if (l.kernel != Size2{1, 1})
      label += "k" + (l.kernel.square() ? std::to_string(l.kernel.h)
                                        : std::to_string(l.kernel.h) + "x" +
                                              std::to_string(l.kernel.w));
  }
  return label;
}

std::vector<RunPoint> run_dnas(const RunOptions& o,
                               const std::function<void(const std::string&)>& all_log) {
  PICONAS_CHECK(o.search.communicator == o.finetune.communicator,
                "dnas: search and fine-tuning must run on the same ranks");
  const Communicator single;
  const Communicator& comm = o.search.communicator ? *o.search.communicator : single;
  const bool root = comm.is_root();  // writes the files and the log
  const auto log = [&](const std::string& line) {
    if (root) all_log(line);
  };
  PICONAS_CHECK(!o.out_dir.empty(), "dnas: no output directory");
  PICONAS_CHECK(!o.lambdas.empty(), "dnas: no lambda");
  const Seed start = load_seed(o);
  const ArchSpec& seed = start.arch;
  data::DatasetSpec spec;
  spec.kind = data::parse_dataset_kind(o.dataset);
  spec.path = o.data_path;
  spec.channels = static_cast<int>(seed.input.c);
  spec.resolution = static_cast<int>(seed.input.h);
  if (seed.input.w != seed.input.h) spec.width = static_cast<int>(seed.input.w);
  const data::Dataset train_set = data::load_dataset(spec);
  spec.split = data::Split::Test;
  const data::Dataset test_set = data::load_dataset(spec);
  PICONAS_CHECK(train_set.num_classes == seed.num_classes,
                "dnas: the seed has " << seed.num_classes << " classes, " << o.dataset << " has "
                                      << train_set.num_classes);
  TrainData train = subset(train_set, o.train_images, data::Normalization{});
  train.normalization = start.normalization ? *start.normalization
                                            : data::compute_normalization(train_set, train.indices);
  const TrainData test = subset(test_set, o.test_images, train.normalization);
  log("dnas " + std::string(dnas_method_name(o.method)) + " on " + o.dataset + ": " +
      std::to_string(train.indices.size()) + " training, " + std::to_string(test.indices.size()) +
      " test images; seed " + arch_label(seed));
  if (root) std::filesystem::create_directories(o.out_dir);
  std::vector<RunPoint> points;
  for (double lambda : o.lambdas) {
    const std::string dir = o.out_dir + "/lambda_" + fmt(lambda);
    if (root) std::filesystem::create_directories(dir);
    log("lambda " + fmt(lambda) + " -> " + dir);
    Tables tables(dir, root);
    SearchOptions so = o.search;
    so.lambda = lambda;
    DnasConfig config;
    config.supernet = o.method != DnasMethod::Pit;
    config.pit = o.method == DnasMethod::Pit || o.method == DnasMethod::PitSuperNet;
    if (config.supernet) config.candidates = parse_candidates(candidates_of(o, seed));
    std::unique_ptr<SearchNetwork> net;
    if (seed.graph.empty())
      net = std::make_unique<DnasNetwork>(seed, config);
    else if (config.supernet)
      net = std::make_unique<GraphSuperNetwork>(seed, config.candidates);
    else
      net = std::make_unique<GraphPitNetwork>(seed);
    Rng init(o.search.seed);
    net->initialize(init);
    if (!start.state.empty()) {
      if (auto* blocks = dynamic_cast<DnasNetwork*>(net.get()))
        blocks->load_plain_state(start.state);
      else
        net->load_state(start.state);
    }
    DnasExport ex = search_stage(
        *net, train, so, tables,
        config.pit && config.supernet ? "pitsupernet" : (config.pit ? "pit" : "supernet"), log);
    if (o.method == DnasMethod::PitAfterSuperNet) {
      log("  supernet result " + arch_label(ex.arch) + "; PIT on it");
      if (ex.arch.graph.empty()) {
        DnasConfig pit;
        pit.supernet = false;
        pit.pit = true;
        DnasNetwork second(ex.arch, pit);
        second.load_plain_state(ex.state);
        ex = search_stage(second, train, so, tables, "pit", log);
      } else {
        GraphPitNetwork second(ex.arch);
        second.load_state(ex.state);
        ex = search_stage(second, train, so, tables, "pit", log);
      }
    }
    auto plain = build_network(ex.arch);
    plain->load_state(ex.state);
    RunPoint p;
    p.lambda = lambda;
    p.arch = to_text(ex.arch);
    const ArchCost cost = arch_cost(ex.arch);
    p.params = cost.params;
    p.macs = cost.macs;
    p.search_accuracy = evaluate(*plain, test);
    log("  exported " + arch_label(ex.arch) + "  params " + std::to_string(p.params) + "  MACs " +
        std::to_string(p.macs) + "  test acc (inherited weights) " + fmt(p.search_accuracy));
    finetune(*plain, train, o.finetune, [&](int64_t epoch, double loss, double acc) {
      log("  finetune epoch " + std::to_string(epoch) + "  loss " + fmt(loss) + "  acc " +
          fmt(acc));
    });
    p.test_accuracy = evaluate(*plain, test);
    p.checkpoint = dir + "/model.ckpt";
    if (root) {
      save_model(p.checkpoint, ex.arch, *plain, train.normalization, o, lambda);
      write_file_atomic(dir + "/arch.txt", p.arch + "\n");
    }
    log("  fine-tuned test accuracy " + fmt(p.test_accuracy) + "; wrote " + p.checkpoint);
    points.push_back(p);
  }
  std::ostringstream csv;
  csv << "lambda,arch,params,macs,search_accuracy,test_accuracy\n";
  for (const RunPoint& p : points)
    csv << fmt(p.lambda) << ",\"" << p.arch << "\"," << p.params << ',' << p.macs << ','
        << fmt(p.search_accuracy) << ',' << fmt(p.test_accuracy) << '\n';
  if (!root) return points;
  write_file_atomic(o.out_dir + "/results.csv", csv.str());
  write_file_atomic(
      o.out_dir + "/pareto.svg",
      sweep_svg(points, o.search.cost, std::string("piconas dnas ") + dnas_method_name(o.method)));
  return points;
}

}  // namespace piconas::nas::dnas
