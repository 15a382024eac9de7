// ONNX export: a trained float model (any architecture: block based or a graph network) as an
// ONNX model of opset kOnnxExportOpset with its weights, one node per lowered row
// (nas/arch/lowering.h): Conv, BatchNormalization, Relu, Clip(0, 6), HardSwish, HardSigmoid
// (alpha 1/6, beta 0.5), Sigmoid, Add, Mul (a squeeze-and-excitation scale: features times the
// [N, C, 1, 1] gate), MaxPool, AveragePool, GlobalAveragePool, and Flatten + Gemm for the
// classifier. Input "images"
// [batch, C, H, W] (normalised as the checkpoint's meta says), output "logits" [batch, K].
// LayerNorm and GELU rows (ConvNeXt blocks) are refused with an Error naming the layer.
// The model passes the ONNX checker before it is written (atomically).
#pragma once
#include <string>

#include "autograd/module.h"
#include "data/normalize.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas::onnx_io {

inline constexpr int kOnnxExportOpset = 14;  // HardSwish needs 14

// The serialized ModelProto of `net` (as built by build_network(arch), in eval mode). A given
// normalization is stored as metadata "piconas.normalization" ({"mean": [...], "std": [...]}),
// which import_onnx reads back.
std::string export_onnx(const ArchSpec& arch, autograd::Module& net,
                        const data::Normalization* normalization = nullptr);
// Loads a model checkpoint and writes its ONNX model to onnx_path.
void export_onnx_file(const std::string& checkpoint_path, const std::string& onnx_path);

}  // namespace piconas::nas::onnx_io
