#include "nas/deploy/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/int8/quantize_multiplier.h"

namespace piconas::nas::deploy {

namespace {

TensorQuant activation_quant(Shape3 shape, float lo, float hi) {
  TensorQuant q;
  q.shape = shape;
  q.range_min = lo;
  q.range_max = hi;
  const double mn = std::min<double>(lo, 0.0), mx = std::max<double>(hi, 0.0);
  double s = (mx - mn) / 255.0;
  if (!(s > 0.0)) s = 1.0 / 255.0;  // an all-zero tensor: any scale represents it exactly
  q.scale = static_cast<float>(s);
  const double zf = -128.0 - mn / static_cast<double>(q.scale);
  q.zero_point = static_cast<int32_t>(std::clamp(std::round(zf), -128.0, 127.0));
  return q;
}

std::pair<int32_t, int32_t> quantize_multiplier(double m, const std::string& layer) {
  int32_t mult = 0, shift = 0;
  PICONAS_CHECK(piconas_quantize_multiplier(m, &mult, &shift) == PICONAS_S8_OK,
                "deploy: layer '" << layer << "': multiplier " << m << " cannot be represented");
  return {mult, shift};
}

piconas_activation clamp_of(FusedActivation act, const TensorQuant& out) {
  switch (act) {
    case FusedActivation::None: return {-128, 127};
    case FusedActivation::ReLU: return {std::max(-128, out.zero_point), 127};
    case FusedActivation::ReLU6:
    case FusedActivation::HardSigmoid: {
      const double top = act == FusedActivation::ReLU6 ? 6.0 : 1.0;
      const int32_t six = static_cast<int32_t>(std::round(top / static_cast<double>(out.scale)));
      return {std::max(-128, out.zero_point),
              static_cast<int32_t>(std::min<int64_t>(127, int64_t{out.zero_point} + six))};
    }
  }
  return {-128, 127};
}

// Weights per output channel (symmetric), bias, multiplier and shift; the int8 filter layout.
void quantize_weights(const Layer& l, const TensorQuant& in, const TensorQuant& out, QLayer& q) {
  const int64_t out_c = out.shape.c;
  const int64_t per_out = static_cast<int64_t>(l.weight.size()) / out_c;  // I*K*K, K*K or I
  const int64_t kk = static_cast<int64_t>(l.kernel.h) * l.kernel.w;
  const int64_t macs = l.kind == LayerKind::Depthwise ? kk : per_out;
  PICONAS_CHECK(macs <= PICONAS_S8_MAX_MACS, "deploy: layer '" << l.name << "' has " << macs
                                                               << " MACs per output; the int32 "
                                                                  "accumulator allows at most "
                                                               << PICONAS_S8_MAX_MACS);
  const int64_t bias_limit = std::numeric_limits<int32_t>::max() - macs * PICONAS_S8_MAX_PRODUCT;
  q.weight.assign(l.weight.size(), 0);
  q.bias.resize(static_cast<size_t>(out_c));
  q.multiplier.resize(static_cast<size_t>(out_c));
  q.shift.resize(static_cast<size_t>(out_c));
  q.weight_scale.resize(static_cast<size_t>(out_c));
  for (int64_t c = 0; c < out_c; ++c) {
    const float* w = l.weight.data() + c * per_out;
    float max_abs = 0.0f;
    for (int64_t i = 0; i < per_out; ++i) max_abs = std::max(max_abs, std::fabs(w[i]));
    const float s = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    q.weight_scale[static_cast<size_t>(c)] = s;
    for (int64_t i = 0; i < per_out; ++i) {
      const auto v = static_cast<int8_t>(std::clamp(std::round(static_cast<double>(w[i]) / s), -127.0, 127.0));
      int64_t dst = c * per_out + i;  // FullyConnected on Cx1x1: [O, I] unchanged
      if (l.kind == LayerKind::FullyConnected) {  // [O, C, H, W] (NCHW flattening) -> [O, H, W, C]
        const int64_t hw = in.shape.h * in.shape.w, ci = i / hw, pixel = i % hw;
        dst = c * per_out + pixel * in.shape.c + ci;
      } else if (l.kind == LayerKind::Conv) {  // [O, I/G, KH, KW] -> [O, KH, KW, I/G]
        const int64_t ci = i / kk, k = i % kk, in_c = per_out / kk;
        dst = (c * kk + k) * in_c + ci;
      } else if (l.kind == LayerKind::Depthwise) {  // [C, 1, KH, KW] -> [1, KH, KW, C]
        dst = i * out_c + c;
      }
      q.weight[static_cast<size_t>(dst)] = v;
    }
    const double bias_scale = static_cast<double>(in.scale) * static_cast<double>(s);
    const double b = std::round(static_cast<double>(l.bias[static_cast<size_t>(c)]) / bias_scale);
    PICONAS_CHECK(std::fabs(b) <= static_cast<double>(bias_limit),
                  "deploy: layer '" << l.name << "' channel " << c << ": quantized bias " << b
                                    << " could overflow the int32 accumulator");
    q.bias[static_cast<size_t>(c)] = static_cast<int32_t>(b);
    auto [m, sh] = quantize_multiplier(bias_scale / static_cast<double>(out.scale), l.name);
    // MBQM shifts left before multiplying (modulo 2^32): keep the shifted accumulator in int32.
    PICONAS_CHECK(sh <= 0 || (std::fabs(b) + static_cast<double>(macs) * PICONAS_S8_MAX_PRODUCT) *
                                     std::ldexp(1.0, sh) <= static_cast<double>(std::numeric_limits<int32_t>::max()),
                  "deploy: layer '" << l.name << "' channel " << c << ": multiplier "
                                    << bias_scale / static_cast<double>(out.scale)
                                    << " needs a left shift that could overflow the accumulator");
    q.multiplier[static_cast<size_t>(c)] = m;
    q.shift[static_cast<size_t>(c)] = sh;
  }
}

piconas_add_params add_params(const TensorQuant& a, const TensorQuant& b, const TensorQuant& out,
                              const std::string& name) {
  piconas_add_params p{};
  p.left_shift = 20;
  const double s1 = a.scale, s2 = b.scale, so = out.scale;
  const double t = 2.0 * std::max(s1, s2);
  std::tie(p.input1_multiplier, p.input1_shift) = quantize_multiplier(s1 / t, name);
  std::tie(p.input2_multiplier, p.input2_shift) = quantize_multiplier(s2 / t, name);
  std::tie(p.output_multiplier, p.output_shift) =
      quantize_multiplier(t / (static_cast<double>(1 << 20) * so), name);
  p.input1_offset = -a.zero_point;
  p.input2_offset = -b.zero_point;
  p.output_offset = out.zero_point;
  p.activation = {-128, 127};
  return p;
}

piconas_channel_mul_params channel_mul_params(const TensorQuant& x, const TensorQuant& gate,
                                              const TensorQuant& out, const std::string& name) {
  piconas_channel_mul_params p{};
  p.input1_offset = -x.zero_point;
  p.input2_offset = -gate.zero_point;
  p.output_offset = out.zero_point;
  std::tie(p.multiplier, p.shift) = quantize_multiplier(
      static_cast<double>(x.scale) * static_cast<double>(gate.scale) / static_cast<double>(out.scale),
      name);
  p.activation = {-128, 127};
  PICONAS_CHECK(piconas_channel_mul_s8_check(&p, 0, 0) == PICONAS_S8_OK,
                "deploy: layer '" << name << "': channel multiply shift " << p.shift
                                  << " out of the kernel's range [-31, 15]");
  return p;
}

piconas_mul_params mul_params(const TensorQuant& a, const TensorQuant& b, const TensorQuant& out,
                              const std::string& name) {
  piconas_mul_params p{};
  p.input1_offset = -a.zero_point;
  p.input2_offset = -b.zero_point;
  p.output_offset = out.zero_point;
  const double m =
      static_cast<double>(a.scale) * static_cast<double>(b.scale) / static_cast<double>(out.scale);
  std::tie(p.multiplier, p.shift) = quantize_multiplier(m, name);
  p.activation = {-128, 127};
  PICONAS_CHECK(piconas_mul_s8_check(&p, 0) == PICONAS_S8_OK,
                "deploy: layer '" << name << "': multiplier " << m << " (shift " << p.shift
                                  << ") out of the mul kernel's range (shift [-31, 15])");
  return p;
}

// TFLite's rounding of a Q31 multiplier to Q15 (DownScaleInt32ToInt16Multiplier).
int32_t q15_multiplier(int32_t m32) {
  if (m32 >= std::numeric_limits<int32_t>::max() - (1 << 15)) return 32767;
  return (m32 + (1 << 15)) >> 16;
}

}  // namespace

piconas_hardswish_params hardswish_params(const TensorQuant& in, const TensorQuant& out,
                                          const std::string& layer) {
  // In float, as TFLite's Prepare: the multipliers then match TFLite's bit for bit.
  const float hires = (1.0f / 128.0f) * in.scale;
  const float output_multiplier = hires / out.scale;
  const float reluish_multiplier = hires / (3.0f / 32768.0f);
  piconas_hardswish_params p{};
  p.input_offset = -in.zero_point;
  p.output_offset = out.zero_point;
  auto [om, os] = quantize_multiplier(output_multiplier, layer);
  auto [rm, rs] = quantize_multiplier(reluish_multiplier, layer);
  p.output_multiplier = q15_multiplier(om);
  p.output_shift = os;
  p.reluish_multiplier = q15_multiplier(rm);
  p.reluish_shift = rs;
  PICONAS_CHECK(piconas_hardswish_s8_check(&p, 0) == PICONAS_S8_OK,
                "deploy: layer '" << layer << "': hard-swish shifts (output " << os << ", reluish "
                                  << rs << ") out of the kernel's range (output [-15, 0], reluish "
                                     "[-15, 15]): input scale " << in.scale << ", output scale "
                                  << out.scale);
  return p;
}

piconas_logistic_params logistic_params(const TensorQuant& in, const std::string& layer) {
  // In double, as TFLite-Micro's Prepare; f 2^31 is an integer for a float scale (logistic_s8.h).
  int exponent = 0;
  const double fraction =
      std::frexp(static_cast<double>(in.scale) * static_cast<double>(1 << 27), &exponent);
  piconas_logistic_params p{};
  p.input_zero_point = in.zero_point;
  p.input_multiplier = static_cast<int32_t>(
      std::min(std::round(fraction * 2147483648.0), 2147483647.0));
  p.input_left_shift = exponent;
  PICONAS_CHECK(piconas_logistic_s8_check(&p) == PICONAS_S8_OK,
                "deploy: layer '" << layer << "': input scale " << in.scale
                                  << " out of the logistic kernel's range [2^-28, 16)");
  return p;
}

TensorQuant logistic_output_quant(Shape3 shape) {
  TensorQuant q;
  q.shape = shape;
  q.scale = 1.0f / 256.0f;
  q.zero_point = -128;
  q.range_min = 0.0f;
  q.range_max = 1.0f;
  return q;
}

int64_t QuantizedModel::constant_bytes() const {
  int64_t bytes = 0;
  for (const QLayer& l : layers)
    bytes += static_cast<int64_t>(l.weight.size() + l.table.size()) +
             4 * static_cast<int64_t>(l.bias.size() + l.multiplier.size() + l.shift.size());
  return bytes;
}

int64_t constant_bytes(const Graph& graph) {
  int64_t bytes = 0;
  for (const Layer& l : graph.layers) {
    const Shape3 in = graph.tensors[static_cast<size_t>(l.input)];
    const int64_t out_c = graph.tensors[static_cast<size_t>(l.output)].c;
    const int64_t kk = static_cast<int64_t>(l.kernel.h) * l.kernel.w;
    switch (l.kind) {
      case LayerKind::Conv: bytes += out_c * (in.c / l.groups) * kk + 12 * out_c; break;
      case LayerKind::Depthwise: bytes += out_c * kk + 12 * out_c; break;
      case LayerKind::FullyConnected: bytes += out_c * in.c * in.h * in.w + 12 * out_c; break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::Add:
      case LayerKind::GlobalAvgPool:
      case LayerKind::Hardswish:
      case LayerKind::ChannelMul:
      case LayerKind::Mul: break;
      case LayerKind::Logistic: bytes += 256; break;
      case LayerKind::Input:
      case LayerKind::BatchNorm:
      case LayerKind::LayerNorm:
      case LayerKind::Activation:
        unexpected_layer_kind(l.kind, "quantize");
    }
  }
  return bytes;
}

QuantizedModel quantize(const Graph& graph, const std::vector<std::pair<float, float>>& ranges,
                        const data::Normalization& normalization) {
  PICONAS_CHECK(ranges.size() == graph.tensors.size(),
                "quantize: " << ranges.size() << " ranges for " << graph.tensors.size() << " tensors");
  const Shape3 in = graph.tensors[0];
  normalization.validate(static_cast<int>(in.c));
  QuantizedModel m;
  m.tensors.resize(graph.tensors.size());
  float in_lo = INFINITY, in_hi = -INFINITY;
  for (int64_t c = 0; c < in.c; ++c) {
    const auto k = static_cast<size_t>(c);
    in_lo = std::min(in_lo, (0.0f - normalization.mean[k]) / normalization.std[k]);
    in_hi = std::max(in_hi, (1.0f - normalization.mean[k]) / normalization.std[k]);
  }
  m.tensors[0] = activation_quant(in, in_lo, in_hi);
  for (const Layer& l : graph.layers) {
    const auto out = static_cast<size_t>(l.output);
    if (l.kind == LayerKind::GlobalAvgPool || l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool) {
      m.tensors[out] = m.tensors[static_cast<size_t>(l.input)];
      m.tensors[out].shape = graph.tensors[out];
    } else if (l.activation == FusedActivation::HardSigmoid) {
      m.tensors[out] = activation_quant(graph.tensors[out], 0.0f, 1.0f);
    } else if (l.kind == LayerKind::Logistic) {
      m.tensors[out] = logistic_output_quant(graph.tensors[out]);
    } else {
      m.tensors[out] = activation_quant(graph.tensors[out], ranges[out].first, ranges[out].second);
    }
    QLayer q;
    q.kind = l.kind;
    q.name = l.name;
    q.input = l.input;
    q.input2 = l.input2;
    q.output = l.output;
    q.kernel = l.kernel;
    q.stride = l.stride;
    q.padding = l.padding;
    q.count_include_pad = l.count_include_pad;
    q.groups = l.groups;
    const TensorQuant& tin = m.tensors[static_cast<size_t>(l.input)];
    q.activation = clamp_of(l.activation, m.tensors[out]);
    if (l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise || l.kind == LayerKind::FullyConnected) {
      PICONAS_CHECK(!l.weight.empty(), "quantize: layer '" << l.name << "' has no weights");
      quantize_weights(l, tin, m.tensors[out], q);
    } else if (l.kind == LayerKind::Add) {
      q.add = add_params(tin, m.tensors[static_cast<size_t>(l.input2)], m.tensors[out], l.name);
    } else if (l.kind == LayerKind::Hardswish) {
      q.hardswish = hardswish_params(tin, m.tensors[out], l.name);
    } else if (l.kind == LayerKind::ChannelMul) {
      q.channel_mul = channel_mul_params(tin, m.tensors[static_cast<size_t>(l.input2)],
                                         m.tensors[out], l.name);
    } else if (l.kind == LayerKind::Mul) {
      q.mul = mul_params(tin, m.tensors[static_cast<size_t>(l.input2)], m.tensors[out], l.name);
      q.mul.activation = q.activation;
    } else if (l.kind == LayerKind::Logistic) {
      q.logistic = logistic_params(tin, l.name);
      q.table.assign(256, 0);
      PICONAS_CHECK(piconas_logistic_s8_table(&q.logistic, q.table.data()) == PICONAS_S8_OK,
                    "deploy: layer '" << l.name << "': logistic table");
    }
    m.layers.push_back(std::move(q));
  }
  return m;
}

QuantizedModel quantize_graph(const Graph& graph, const Tensor& calibration_images,
                              const data::Normalization& normalization,
                              const CalibrationOptions& options) {
  return quantize(graph, calibrate(graph, calibration_images, options), normalization);
}

namespace {
int8_t quantize_value(const TensorQuant& t, float x) {
  const double q = std::round(static_cast<double>(x) / static_cast<double>(t.scale)) + t.zero_point;
  return static_cast<int8_t>(std::clamp(q, -128.0, 127.0));
}
}  // namespace

std::vector<int8_t> input_lut(const TensorQuant& input, const data::Normalization& normalization) {
  normalization.validate(static_cast<int>(input.shape.c));
  std::vector<int8_t> lut(static_cast<size_t>(input.shape.c) * 256);
  for (size_t c = 0; c < static_cast<size_t>(input.shape.c); ++c)
    for (int v = 0; v < 256; ++v)
      lut[c * 256 + static_cast<size_t>(v)] = quantize_value(
          input, (static_cast<float>(v) / 255.0f - normalization.mean[c]) / normalization.std[c]);
  return lut;
}

std::vector<int8_t> to_nhwc_int8(const TensorQuant& input, const Tensor& images) {
  const Shape3 s = input.shape;
  PICONAS_CHECK(images.ndim() == 4 && images.dim(1) == s.c && images.dim(2) == s.h &&
                    images.dim(3) == s.w && images.dtype() == DType::F32,
                "to_nhwc_int8: images must be float32 [N, " << shape3_str(s) << "]");
  const int64_t n = images.dim(0), hw = s.h * s.w;
  std::vector<int8_t> out(static_cast<size_t>(images.numel()));
  const float* x = images.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t p = 0; p < hw; ++p)
        out[static_cast<size_t>((i * hw + p) * s.c + c)] = quantize_value(input, x[(i * s.c + c) * hw + p]);
  return out;
}

}  // namespace piconas::nas::deploy
