#include "nas/onnx/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/layers.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "nas/arch/lowering.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

namespace piconas::nas::onnx_io {

namespace {

autograd::Module& find_module(autograd::Module& root, const std::string& path) {
  autograd::Module* m = &root;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    autograd::Module* next = nullptr;
    for (auto& [name, child] : m->children())
      if (name == part) next = child.get();
    PICONAS_CHECK(next, "export --onnx: the network has no module '" << path << "'");
    m = next;
  }
  return *m;
}

template <class M>
M& module_as(autograd::Module& root, const std::string& path) {
  auto* m = dynamic_cast<M*>(&find_module(root, path));
  PICONAS_CHECK(m, "export --onnx: module '" << path << "' is not a " << typeid(M).name());
  return *m;
}

class Writer {
 public:
  explicit Writer(onnx::GraphProto& graph) : graph_(graph) {}

  void initializer(const std::string& name, const Tensor& value) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : value.shape()) t->add_dims(d);
    const Tensor f = value.to(DType::F32);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(f.data<float>()),
                                static_cast<size_t>(f.numel()) * 4));
  }
  void scalar(const std::string& name, float value) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
  }
  onnx::NodeProto& node(const std::string& op, const std::string& name,
                        std::vector<std::string> inputs, const std::string& output) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(output);
    return *n;
  }
  static void ints(onnx::NodeProto& n, const char* name, std::vector<int64_t> values) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void integer(onnx::NodeProto& n, const char* name, int64_t value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void real(onnx::NodeProto& n, const char* name, float value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }

 private:
  onnx::GraphProto& graph_;
};

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* type = v->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

std::string export_onnx(const ArchSpec& arch, autograd::Module& net,
                        const data::Normalization* normalization) {
  const std::vector<LayerInfo> rows = arch_layers(arch);
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("piconas");
  model.add_opset_import()->set_version(kOnnxExportOpset);
  if (normalization) {
    auto* prop = model.add_metadata_props();
    prop->set_key(kNormalizationKey);
    prop->set_value(
        nlohmann::json{{"mean", normalization->mean}, {"std", normalization->std}}.dump());
  }
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("piconas");
  Writer w(graph);
  value_info(graph.add_input(), "images", {arch.input.c, arch.input.h, arch.input.w});
  std::vector<std::string> value(rows.size());
  value[0] = "images";
  for (size_t i = 1; i < rows.size(); ++i) {
    const LayerInfo& row = rows[i];
    const std::string in = value[row.source >= 0 ? static_cast<size_t>(row.source) : i - 1];
    const std::string out = i + 1 == rows.size() ? "logits" : row.name;
    const std::string& p = row.path;
    switch (row.kind) {
      case LayerKind::Conv:
      case LayerKind::Depthwise: {
        auto& conv = module_as<autograd::Conv2d>(net, p);
        std::vector<std::string> inputs{in, p + ".weight"};
        w.initializer(p + ".weight", conv.weight.value());
        if (conv.bias.defined()) {
          inputs.push_back(p + ".bias");
          w.initializer(p + ".bias", conv.bias.value());
        }
        onnx::NodeProto& n = w.node("Conv", row.name, inputs, out);
        Writer::ints(n, "kernel_shape", {row.kernel.h, row.kernel.w});
        Writer::ints(n, "strides", {row.stride.h, row.stride.w});
        Writer::ints(n, "pads", {row.pad.h, row.pad.w, row.pad_end.h, row.pad_end.w});
        Writer::ints(n, "dilations", {row.dilation.h, row.dilation.w});
        Writer::integer(n, "group", conv.options().groups);
        break;
      }
      case LayerKind::BatchNorm: {
        auto& bn = module_as<autograd::BatchNorm2d>(net, p);
        w.initializer(p + ".weight", bn.gamma.value());
        w.initializer(p + ".bias", bn.beta.value());
        w.initializer(p + ".running_mean", bn.state.running_mean);
        w.initializer(p + ".running_var", bn.state.running_var);
        onnx::NodeProto& n =
            w.node("BatchNormalization", row.name,
                   {in, p + ".weight", p + ".bias", p + ".running_mean", p + ".running_var"}, out);
        Writer::real(n, "epsilon", static_cast<float>(bn.state.eps));
        break;
      }
      case LayerKind::Activation:
        switch (row.activation) {
          case Activation::ReLU:
            w.node("Relu", row.name, {in}, out);
            break;
          case Activation::Hardswish:
            w.node("HardSwish", row.name, {in}, out);
            break;
          case Activation::ReLU6: {
            const std::string lo = row.name + ".min", hi = row.name + ".max";
            w.scalar(lo, 0.0f);
            w.scalar(hi, 6.0f);
            w.node("Clip", row.name, {in, lo, hi}, out);
            break;
          }
          case Activation::Hardsigmoid: {  // relu6(x + 3) / 6, as PyTorch writes it
            onnx::NodeProto& n = w.node("HardSigmoid", row.name, {in}, out);
            Writer::real(n, "alpha", 1.0f / 6);
            Writer::real(n, "beta", 0.5f);
            break;
          }
          case Activation::Sigmoid:
            w.node("Sigmoid", row.name, {in}, out);
            break;
          case Activation::GELU:
            throw Error("export --onnx: layer '" + row.name + "' is a GELU, which ONNX opset " +
                        std::to_string(kOnnxExportOpset) + " has no operator for");
        }
        break;
      case LayerKind::Add:
        w.node("Add", row.name, {in, value[static_cast<size_t>(row.skip)]}, out);
        break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool: {
        onnx::NodeProto& n =
            w.node(row.kind == LayerKind::MaxPool ? "MaxPool" : "AveragePool", row.name, {in}, out);
        Writer::ints(n, "kernel_shape", {row.kernel.h, row.kernel.w});
        Writer::ints(n, "strides", {row.stride.h, row.stride.w});
        Writer::ints(n, "pads", {row.pad.h, row.pad.w, row.pad_end.h, row.pad_end.w});
        if (row.kind == LayerKind::AvgPool)
          Writer::integer(n, "count_include_pad", row.count_include_pad);
        break;
      }
      case LayerKind::GlobalAvgPool:
        w.node("GlobalAveragePool", row.name, {in}, out);
        break;
      case LayerKind::FullyConnected: {
        auto& fc = module_as<autograd::Linear>(net, p);
        const std::string flat = row.name + ".flat";
        Writer::integer(w.node("Flatten", flat, {in}, flat), "axis", 1);
        std::vector<std::string> inputs{flat, p + ".weight"};
        w.initializer(p + ".weight", fc.weight.value());
        if (fc.bias.defined()) {
          inputs.push_back(p + ".bias");
          w.initializer(p + ".bias", fc.bias.value());
        }
        Writer::integer(w.node("Gemm", row.name, inputs, out), "transB", 1);
        break;
      }
      case LayerKind::ChannelMul:  // features [N, C, H, W] times the gate [N, C, 1, 1] or
                                   // [N, C, H, W] (ONNX Mul broadcasts)
        w.node("Mul", row.name, {value[static_cast<size_t>(row.skip)], in}, out);
        break;
      case LayerKind::LayerNorm:
      case LayerKind::Input:
        throw Error("export --onnx: layer '" + row.name + "' (" + row.type +
                    ") is not exported to ONNX (LayerNorm of ConvNeXt blocks needs opset 17)");
      case LayerKind::Hardswish:  // int8 graph only (lowering.h): no lowering row has it
      case LayerKind::Mul:
      case LayerKind::Logistic:
        throw Error("export --onnx: layer '" + row.name + "' is not a lowering row");
    }
    value[i] = out;
  }
  PICONAS_CHECK(rows.back().kind == LayerKind::FullyConnected,
                "export --onnx: the network does not end in its classifier");
  value_info(graph.add_output(), "logits", {arch.num_classes});
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    std::string why = e.what();
    throw Error("export --onnx: the ONNX checker refuses the written model: " +
                why.substr(0, why.find('\n')));
  }
  std::string bytes;
  PICONAS_CHECK(model.SerializeToString(&bytes), "export --onnx: protobuf serialization failed");
  return bytes;
}

void export_onnx_file(const std::string& checkpoint_path, const std::string& onnx_path) {
  train::LoadedModel model = train::load_model(checkpoint_path);
  write_file_atomic(onnx_path, export_onnx(model.arch, *model.module, &model.normalization));
}

}  // namespace piconas::nas::onnx_io
