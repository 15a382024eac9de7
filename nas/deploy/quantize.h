// Post-training int8 quantization of a lowered Graph (the arithmetic of docs/int8.md).
//
// The activation ranges come from calibration (calibrate.h: by default the clipping with the
// least mean absolute error; or least squared error, min/max, percentiles). The input range
// comes from the normalisation instead (pixels 0..255 map to [(0 - mean) / std,
// (1 - mean) / std]), so firmware can quantize camera pixels exactly.
//
// Quantization: weights symmetric per output channel (s_c = max|w_c| / 127, range
// [-127, 127]); activations asymmetric per tensor (range widened to hold 0, s = range / 255,
// z = clamp(round(-128 - min / s))); biases int32 with s = s_in * s_w,c; multipliers
// M = s_in * s_w / s_out in double through piconas_quantize_multiplier; ReLU / ReLU6 become
// clamps; the hard-sigmoid gate (already folded into its conv) is the clamp to [0, 1], its
// output range fixed to [0, 1] (s = 1/255, z = -128); hard-swish takes TFLite's parameters
// (hardswish_params); the SE channel multiply and the mul TFLite Mul's (M = s_x s_g / s_y, the
// output's (s, z) from its calibrated range); the sigmoid TFLite-Micro's LOGISTIC (logistic_params,
// its output fixed to s = 1/256, z = -128, a 256-byte table per layer); residual adds use left_shift 20 with T = 2 max(s1, s2); max, average and
// global average pooling keep their input's (s, z) (a ReLU after a pool is its clamp). Layers whose int32 accumulator could overflow are refused.
//
// Int8 layouts (made here, the one place that converts from the training layout):
// conv filter [C_out, KH, KW, C_in / groups], depthwise [1, KH, KW, C], classifier [C_out, H, W, C_in]
// (from the NCHW flattening [C_out, C_in, H, W] of a classifier on a CxHxW map);
// activations NHWC (to_nhwc_int8 quantizes NCHW float images into NHWC int8).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/normalize.h"
#include "nas/deploy/calibrate.h"
#include "nas/deploy/graph.h"
#include "ops/int8/channel_mul_s8.h"
#include "ops/int8/hardswish_s8.h"
#include "ops/int8/int8_types.h"
#include "ops/int8/logistic_s8.h"
#include "ops/int8/mul_s8.h"

namespace piconas::nas::deploy {

struct TensorQuant {
  Shape3 shape;  // per image, channels-first (stored NHWC in int8)
  float scale = 1.0f;
  int32_t zero_point = 0;
  float range_min = 0.0f, range_max = 0.0f;  // calibrated range (before widening to hold 0)
};

struct QLayer {
  LayerKind kind = LayerKind::Conv;
  std::string name;
  int input = 0, input2 = -1, output = 0;
  Size2 kernel, stride, padding{0, 0};  // as deploy::Layer
  bool count_include_pad = false;       // AvgPool, as deploy::Layer
  int groups = 1;                       // Conv, as deploy::Layer
  piconas_activation activation{-128, 127};
  std::vector<int8_t> weight;  // int8 layout (see above)
  std::vector<int32_t> bias, multiplier, shift;  // per output channel
  std::vector<float> weight_scale;               // per output channel
  piconas_add_params add{};                      // Add only
  piconas_hardswish_params hardswish{};          // Hardswish only
  piconas_channel_mul_params channel_mul{};      // ChannelMul only
  piconas_mul_params mul{};                      // Mul only
  piconas_logistic_params logistic{};            // Logistic only, and its output by input byte
  std::vector<int8_t> table;                     // (table[q + 128]; emitted, 256 bytes of flash)
};

struct QuantizedModel {
  std::vector<TensorQuant> tensors;  // tensors[0] is the input
  std::vector<QLayer> layers;
  int output() const { return layers.back().output; }
  // Constants in flash: int8 weights, int32 biases, multipliers and shifts, logistic tables.
  int64_t constant_bytes() const;
};

// Quantizes a graph with weights given the per-tensor ranges and the input normalisation.
QuantizedModel quantize(const Graph& graph, const std::vector<std::pair<float, float>>& ranges,
                        const data::Normalization& normalization);

// Calibrate + quantize.
QuantizedModel quantize_graph(const Graph& graph, const Tensor& calibration_images,
                              const data::Normalization& normalization,
                              const CalibrationOptions& options = {});

// Normalised float images [N, C, H, W] -> int8 NHWC with the input tensor's (s, z).
std::vector<int8_t> to_nhwc_int8(const TensorQuant& input, const Tensor& images);

// Pixel -> int8 input lookup table [C][256]: entry (c, v) quantizes (v / 255 - mean[c]) / std[c]
// (float, the Loader's formula) exactly as to_nhwc_int8 does, so firmware needs no float.
std::vector<int8_t> input_lut(const TensorQuant& input, const data::Normalization& normalization);

// TFLite's HardSwish parameters (docs/int8.md, hard-swish): the scales combined in float as
// TFLite's Prepare does, 16-bit multipliers. Throws Error naming `layer` where TFLite would refuse
// (an output shift above 0) or a shift leaves the kernel's range.
piconas_hardswish_params hardswish_params(const TensorQuant& in, const TensorQuant& out,
                                          const std::string& layer);

// TFLite-Micro's LOGISTIC parameters (docs/int8.md, logistic): frexp(s_in 2^27) = (f, e),
// multiplier round(f 2^31), left shift e. Throws Error naming `layer` for an input scale outside
// [2^-28, 16) (a shift outside [0, 31], which TFLite cannot represent either).
piconas_logistic_params logistic_params(const TensorQuant& in, const std::string& layer);
// The quantization of every logistic output: s = 1/256, z = -128 (TFLite requires it).
TensorQuant logistic_output_quant(Shape3 shape);

// Flash bytes of the constants of a graph (same formula as constant_bytes, from shapes only).
int64_t constant_bytes(const Graph& graph);

}  // namespace piconas::nas::deploy
