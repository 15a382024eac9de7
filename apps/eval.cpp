// `piconas eval CHECKPOINT`: accuracy, per-class accuracy and the confusion matrix of a trained
// model on a data split, as text on stdout and optionally as JSON.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "core/atomic_file.h"
#include "core/parallel.h"
#include "nas/arch/arch_text.h"
#include "nas/train/evaluate.h"
#include "nas/train/model_io.h"

namespace piconas::apps {

namespace {
struct EvalOptions {
  std::string checkpoint;
  std::string data;  // default: the data set the model was trained on
  data::DatasetSpec spec;
  std::string split = "test";
  std::string json_path;
  int64_t batch = 256;
  int threads = 2;
};

void print_result(const nas::train::EvalResult& r, const std::vector<std::string>& names) {
  std::printf("accuracy %.2f%% (%lld images), loss %.4f\n\nper class:\n", 100 * r.accuracy,
              static_cast<long long>(r.count), r.loss);
  size_t name_width = 5;
  for (const std::string& n : names) name_width = std::max(name_width, n.size());
  for (int t = 0; t < r.num_classes; ++t) {
    std::printf("  %2d %-*s %6lld  ", t, static_cast<int>(name_width), names[t].c_str(),
                static_cast<long long>(r.per_class_count[t]));
    if (std::isnan(r.per_class_accuracy[t])) std::printf("     -\n");
    else std::printf("%6.2f%%\n", 100 * r.per_class_accuracy[t]);
  }
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class):\n      ");
  for (int p = 0; p < r.num_classes; ++p) std::printf(" %6d", p);
  std::printf("\n");
  for (int t = 0; t < r.num_classes; ++t) {
    std::printf("  %2d  ", t);
    for (int p = 0; p < r.num_classes; ++p) std::printf(" %6lld", static_cast<long long>(r.confusion_at(t, p)));
    std::printf("\n");
  }
}

void run_eval(EvalOptions& o) {
  set_num_threads(o.threads);
  nas::train::LoadedModel model = nas::train::load_model(o.checkpoint);
  if (o.data.empty()) o.data = model.meta.value("data", std::string("fashion-mnist"));
  data::DatasetSpec spec = o.spec;
  spec.kind = data::parse_dataset_kind(o.data);
  spec.split = data::parse_split(o.split);
  spec = nas::train::data_spec_for(spec, model.arch);
  data::Dataset dataset = data::load_dataset(spec);
  std::string what = std::string("the ") + o.split + " split of " + o.data;
  nas::train::check_data_matches(dataset, model.arch, what);
  nas::train::EvalResult r =
      nas::train::evaluate(*model.module, dataset, model.normalization, {}, o.batch);
  std::printf("model %s (epoch %lld)\narch %s\ndata %s\n", o.checkpoint.c_str(),
              static_cast<long long>(model.meta.value("epoch", int64_t{0})), nas::to_text(model.arch).c_str(),
              what.c_str());
  print_result(r, dataset.class_names);
  if (!o.json_path.empty()) {
    nlohmann::json j = nas::train::eval_result_json(r, dataset.class_names);
    j["checkpoint"] = o.checkpoint;
    j["arch"] = nas::to_text(model.arch);
    j["data"] = o.data;
    j["split"] = o.split;
    write_file_atomic(o.json_path, j.dump(2) + "\n");
  }
}
}  // namespace

void register_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a trained model checkpoint on a data split");
  cmd->add_option("checkpoint", o->checkpoint, "model checkpoint (best.ckpt, last.ckpt)")->required();
  cmd->add_option("--data", o->data, "fashion-mnist | mnist | cifar10 | folder (default: the training data)");
  cmd->add_option("--data-path", o->spec.path, "data directory (default: the system copy; required for folder)");
  cmd->add_option("--channels", o->spec.channels, "convert images to 1 or 3 channels (0: native)");
  cmd->add_option_function<std::string>(
      "--resolution", [o](const std::string& v) { data::set_resolution(o->spec, v, "--resolution"); },
      "resize images to N x N or H x W (\"49x10\"; 0: native; folders: the model's)");
  cmd->add_flag("--skip-corrupt", o->spec.skip_corrupt, "folders: skip unreadable images");
  cmd->add_option("--split", o->split, "train | test")->capture_default_str()->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--json", o->json_path, "also write the result as JSON to this file");
  cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--threads", o->threads, "worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace piconas::apps
