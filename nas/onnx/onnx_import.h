// ONNX import: a float CNN saved as ONNX becomes a graph network (nas/arch/graph_text.h) plus
// its weights, i.e. a piconas model checkpoint (nas/train/model_io.h) that info, eval, train,
// export and `export --onnx` take like any trained model. docs/onnx.md lists the subset:
//   Conv (groups, depthwise, symmetric padding, stride, dilation), BatchNormalization,
//   Relu, Clip(0, 6), Clip(0, inf), HardSwish, Add of two tensors, MaxPool, AveragePool,
//   GlobalAveragePool, ReduceMean over H and W, Flatten/Reshape to 2-D before the classifier,
//   Gemm, MatMul (+ Add of a bias), Dropout and Identity (dropped).
// The model must have one image input [N, C, H, W] (N free) and end in the classifier; the
// default-domain opset must be in kOnnxMinOpset..kOnnxMaxOpset. The file is read whole (at
// most kOnnxMaxBytes), parsed with the ONNX protobuf classes and passed through the ONNX
// checker first. Anything outside the subset is one Error naming the node, its op type and why.
#pragma once
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/checkpoint.h"

namespace piconas::nas::onnx_io {

inline constexpr int kOnnxMinOpset = 9;
inline constexpr int kOnnxMaxOpset = 17;
inline constexpr int64_t kOnnxMaxBytes = int64_t{1} << 30;

// Metadata key of the input normalisation piconas writes into exported models.
inline constexpr const char* kNormalizationKey = "piconas.normalization";

struct ImportOptions {
  // Input normalization the model expects; empty: the model's "piconas.normalization"
  // metadata when present, else mean 0 and std 1.
  std::vector<float> mean, std;
};

struct ImportedModel {
  ArchSpec arch;          // a graph network
  Checkpoint checkpoint;  // a piconas model checkpoint (format piconas-model) of arch
};

// `source` names the model in error messages.
ImportedModel import_onnx(const std::string& bytes, const std::string& source,
                          const ImportOptions& options = {});
ImportedModel import_onnx_file(const std::string& path, const ImportOptions& options = {});

// Writes out_dir/network.json (the graph network) and out_dir/model.ckpt, each atomically;
// returns their paths.
std::vector<std::string> write_imported(const ImportedModel& model, const std::string& out_dir);

}  // namespace piconas::nas::onnx_io
