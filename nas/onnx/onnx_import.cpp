// Reading the graph (nas/onnx/onnx_importer.h): the parse, opset and checker gate, the image
// input, the walk over the nodes, the output check, the weights loaded into the network and the
// checkpoint written from it.
#include "nas/onnx/onnx_import.h"

#include <onnx/checker.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/arch/graph_text.h"
#include "nas/arch/lowering.h"
#include "nas/builder.h"
#include "nas/onnx/onnx_importer.h"
#include "nas/train/model_io.h"

namespace piconas::nas::onnx_io {

namespace {

// Before the checker, whose message for an old opset names some operator instead.
void check_opset(const onnx::ModelProto& model, const std::string& source) {
  int64_t opset = -1;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  PICONAS_CHECK(opset >= kOnnxMinOpset && opset <= kOnnxMaxOpset,
                source << ": ONNX opset " << opset << " is not supported (piconas reads opsets "
                       << kOnnxMinOpset << ".." << kOnnxMaxOpset << ")");
}

}  // namespace

Importer::Importer(const onnx::ModelProto& model, std::string source)
    : NodeReading(std::move(source)), model_(model), graph_(model.graph()) {
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset_ = entry.version();
}

ImportedModel Importer::run(const ImportOptions& options) {
  for (const onnx::TensorProto& t : graph_.initializer()) constants_[t.name()] = &t;
  read_input();
  for (const onnx::NodeProto& node : graph_.node()) import_node(node);
  return finish(options);
}

void Importer::read_input() {
  const onnx::ValueInfoProto* input = nullptr;
  for (const onnx::ValueInfoProto& v : graph_.input()) {
    if (constants_.count(v.name())) continue;
    PICONAS_CHECK(input == nullptr, source_ << ": the graph has more than one input ('"
                                            << excerpt(input ? input->name() : "", 60) << "', '"
                                            << excerpt(v.name(), 60)
                                            << "'); piconas networks take one image");
    input = &v;
  }
  PICONAS_CHECK(input, source_ << ": the graph has no input");
  const auto& type = input->type().tensor_type();
  PICONAS_CHECK(input->type().has_tensor_type() && type.elem_type() == onnx::TensorProto::FLOAT &&
                    type.has_shape() && type.shape().dim_size() == 4,
                source_ << ": input '" << excerpt(input->name(), 60)
                        << "' must be a float tensor [N, C, H, W]");
  int64_t dims[3] = {0, 0, 0};
  for (int i = 1; i < 4; ++i) {
    const auto& d = type.shape().dim(i);
    PICONAS_CHECK(
        d.has_dim_value() && d.dim_value() > 0,
        source_ << ": input '" << excerpt(input->name(), 60) << "' dimension " << i
                << " must be a fixed positive size, got '"
                << excerpt(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()), 40)
                << "'");
    dims[i - 1] = d.dim_value();
  }
  spec_.input = {dims[0], dims[1], dims[2]};
  ArchSpec only_input;
  only_input.input = spec_.input;
  const std::vector<std::string> problems = arch_problems(only_input);
  PICONAS_CHECK(problems.empty(), source_ << ": " << problems.front());
  values_[input->name()] = Value{};
}

ImportedModel Importer::finish(const ImportOptions& options) {
  PICONAS_CHECK(graph_.output_size() == 1,
                source_ << ": the graph has " << graph_.output_size()
                        << " outputs; piconas networks have one (the logits)");
  const auto out = values_.find(graph_.output(0).name());
  PICONAS_CHECK(out != values_.end() && !out->second.pad_node && !spec_.graph.empty() &&
                    out->second.layer == static_cast<int>(spec_.graph.size()) - 1 &&
                    spec_.graph.back().op == GraphOp::FullyConnected,
                source_ << ": the graph output '" << excerpt(graph_.output(0).name(), 60)
                        << "' is not the last node's fully connected classifier (Gemm or MatMul)");
  spec_.num_classes = static_cast<int>(std::min<int64_t>(spec_.graph.back().out_channels, 1 << 30));
  std::vector<LayerInfo> rows;
  try {
    rows = arch_layers(spec_);
  } catch (const Error& e) {
    throw Error(source_ + ": " + e.what());
  }
  // Each layer's weights must be the size its input needs before the network is allocated:
  // a declared 16384x16384 input must not make a terabyte classifier.
  for (size_t i = 0; i < spec_.graph.size(); ++i) {
    int64_t have = 0;
    const std::string prefix = spec_.graph[i].name + ".";
    for (const auto& [name, tensor] : tensors_)
      if (name.rfind(prefix, 0) == 0 && name.find("running_") == std::string::npos)
        have += tensor.numel();
    const LayerInfo& row = rows[i + 1];
    if (have != row.params)
      fail(*node_of_layer_[i], "its weights hold " + std::to_string(have) + " values, but on its " +
                                   shape3_str(row.input) + " input the layer needs " +
                                   std::to_string(row.params));
  }
  auto net = build_network(spec_);
  std::map<std::string, Tensor> state = net->state();
  std::map<std::string, Tensor> loaded;
  for (auto& [name, tensor] : tensors_) {
    const auto it = state.find(name);
    const std::string layer = name.substr(0, name.find('.'));
    const onnx::NodeProto* node = nullptr;
    for (size_t i = 0; i < spec_.graph.size(); ++i)
      if (spec_.graph[i].name == layer) node = node_of_layer_[i];
    if (it == state.end() || it->second.shape() != tensor.shape())
      fail(*node, "tensor " + name.substr(name.find('.') + 1) + " has shape " +
                      shape_str(tensor.shape()) + " but its input needs " +
                      (it == state.end() ? std::string("none") : shape_str(it->second.shape())));
    loaded[name] = tensor;
  }
  for (const auto& [name, tensor] : state)
    if (!loaded.count(name)) loaded[name] = tensor;  // none expected; keeps load_state total
  net->load_state(loaded);
  net->set_training(false);

  data::Normalization norm = data::Normalization::identity(static_cast<int>(spec_.input.c));
  for (const auto& prop : model_.metadata_props()) {
    if (prop.key() != kNormalizationKey) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(prop.value());
      norm.mean = j.at("mean").get<std::vector<float>>();
      norm.std = j.at("std").get<std::vector<float>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(source_ + ": metadata " + kNormalizationKey + " is malformed: " + e.what());
    }
  }
  if (!options.mean.empty()) norm.mean = options.mean;
  if (!options.std.empty()) norm.std = options.std;
  try {
    norm.validate(static_cast<int>(spec_.input.c));
  } catch (const Error& e) {
    throw Error(source_ + ": input normalisation: " + e.what());
  }
  train::ModelInfo info;
  info.arch = &spec_;
  info.normalization = &norm;
  for (int k = 0; k < spec_.num_classes; ++k) info.class_names.push_back(std::to_string(k));
  ImportedModel model;
  model.arch = spec_;
  model.checkpoint = train::make_model_checkpoint(*net, info);
  model.checkpoint.meta.erase("data");  // no data set known: eval/export take --data
  model.checkpoint.meta["source"] = std::filesystem::path(source_).filename().string();
  return model;
}

ImportedModel import_onnx(const std::string& bytes, const std::string& source,
                          const ImportOptions& options) {
  onnx::ModelProto model;
  PICONAS_CHECK(bytes.size() < static_cast<size_t>(kOnnxMaxBytes) && model.ParseFromString(bytes),
                source << ": not an ONNX model (the protobuf does not parse; truncated?)");
  check_opset(model, source);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw Error(source + ": the ONNX checker refuses the model: " + why);
  }
  return Importer(model, source).run(options);
}

ImportedModel import_onnx_file(const std::string& path, const ImportOptions& options) {
  return import_onnx(read_file(path, kOnnxMaxBytes), path, options);
}

std::vector<std::string> write_imported(const ImportedModel& model, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const std::string network = (std::filesystem::path(out_dir) / "network.json").string();
  const std::string checkpoint = (std::filesystem::path(out_dir) / "model.ckpt").string();
  write_file_atomic(network, nlohmann::json::parse(to_graph_json(model.arch)).dump(1) + "\n");
  save_checkpoint(checkpoint, model.checkpoint);
  return {network, checkpoint};
}

}  // namespace piconas::nas::onnx_io
