// `piconas dnas`: differentiable NAS (nas/dnas): SuperNet, PIT channel search, both at once,
// or PIT after a SuperNet search, over one lambda or a sweep. Progress goes to stderr; the
// results table (lambda, architecture, params, MACs, test accuracy) to stdout; files into --out
// (see nas/dnas/dnas_run.h).
#include <cstdio>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "apps/distributed_cli.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/dnas/dnas_run.h"

namespace piconas::apps {

namespace {
struct DnasCliOptions {
  nas::dnas::RunOptions run;
  std::string method = "supernet", cost = "params", selection = "softmax";
  double lambda = 0.0;
  std::string sweep;
  int threads = 2;
};

std::vector<double> parse_lambdas(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    PICONAS_CHECK(used == item.size() && !item.empty() && v >= 0.0,
                  "--lambda-sweep: '" << item << "' is not a non-negative number");
    out.push_back(v);
  }
  return out;
}

void run_dnas_command(DnasCliOptions& o, const Communicator& comm) {
  set_num_threads(o.threads);
  nas::dnas::RunOptions& r = o.run;
  r.method = nas::dnas::parse_dnas_method(o.method);
  r.search.cost = nas::dnas::parse_cost_kind(o.cost);
  r.search.mode = nas::dnas::parse_selection_mode(o.selection);
  r.lambdas = o.sweep.empty() ? std::vector<double>{o.lambda} : parse_lambdas(o.sweep);
  r.finetune.batch_size = r.search.batch_size;
  r.finetune.seed = r.search.seed;
  r.search.communicator = r.finetune.communicator = &comm;  // data-parallel under mpirun
  const auto points = nas::dnas::run_dnas(
      r, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!comm.is_root()) return;
  std::printf("%-10s %10s %12s %9s %9s  %s\n", "lambda", "params", "MACs", "inherit", "finetuned",
              "arch");
  for (const auto& p : points) {
    const std::string arch = nas::dnas::arch_label(nas::parse_arch(p.arch));
    std::printf("%-10g %10lld %12lld %8.2f%% %8.2f%%  %s\n", p.lambda,
                static_cast<long long>(p.params), static_cast<long long>(p.macs),
                100 * p.search_accuracy, 100 * p.test_accuracy, arch.c_str());
  }
  std::printf("wrote %s/results.csv and %s/pareto.svg\n", r.out_dir.c_str(), r.out_dir.c_str());
}
}  // namespace

void register_dnas(CLI::App& app) {
  auto o = std::make_shared<DnasCliOptions>();
  nas::dnas::RunOptions& r = o->run;
  CLI::App* cmd =
      app.add_subcommand("dnas", "differentiable NAS: SuperNet / PIT search, export and fine-tune");
  cmd->add_option("--seed-arch", r.seed_arch,
                  "seed architecture (name, blocks/mbv2 text, graph network JSON, its file, or the "
                  "directory of `piconas import`)");
  cmd->add_option("--init", r.init_checkpoint,
                  "start from this model checkpoint's weights and architecture (PIT; e.g. an "
                  "imported ONNX model)");
  cmd->add_option("--method", o->method, "supernet | pit | pitsupernet | pit-after-supernet");
  cmd->add_option("--candidates", r.candidates,
                  "SuperNet candidates, e.g. ds:k3,ds:k5,ir:k3e2,skip, or plinio "
                  "(cv:k3,cv:k5,ds:k3,skip); default: ds:k3,ds:k5,ds:k7,ir:k3e2,skip for a block "
                  "seed, plinio for a graph seed");
  cmd->add_option("--cost", o->cost, "params | macs");
  cmd->add_option("--lambda", o->lambda, "cost weight")->check(CLI::NonNegativeNumber);
  cmd->add_option("--lambda-sweep", o->sweep, "comma-separated lambdas (overrides --lambda)");
  cmd->add_option("--selection", o->selection, "softmax | gumbel | hard-gumbel");
  cmd->add_option("--t0", r.search.t0, "initial temperature")->check(CLI::PositiveNumber);
  cmd->add_option("--t-decay", r.search.t_decay, "temperature factor per epoch")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--t-min", r.search.t_min, "lowest temperature")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", r.search.warmup_epochs, "epochs with frozen architecture")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--icv", r.search.icv_weight, "weight of the ICV polarisation term")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--arch-lr", r.search.arch_lr, "Adam learning rate of alphas and masks")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lr", r.search.weight_lr, "SGD learning rate of the weights (search)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--finetune-lr", r.finetune.lr, "SGD learning rate of the fine-tuning")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", r.search.batch_size, "batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--data", r.dataset, "dataset (fashion-mnist, mnist, cifar10)");
  cmd->add_option("--data-path", r.data_path, "dataset location");
  cmd->add_option("--train-images", r.train_images, "first N training images (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--test-images", r.test_images, "first N test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--epochs-search", r.search.epochs, "search epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--epochs-finetune", r.finetune.epochs, "fine-tuning epochs")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", r.search.seed, "random seed");
  cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber);
  cmd->add_option("--out", r.out_dir, "output directory")->required();
  cmd->callback([o, cmd] {
    nas::dnas::RunOptions& run = o->run;
    if (cmd->count("--seed-arch") == 0 && !run.init_checkpoint.empty()) run.seed_arch.clear();
    if (!run.seed_arch.empty()) run.seed_arch = arch_argument(run.seed_arch);
    const Communicator comm = Communicator::join();
    run_on_ranks(comm, [&] { run_dnas_command(*o, comm); });
  });
}

}  // namespace piconas::apps
