// QDQ ONNX export of an int8 model (nas/deploy/quantize.h): the quantized
// network as float ONNX operators between QuantizeLinear / DequantizeLinear
// pairs, the form onnxruntime and TensorRT read as an int8 model, for looking
// at it (Netron) or checking it in other tools.
//
// Every int8 tensor t of the model (the input included) is the value of
// DequantizeLinear(QuantizeLinear(x, s_t, z_t), s_t, z_t) with its scale and
// int8 zero point. Weights are int8 initializers in ONNX layout (conv [O,
// I/groups, KH, KW], classifier [O, I]) with their per-output-channel scales
// (DequantizeLinear axis 0, zero points 0); biases int32 with scale s_in *
// s_w,c. Layers: Conv (the depthwise ones with group C), then Relu, Clip(0, 6)
// or Clip(0, 1) for the fused activation (the hard-sigmoid gate, already folded
// into its conv's weights and bias as x / 6 + 1/2), HardSwish, Add, Mul (the
// squeeze-and-excitation scale), GlobalAveragePool, Flatten + Gemm. Input
// "images" (normalised float [batch, C, H, W]), output "logits" (the
// dequantized int8 logits). The int8 kernels' fixed-point rounding is not part
// of QDQ: a QDQ runtime computes in float between the pairs, so its logits may
// differ from the host executor's by a few int8 steps. Opset kOnnxExportOpset;
// the ONNX checker runs before the bytes are returned.
#pragma once
#include <string>

#include "data/normalize.h"
#include "nas/deploy/quantize.h"

namespace piconas::nas::onnx_io {

// The serialized ModelProto. A given normalization goes into the metadata
// "piconas.normalization" as for export_onnx.
std::string export_onnx_qdq(const deploy::QuantizedModel &model,
                            const data::Normalization *normalization = nullptr);

} // namespace piconas::nas::onnx_io
