#include "nas/train/model_io.h"

#include <cmath>
#include <map>

#include "nas/arch/arch_text.h"
#include "nas/builder.h"

namespace piconas::nas::train {

Checkpoint make_model_checkpoint(const autograd::Module& module, const ModelInfo& info) {
  PICONAS_CHECK(info.arch && info.normalization, "make_model_checkpoint: arch and normalization are required");
  const ArchSpec& arch = *info.arch;
  PICONAS_CHECK(info.class_names.size() == static_cast<size_t>(arch.num_classes),
                "make_model_checkpoint: " << info.class_names.size() << " class names for "
                                          << arch.num_classes << " classes");
  info.normalization->validate(static_cast<int>(arch.input.c));
  Checkpoint checkpoint;
  checkpoint.meta = {{"format", kModelFormat},
                     {"version", kModelVersion},
                     {"arch", to_text(arch)},
                     {"input", {arch.input.c, arch.input.h, arch.input.w}},
                     {"classes", arch.num_classes},
                     {"class_names", info.class_names},
                     {"normalization", {{"mean", info.normalization->mean}, {"std", info.normalization->std}}},
                     {"epoch", info.epoch},
                     {"data", info.data}};
  for (auto& [name, tensor] : module.state()) checkpoint.tensors.emplace_back(name, tensor);
  return checkpoint;
}

LoadedModel load_model(const std::string& path) { return load_model(load_checkpoint(path), path); }

LoadedModel load_model(const Checkpoint& checkpoint, const std::string& source) {
  const nlohmann::json& meta = checkpoint.meta;
  PICONAS_CHECK(meta.is_object() && meta.value("format", std::string()) == kModelFormat,
                "'" << source << "' is not a piconas model checkpoint (meta \"format\" is not \""
                    << kModelFormat << "\")");
  // Compared as a 64-bit value: get<int>() would read 4294967297 as 1.
  PICONAS_CHECK(meta.contains("version") && meta["version"].is_number_integer() &&
                    meta["version"].get<int64_t>() == kModelVersion,
                "'" << source << "': model format version " << meta.value("version", nlohmann::json()).dump()
                    << " is not supported (expected " << kModelVersion << ")");
  LoadedModel model;
  model.meta = meta;
  try {
    model.arch = parse_arch(meta.at("arch").get<std::string>());
    model.normalization.mean = meta.at("normalization").at("mean").get<std::vector<float>>();
    model.normalization.std = meta.at("normalization").at("std").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + source + "': malformed model metadata: " + e.what());
  } catch (const Error& e) {
    throw Error("'" + source + "': " + e.what());
  }
  // Optional fields read by eval, info and export: checked here, so no reader meets a wrong type.
  auto check_field = [&](const char* key, bool ok, const char* expected) {
    PICONAS_CHECK(!meta.contains(key) || ok, "'" << source << "': meta \"" << key << "\" must be " << expected
                                                 << ", got " << excerpt(meta[key].dump()));
  };
  check_field("epoch", meta.contains("epoch") && meta["epoch"].is_number_integer() && meta["epoch"].get<int64_t>() >= 0,
              "a non-negative integer");
  check_field("data", meta.contains("data") && meta["data"].is_string(), "a string");
  for (const char* key : {"val_accuracy", "test_accuracy"})
    check_field(key, meta.contains(key) && meta[key].is_number() && std::isfinite(meta[key].get<double>()), "a number");
  check_field("classes", meta.contains("classes") && meta["classes"].is_number_integer() &&
                             meta["classes"].get<int64_t>() == model.arch.num_classes,
              "the architecture's class count");
  bool names_ok = meta.contains("class_names") && meta["class_names"].is_array() &&
                  meta["class_names"].size() == static_cast<size_t>(model.arch.num_classes);
  if (names_ok)
    for (const nlohmann::json& name : meta["class_names"]) names_ok = names_ok && name.is_string();
  check_field("class_names", names_ok, "an array of one string per class");
  try {
    model.normalization.validate(static_cast<int>(model.arch.input.c));
  } catch (const Error& e) {
    throw Error("'" + source + "': normalization does not fit the architecture: " + e.what());
  }

  model.module = build_network(model.arch);
  std::map<std::string, Tensor> expected = model.module->state();
  std::map<std::string, Tensor> found;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (name.rfind("optimizer.", 0) == 0) continue;
    auto it = expected.find(name);
    PICONAS_CHECK(it != expected.end(), "'" << source << "': tensor '" << name << "' "
                                            << shape_str(tensor.shape())
                                            << " is not part of the architecture " << to_text(model.arch));
    PICONAS_CHECK(tensor.shape() == it->second.shape(),
                  "'" << source << "': tensor '" << name << "' has shape " << shape_str(tensor.shape())
                      << " in the checkpoint but " << shape_str(it->second.shape())
                      << " in the architecture " << to_text(model.arch));
    found[name] = tensor.to(it->second.dtype());
    const Tensor values = tensor.to(DType::F64);
    for (int64_t i = 0; i < values.numel(); ++i)
      PICONAS_CHECK(std::isfinite(values.data<double>()[i]),
                    "'" << source << "': tensor '" << name << "' holds " << values.data<double>()[i]
                        << " (a diverged training run?); only finite weights can be evaluated or exported");
  }
  for (const auto& [name, tensor] : expected)
    PICONAS_CHECK(found.count(name), "'" << source << "': tensor '" << name << "' "
                                         << shape_str(tensor.shape())
                                         << " of the architecture is missing from the checkpoint");
  model.module->load_state(found);
  model.module->set_training(false);
  return model;
}

}  // namespace piconas::nas::train
