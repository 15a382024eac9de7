// Model checkpoints: the contract between training, evaluation and the int8 exporter.
//
// A model checkpoint is a nas/checkpoint.h file whose meta is (docs/checkpoint_format.md):
//   {"format": "piconas-model", "version": 1, "arch": canonical text, "input": [c, h, w],
//    "classes": K, "class_names": [...], "normalization": {"mean": [...], "std": [...]},
//    "epoch": e, "data": "fashion-mnist" | ..., and "val_accuracy" / "test_accuracy" when known}
// and whose tensors are the module's state() entries (parameters and BatchNorm running
// statistics) under their dotted names. Training checkpoints add "train_state" to the meta and
// optimizer tensors "optimizer.0", "optimizer.1", ...; load_model ignores both.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/layers.h"
#include "data/normalize.h"
#include "nas/arch/arch_spec.h"
#include "nas/checkpoint.h"

namespace piconas::nas::train {

inline constexpr const char* kModelFormat = "piconas-model";
inline constexpr int kModelVersion = 1;

struct ModelInfo {
  const ArchSpec* arch = nullptr;
  const data::Normalization* normalization = nullptr;
  std::vector<std::string> class_names;
  int64_t epoch = 0;
  std::string data;  // data set name
};

// The contract meta plus the module's state() tensors (sharing storage with the module).
Checkpoint make_model_checkpoint(const autograd::Module& module, const ModelInfo& info);

// A trained model read back from a model or training checkpoint.
struct LoadedModel {
  ArchSpec arch;
  std::shared_ptr<autograd::Sequential> module;  // in eval mode
  data::Normalization normalization;
  nlohmann::json meta;
};

// Throws Error when the file is not a piconas model checkpoint (format/version), when its
// architecture text does not parse, or when a tensor is missing, unexpected, or has another
// shape than the architecture's (naming the tensor and both shapes).
LoadedModel load_model(const std::string& path);
// The same for a checkpoint already in memory; `source` names it in error messages.
LoadedModel load_model(const Checkpoint& checkpoint, const std::string& source);

}  // namespace piconas::nas::train
