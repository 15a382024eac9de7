// `piconas import MODEL.onnx --out DIR`: a float CNN saved as ONNX becomes DIR/network.json (a
// graph network, usable as --arch) and DIR/model.ckpt (a model checkpoint for info, eval, train
// --init... and export); nas/onnx/onnx_import.h lists the supported operators.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "nas/arch/arch_cost.h"
#include "nas/onnx/onnx_import.h"

namespace piconas::apps {

namespace {
struct ImportOptions {
  std::string model;
  std::string out_dir;
  nas::onnx_io::ImportOptions options;
};

void run_import(const ImportOptions& o) {
  const nas::onnx_io::ImportedModel model = nas::onnx_io::import_onnx_file(o.model, o.options);
  for (const std::string& path : nas::onnx_io::write_imported(model, o.out_dir))
    std::printf("wrote %s\n", path.c_str());
  const nas::ArchCost cost = nas::arch_cost(model.arch);
  std::printf("%zu layers, %lld params, %lld MACs per %s image, %d classes\n",
              model.arch.graph.size(), static_cast<long long>(cost.params),
              static_cast<long long>(cost.macs), nas::shape3_str(model.arch.input).c_str(),
              model.arch.num_classes);
}
}  // namespace

void register_import(CLI::App& app) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd =
      app.add_subcommand("import", "turn an ONNX model into a piconas network and checkpoint");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("--out", o->out_dir, "output directory (network.json, model.ckpt)")->required();
  cmd->add_option("--mean", o->options.mean,
                  "per-channel input mean the model expects (images in [0, 1]; default 0)");
  cmd->add_option("--std", o->options.std, "per-channel input std the model expects (default 1)");
  cmd->callback([o] { run_import(*o); });
}

}  // namespace piconas::apps
